-- Text that is sorted or range-scanned uses COLLATE "C" (byte order), so
-- ordering and namespace-prefix ranges do not depend on the server locale.

-- +goose Up
CREATE TABLE flows (
    namespace TEXT COLLATE "C" NOT NULL,
    id        TEXT COLLATE "C" NOT NULL,
    revision  INTEGER     NOT NULL,
    tenant_id TEXT        NOT NULL DEFAULT '',
    source    TEXT        NOT NULL,
    deleted   BOOLEAN     NOT NULL DEFAULT false,
    latest    BOOLEAN     NOT NULL DEFAULT true,
    updated   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (namespace, id, revision)
);
-- One row per flow: the head revision, which Search and Get(rev 0) read.
CREATE UNIQUE INDEX flows_latest ON flows (namespace, id) WHERE latest;

CREATE TABLE executions (
    id          TEXT PRIMARY KEY,
    namespace   TEXT COLLATE "C" NOT NULL,
    flow_id     TEXT COLLATE "C" NOT NULL,
    state       TEXT        NOT NULL,
    start_date  TIMESTAMPTZ NOT NULL,
    labels      JSONB       NOT NULL DEFAULT '[]',
    parent_id   TEXT        NOT NULL DEFAULT '',
    doc         BYTEA       NOT NULL, -- JSON of flow.Execution, kept verbatim
    version     BIGINT      NOT NULL,
    dirty       BOOLEAN     NOT NULL DEFAULT true,
    wake_at     TIMESTAMPTZ,
    lease_owner TEXT,
    lease_until TIMESTAMPTZ
);
CREATE INDEX executions_start ON executions (start_date DESC, id DESC);
CREATE INDEX executions_flow ON executions (namespace, flow_id, start_date DESC);
CREATE INDEX executions_state ON executions (flow_id, state);
CREATE INDEX executions_parent ON executions (parent_id) WHERE parent_id <> '';
CREATE INDEX executions_labels ON executions USING GIN (labels jsonb_path_ops);
-- Only executions the executor may have to look at are indexed, so the claim
-- scans a handful of rows however many finished executions the table holds.
CREATE INDEX executions_claimable ON executions (id)
    WHERE dirty OR wake_at IS NOT NULL OR lease_owner IS NOT NULL;

CREATE TABLE jobs (
    seq          BIGSERIAL PRIMARY KEY,
    id           TEXT        NOT NULL UNIQUE,
    execution_id TEXT        NOT NULL,
    task_run_id  TEXT        NOT NULL,
    attempt      INTEGER     NOT NULL,
    payload      BYTEA,
    state        TEXT        NOT NULL,
    owner        TEXT        NOT NULL DEFAULT '',
    lease_until  TIMESTAMPTZ,
    cancel       BOOLEAN     NOT NULL DEFAULT false,
    result       BYTEA,
    created      TIMESTAMPTZ NOT NULL
);
CREATE INDEX jobs_queued ON jobs (created, seq) WHERE state = 'QUEUED';
CREATE INDEX jobs_running ON jobs (lease_until) WHERE state = 'RUNNING';
CREATE INDEX jobs_execution ON jobs (execution_id, state);

CREATE TABLE logs (
    seq            BIGSERIAL PRIMARY KEY,
    execution_id   TEXT        NOT NULL,
    tenant_id      TEXT        NOT NULL DEFAULT '',
    namespace      TEXT        NOT NULL,
    flow_id        TEXT        NOT NULL,
    task_id        TEXT        NOT NULL DEFAULT '',
    task_run_id    TEXT        NOT NULL DEFAULT '',
    attempt_number INTEGER     NOT NULL DEFAULT 0,
    trigger_id     TEXT        NOT NULL DEFAULT '',
    ts             TIMESTAMPTZ NOT NULL,
    level          TEXT        NOT NULL,
    level_num      SMALLINT    NOT NULL,
    thread         TEXT        NOT NULL DEFAULT '',
    message        TEXT        NOT NULL
);
CREATE INDEX logs_execution ON logs (execution_id, seq);

CREATE TABLE triggers (
    namespace  TEXT COLLATE "C" NOT NULL,
    flow_id    TEXT COLLATE "C" NOT NULL,
    trigger_id TEXT COLLATE "C" NOT NULL,
    next       TIMESTAMPTZ,
    last       TIMESTAMPTZ,
    disabled   BOOLEAN     NOT NULL DEFAULT false,
    data       BYTEA,
    updated    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (namespace, flow_id, trigger_id)
);

CREATE TABLE secrets (
    namespace   TEXT COLLATE "C" NOT NULL,
    key         TEXT COLLATE "C" NOT NULL,
    tenant_id   TEXT        NOT NULL DEFAULT '',
    ciphertext  BYTEA       NOT NULL,
    description TEXT        NOT NULL DEFAULT '',
    tags        JSONB       NOT NULL DEFAULT '{}',
    updated     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (namespace, key)
);

-- +goose Down
DROP TABLE secrets;
DROP TABLE triggers;
DROP TABLE logs;
DROP TABLE jobs;
DROP TABLE executions;
DROP TABLE flows;
