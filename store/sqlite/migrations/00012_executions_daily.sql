-- The dashboard's counts by day and state (ExecutionStore.Daily) read this
-- covering index over the window rather than the executions' rows, whose
-- documents make them large: the cost follows the window's executions,
-- not the size of what each one holds.

-- +goose Up
CREATE INDEX executions_daily ON executions (start_date, state, namespace, flow_id);

-- +goose Down
DROP INDEX executions_daily;
