-- Namespaces' files (Kestra's namespace files). path is absolute and "/"
-- separated; directories are not rows, they are implied by the paths under
-- them. size is kept beside content so that listings need not read the
-- content, which PostgreSQL may have TOASTed out of line. path is COLLATE
-- "C" so listings come in byte order, as in the SQLite driver.

-- +goose Up
CREATE TABLE files (
    tenant_id TEXT        NOT NULL DEFAULT '',
    namespace TEXT COLLATE "C" NOT NULL,
    path      TEXT COLLATE "C" NOT NULL,
    content   BYTEA       NOT NULL,
    size      BIGINT      NOT NULL,
    created   TIMESTAMPTZ NOT NULL,
    updated   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (namespace, path)
);

-- +goose Down
DROP TABLE files;
