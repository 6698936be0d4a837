-- Runs of a job that ended with no result: lost counts every one (a lease
-- that ran out, or a stopping worker that handed the job back), expired
-- only the lease expiries, which bound a task that crashes its worker.

-- +goose Up
ALTER TABLE jobs ADD COLUMN lost INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN expired INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE jobs DROP COLUMN expired;
ALTER TABLE jobs DROP COLUMN lost;
