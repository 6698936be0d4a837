-- Namespace settings Osprey enforces (Kestra EE's Namespace): which other
-- namespaces may read a namespace's secrets. allowed is a JSON array of
-- namespace names; an empty array means no restriction.

-- +goose Up
CREATE TABLE namespaces (
    namespace TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    allowed   JSONB       NOT NULL,
    updated   TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE namespaces;
