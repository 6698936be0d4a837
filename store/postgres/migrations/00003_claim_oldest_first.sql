-- Claims take the oldest executions first; ordering the partial index by
-- start date lets the claim read it in order and stop at its LIMIT.

-- +goose Up
DROP INDEX executions_claimable;
CREATE INDEX executions_claimable ON executions (start_date, id)
    WHERE dirty OR wake_at IS NOT NULL OR lease_owner IS NOT NULL;

-- +goose Down
DROP INDEX executions_claimable;
CREATE INDEX executions_claimable ON executions (id)
    WHERE dirty OR wake_at IS NOT NULL OR lease_owner IS NOT NULL;
