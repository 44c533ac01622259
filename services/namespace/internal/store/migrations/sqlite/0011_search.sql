-- Schema v11 (SQLite): the search index and the legacy search ids (SMH API section 8,
-- docs/search.md).
--
-- node_names indexes the names of live rows (deleted_at IS NULL) with FTS5's trigram tokenizer:
-- a keyword of three characters or more is a phrase query that finds every name holding it as a
-- substring, case-folded (FTS5 folds Unicode case; diacritics are kept). It is an external-content
-- table over nodes, so it stores only the index; the triggers below keep it in the transaction
-- of every name change, delete mark, restore and row removal, so a search sees exactly the
-- committed tree. Descendants of a deleted directory stay indexed (their own rows are live);
-- the search drops them by walking each hit's ancestor chain (store/search.go).
CREATE VIRTUAL TABLE node_names USING fts5(name, content='nodes', content_rowid='inode', tokenize='trigram');

INSERT INTO node_names (rowid, name) SELECT inode, name FROM nodes WHERE deleted_at IS NULL;

CREATE TRIGGER node_names_insert AFTER INSERT ON nodes WHEN new.deleted_at IS NULL BEGIN
    INSERT INTO node_names (rowid, name) VALUES (new.inode, new.name);
END;

-- An external-content index must be told the old value to forget it: only rows it holds (live).
CREATE TRIGGER node_names_update AFTER UPDATE OF name, deleted_at ON nodes BEGIN
    INSERT INTO node_names (node_names, rowid, name) SELECT 'delete', old.inode, old.name WHERE old.deleted_at IS NULL;
    INSERT INTO node_names (rowid, name) SELECT new.inode, new.name WHERE new.deleted_at IS NULL;
END;

CREATE TRIGGER node_names_delete AFTER DELETE ON nodes WHEN old.deleted_at IS NULL BEGIN
    INSERT INTO node_names (node_names, rowid, name) VALUES ('delete', old.inode, old.name);
END;

-- Legacy asynchronous searches (8.1): the request, so any replica answers the next page; the
-- cleanup job removes rows past expires_at.
CREATE TABLE searches (
    id         TEXT    PRIMARY KEY,
    library_id TEXT    NOT NULL,
    space_id   TEXT    NOT NULL,
    request    TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    FOREIGN KEY (library_id, space_id) REFERENCES spaces (library_id, space_id) ON DELETE CASCADE
);
CREATE INDEX searches_by_expiry ON searches (expires_at);
