-- Namespace settings Osprey enforces (Kestra EE's Namespace): which other
-- namespaces may read a namespace's secrets. allowed is a JSON array of
-- namespace names; an empty array means no restriction.

-- +goose Up
CREATE TABLE namespaces (
    namespace TEXT    NOT NULL PRIMARY KEY,
    allowed   TEXT    NOT NULL,
    updated   INTEGER NOT NULL
) WITHOUT ROWID;

-- +goose Down
DROP TABLE namespaces;
