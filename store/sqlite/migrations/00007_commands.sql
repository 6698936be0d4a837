-- Commands: changes to an existing execution asked from outside the
-- executor (kill, resume, restart, …), applied by the executor in the
-- transaction that saves its step, which deletes them. payload is an
-- engine command as JSON; created is Unix microseconds.

-- +goose Up
CREATE TABLE commands (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    execution_id TEXT    NOT NULL,
    payload      BLOB    NOT NULL,
    created      INTEGER NOT NULL
);
CREATE INDEX commands_execution ON commands (execution_id, seq);

-- +goose Down
DROP TABLE commands;
