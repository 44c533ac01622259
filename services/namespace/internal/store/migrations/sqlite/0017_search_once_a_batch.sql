-- Schema v17 (SQLite): the search index (node_names, v11) is brought up to date once per write
-- transaction instead of at every change (docs/smallfiles.md "Search names, once a batch").
--
-- The writer runs each call of a group-commit batch in a savepoint, and FTS5 flushes the terms
-- it holds in memory to a new segment of the index at every savepoint: with the triggers of v11
-- writing to node_names, a batch of uploads wrote one tiny segment per file, and merged them
-- later, about 8% of a small upload's CPU. The triggers now record each change in
-- node_names_pending, an ordinary table (its rows are rolled back with a failed call's
-- savepoint like any other), and the store's batch end (sqldb.Options.SQLiteBatchEnd) applies
-- them to node_names in their order and empties it, in the same transaction, before its
-- COMMIT: readers still see exactly the committed tree.
CREATE TABLE node_names_pending (
    seq    INTEGER PRIMARY KEY,
    forget INTEGER NOT NULL, -- 1: take inode's old name out of the index; 0: add name
    inode  INTEGER NOT NULL,
    name   TEXT    NOT NULL
);

DROP TRIGGER node_names_insert;
DROP TRIGGER node_names_update;
DROP TRIGGER node_names_delete;

CREATE TRIGGER node_names_insert AFTER INSERT ON nodes WHEN new.deleted_at IS NULL BEGIN
    INSERT INTO node_names_pending (forget, inode, name) VALUES (0, new.inode, new.name);
END;

-- An external-content index must be told the old value to forget it: only rows it holds (live).
CREATE TRIGGER node_names_update AFTER UPDATE OF name, deleted_at ON nodes BEGIN
    INSERT INTO node_names_pending (forget, inode, name) SELECT 1, old.inode, old.name WHERE old.deleted_at IS NULL;
    INSERT INTO node_names_pending (forget, inode, name) SELECT 0, new.inode, new.name WHERE new.deleted_at IS NULL;
END;

CREATE TRIGGER node_names_delete AFTER DELETE ON nodes WHEN old.deleted_at IS NULL BEGIN
    INSERT INTO node_names_pending (forget, inode, name) VALUES (1, old.inode, old.name);
END;
