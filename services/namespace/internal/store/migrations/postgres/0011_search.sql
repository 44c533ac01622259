-- Schema v11 (PostgreSQL): the search index and the legacy search ids (SMH API section 8,
-- docs/search.md).
--
-- A pg_trgm GIN index over the case-folded names of live rows answers a substring keyword
-- (LIKE '%kw%') of three characters or more from the index; shorter ones are still correct, read
-- through the index's full scan or the space's rows. An index is part of every transaction that
-- writes nodes, so a rename, delete or restore is seen at once. lower() under the database's
-- default collation folds more than ASCII on a UTF-8 locale; name itself is COLLATE "C".
--
-- The extension needs a role allowed to create it (a superuser, or the database owner for a
-- trusted extension such as pg_trgm on PostgreSQL 13+); an operator may create it beforehand.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX nodes_name_trgm ON nodes USING gin (lower(name COLLATE "default") gin_trgm_ops)
    WHERE deleted_at IS NULL;

-- Legacy asynchronous searches (8.1): the request, so any replica answers the next page; the
-- cleanup job removes rows past expires_at.
CREATE TABLE searches (
    id         text   PRIMARY KEY,
    library_id text   NOT NULL,
    space_id   text   COLLATE "C" NOT NULL,
    request    text   NOT NULL,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL,
    FOREIGN KEY (library_id, space_id) REFERENCES spaces (library_id, space_id) ON DELETE CASCADE
);
CREATE INDEX searches_by_expiry ON searches (expires_at);
