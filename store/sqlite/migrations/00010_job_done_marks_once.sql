-- A job turning DONE marks its execution dirty only if it is not dirty
-- already. SQLite rewrites a whole row on UPDATE, the execution's document
-- with it: marking it on every job of a wide ForEach rewrote a document of
-- megabytes once per job. Now only the first result after each executor
-- claim writes the row; the others find it dirty and leave it.

-- +goose Up
-- +goose StatementBegin
DROP TRIGGER jobs_done_marks_execution;
CREATE TRIGGER jobs_done_marks_execution AFTER UPDATE OF state ON jobs
WHEN NEW.state = 'DONE' AND OLD.state <> 'DONE'
BEGIN
    UPDATE executions SET dirty = 1 WHERE id = NEW.execution_id AND dirty = 0;
END;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DROP TRIGGER jobs_done_marks_execution;
CREATE TRIGGER jobs_done_marks_execution AFTER UPDATE OF state ON jobs
WHEN NEW.state = 'DONE' AND OLD.state <> 'DONE'
BEGIN
    UPDATE executions SET dirty = 1 WHERE id = NEW.execution_id;
END;
-- +goose StatementEnd
