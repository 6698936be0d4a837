-- Namespaces' key-value entries (Kestra's KV store). value is JSON rather
-- than JSONB: the store never looks inside it, JSON keeps the text exactly
-- as written (key order, number spelling) and, unlike JSONB, accepts the
-- \u0000 escape that the SQLite driver accepts too. expires is NULL for
-- entries that never expire; an expired row stays until it is overwritten
-- or deleted, since reads compare expires with the store's clock.

-- +goose Up
CREATE TABLE kv (
    tenant_id   TEXT        NOT NULL DEFAULT '',
    namespace   TEXT COLLATE "C" NOT NULL,
    key         TEXT COLLATE "C" NOT NULL,
    type        TEXT        NOT NULL,
    value       JSON        NOT NULL,
    description TEXT        NOT NULL DEFAULT '',
    expires     TIMESTAMPTZ,
    created     TIMESTAMPTZ NOT NULL,
    updated     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (namespace, key)
);

-- +goose Down
DROP TABLE kv;
