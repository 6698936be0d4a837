-- Task runs get their own rows. An execution's document held every task
-- run, so each executor step of a ForEach over n values rewrote n task
-- runs: O(n²) over the execution. Now executions.doc is the header (the
-- execution without taskRunList) and each task run is one row, written
-- only by the step that creates or changes it. pos keeps the list's order:
-- a new task run goes after every stored one of its execution.

-- +goose Up
CREATE TABLE task_runs (
    execution_id TEXT    NOT NULL,
    pos          INTEGER NOT NULL,
    id           TEXT    NOT NULL,
    doc          BLOB    NOT NULL,
    PRIMARY KEY (execution_id, pos)
) WITHOUT ROWID;
CREATE UNIQUE INDEX task_runs_id ON task_runs (execution_id, id);

-- Executions stored before: their task runs move out of the document.
INSERT INTO task_runs (execution_id, pos, id, doc)
SELECT e.id, CAST(t.key AS INTEGER), json_extract(t.value, '$.id'), CAST(t.value AS BLOB)
FROM executions AS e, json_each(CAST(e.doc AS TEXT), '$.taskRunList') AS t;
UPDATE executions SET doc = CAST(json_remove(CAST(doc AS TEXT), '$.taskRunList') AS BLOB)
WHERE json_type(CAST(doc AS TEXT), '$.taskRunList') IS NOT NULL;

-- +goose Down
UPDATE executions SET doc = CAST(json_set(CAST(doc AS TEXT), '$.taskRunList', json((
    SELECT json_group_array(json(CAST(t.doc AS TEXT))) FROM (
        SELECT doc FROM task_runs WHERE execution_id = executions.id ORDER BY pos) AS t)))
    AS BLOB)
WHERE EXISTS (SELECT 1 FROM task_runs WHERE execution_id = executions.id);
DROP TABLE task_runs;
