-- Namespaces' files (Kestra's namespace files). path is absolute and "/"
-- separated; directories are not rows, they are implied by the paths under
-- them. size is kept beside content so that listings need not read the
-- content. created and updated are Unix microseconds.

-- +goose Up
CREATE TABLE files (
    tenant_id TEXT    NOT NULL DEFAULT '',
    namespace TEXT    NOT NULL,
    path      TEXT    NOT NULL,
    content   BLOB    NOT NULL,
    size      INTEGER NOT NULL,
    created   INTEGER NOT NULL,
    updated   INTEGER NOT NULL,
    PRIMARY KEY (namespace, path)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE files;
