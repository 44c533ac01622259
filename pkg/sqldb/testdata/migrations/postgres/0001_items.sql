-- A tiny schema for pkg/sqldb's own tests.
CREATE TABLE items (
    id   BIGINT NOT NULL PRIMARY KEY,
    name TEXT   NOT NULL UNIQUE,
    note TEXT   NOT NULL DEFAULT ''
);
