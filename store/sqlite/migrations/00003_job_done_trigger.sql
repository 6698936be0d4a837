-- A job turning DONE marks its execution dirty inside the same statement,
-- so Complete is one autocommit UPDATE instead of a three-call transaction.

-- +goose Up
-- +goose StatementBegin
CREATE TRIGGER jobs_done_marks_execution AFTER UPDATE OF state ON jobs
WHEN NEW.state = 'DONE' AND OLD.state <> 'DONE'
BEGIN
    UPDATE executions SET dirty = 1 WHERE id = NEW.execution_id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER jobs_done_marks_execution;
