-- Namespaces' key-value entries (Kestra's KV store). value is the entry's
-- JSON text as given; expires is NULL for entries that never expire. An
-- expired row stays until it is overwritten or deleted: reads compare
-- expires with the store's clock, so expiry needs no sweeper.

-- +goose Up
CREATE TABLE kv (
    tenant_id   TEXT    NOT NULL DEFAULT '',
    namespace   TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    value       TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    expires     INTEGER,
    created     INTEGER NOT NULL,
    updated     INTEGER NOT NULL,
    PRIMARY KEY (namespace, key)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE kv;
