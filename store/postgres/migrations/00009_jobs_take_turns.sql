-- Jobs take turns across executions: a job's turn is its position among
-- the jobs its executor step queued, and claims go by turn before age. A
-- ForEach that queues 10,000 jobs at once no longer holds every worker
-- thread until its last one: the first job of any other execution, queued
-- later, is claimed before that ForEach's second.

-- +goose Up
ALTER TABLE jobs ADD COLUMN turn INTEGER NOT NULL DEFAULT 0;
DROP INDEX jobs_queued;
CREATE INDEX jobs_queued ON jobs (turn, created, seq) WHERE state = 'QUEUED';

-- +goose Down
DROP INDEX jobs_queued;
CREATE INDEX jobs_queued ON jobs (created, seq) WHERE state = 'QUEUED';
ALTER TABLE jobs DROP COLUMN turn;
