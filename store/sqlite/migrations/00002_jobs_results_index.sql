-- Results reads only DONE jobs; indexing just those spares the index a
-- rewrite at enqueue and at claim, two of the three writes of a job's life.

-- +goose Up
DROP INDEX jobs_execution;
CREATE INDEX jobs_results ON jobs (execution_id, seq) WHERE state = 'DONE';

-- +goose Down
DROP INDEX jobs_results;
CREATE INDEX jobs_execution ON jobs (execution_id, state);
