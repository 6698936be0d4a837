-- Task runs get their own rows. An execution's document held every task
-- run, so each executor step of a ForEach over n values rewrote n task
-- runs: O(n²) over the execution. Now executions.doc is the header (the
-- execution without taskRunList) and each task run is one row, written
-- only by the step that creates or changes it. pos keeps the list's order:
-- a new task run goes after every stored one of its execution.

-- +goose Up
CREATE TABLE task_runs (
    execution_id TEXT   NOT NULL,
    pos          BIGINT NOT NULL,
    id           TEXT   NOT NULL,
    doc          BYTEA  NOT NULL, -- JSON of flow.TaskRun, kept verbatim
    PRIMARY KEY (execution_id, pos)
);
CREATE UNIQUE INDEX task_runs_id ON task_runs (execution_id, id);

-- Executions stored before: their task runs move out of the document.
INSERT INTO task_runs (execution_id, pos, id, doc)
SELECT e.id, t.n - 1, t.value ->> 'id', convert_to(t.value::text, 'UTF8')
FROM executions AS e,
     jsonb_array_elements(convert_from(e.doc, 'UTF8')::jsonb -> 'taskRunList') WITH ORDINALITY AS t(value, n)
WHERE jsonb_typeof(convert_from(e.doc, 'UTF8')::jsonb -> 'taskRunList') = 'array';
UPDATE executions SET doc = convert_to((convert_from(doc, 'UTF8')::jsonb - 'taskRunList')::text, 'UTF8')
WHERE convert_from(doc, 'UTF8')::jsonb ? 'taskRunList';

-- +goose Down
UPDATE executions AS e SET doc = convert_to(jsonb_set(convert_from(e.doc, 'UTF8')::jsonb, '{taskRunList}',
    (SELECT jsonb_agg(convert_from(t.doc, 'UTF8')::jsonb ORDER BY t.pos) FROM task_runs AS t WHERE t.execution_id = e.id))::text, 'UTF8')
WHERE EXISTS (SELECT 1 FROM task_runs AS t WHERE t.execution_id = e.id);
DROP TABLE task_runs;
