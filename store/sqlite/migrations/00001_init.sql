-- Times are INTEGER microseconds since the Unix epoch (UTC): compact, exact
-- and cheap to compare in the claim indexes.

-- +goose Up
CREATE TABLE flows (
    namespace TEXT    NOT NULL,
    id        TEXT    NOT NULL,
    revision  INTEGER NOT NULL,
    tenant_id TEXT    NOT NULL DEFAULT '',
    source    TEXT    NOT NULL,
    deleted   INTEGER NOT NULL DEFAULT 0,
    latest    INTEGER NOT NULL DEFAULT 1,
    updated   INTEGER NOT NULL,
    PRIMARY KEY (namespace, id, revision)
) WITHOUT ROWID;
-- One row per flow: the head revision, which Search and Get(rev 0) read.
CREATE UNIQUE INDEX flows_latest ON flows (namespace, id) WHERE latest = 1;

CREATE TABLE executions (
    id          TEXT    PRIMARY KEY,
    namespace   TEXT    NOT NULL,
    flow_id     TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    start_date  INTEGER NOT NULL,
    labels      TEXT    NOT NULL DEFAULT '[]',
    parent_id   TEXT    NOT NULL DEFAULT '',
    doc         BLOB    NOT NULL,
    version     INTEGER NOT NULL,
    dirty       INTEGER NOT NULL DEFAULT 1,
    wake_at     INTEGER,
    lease_owner TEXT,
    lease_until INTEGER
);
CREATE INDEX executions_start ON executions (start_date DESC, id DESC);
CREATE INDEX executions_flow ON executions (namespace, flow_id, start_date DESC);
CREATE INDEX executions_state ON executions (flow_id, state);
CREATE INDEX executions_parent ON executions (parent_id) WHERE parent_id <> '';
-- Only executions the executor may have to look at are indexed, so the claim
-- scans a handful of rows however many finished executions the table holds.
CREATE INDEX executions_claimable ON executions (id)
    WHERE dirty = 1 OR wake_at IS NOT NULL OR lease_owner IS NOT NULL;

CREATE TABLE jobs (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT    NOT NULL UNIQUE,
    execution_id TEXT    NOT NULL,
    task_run_id  TEXT    NOT NULL,
    attempt      INTEGER NOT NULL,
    payload      BLOB,
    state        TEXT    NOT NULL,
    owner        TEXT    NOT NULL DEFAULT '',
    lease_until  INTEGER,
    cancel       INTEGER NOT NULL DEFAULT 0,
    result       BLOB,
    created      INTEGER NOT NULL
);
CREATE INDEX jobs_queued ON jobs (created, seq) WHERE state = 'QUEUED';
CREATE INDEX jobs_running ON jobs (lease_until) WHERE state = 'RUNNING';
CREATE INDEX jobs_execution ON jobs (execution_id, state);

CREATE TABLE logs (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    execution_id   TEXT    NOT NULL,
    tenant_id      TEXT    NOT NULL DEFAULT '',
    namespace      TEXT    NOT NULL,
    flow_id        TEXT    NOT NULL,
    task_id        TEXT    NOT NULL DEFAULT '',
    task_run_id    TEXT    NOT NULL DEFAULT '',
    attempt_number INTEGER NOT NULL DEFAULT 0,
    trigger_id     TEXT    NOT NULL DEFAULT '',
    ts             INTEGER NOT NULL,
    level          TEXT    NOT NULL,
    level_num      INTEGER NOT NULL,
    thread         TEXT    NOT NULL DEFAULT '',
    message        TEXT    NOT NULL
);
CREATE INDEX logs_execution ON logs (execution_id, seq);

CREATE TABLE triggers (
    namespace  TEXT    NOT NULL,
    flow_id    TEXT    NOT NULL,
    trigger_id TEXT    NOT NULL,
    next       INTEGER,
    last       INTEGER,
    disabled   INTEGER NOT NULL DEFAULT 0,
    data       BLOB,
    updated    INTEGER NOT NULL,
    PRIMARY KEY (namespace, flow_id, trigger_id)
) WITHOUT ROWID;

CREATE TABLE secrets (
    namespace   TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    tenant_id   TEXT    NOT NULL DEFAULT '',
    ciphertext  BLOB    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    tags        TEXT    NOT NULL DEFAULT '{}',
    updated     INTEGER NOT NULL,
    PRIMARY KEY (namespace, key)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE secrets;
DROP TABLE triggers;
DROP TABLE logs;
DROP TABLE jobs;
DROP TABLE executions;
DROP TABLE flows;
