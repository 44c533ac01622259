-- Schema v6 (SQLite): the data lifecycle (docs/lifecycle.md): subtree totals, the recycle bin,
-- the purge queue and the history columns of a file.
--
-- tree_size, tree_files, tree_dirs: what a directory holds below it (live descendants: bytes of
--   files, files with symlinks, directories), kept by every write on the directory and its
--   ancestors. They make a delete to the bin, a permanent delete and a restore O(depth) whatever
--   the subtree's size: the counters move by the top entry's totals without counting.
-- version, creation_way, latest_at: the history of a file's current content (9.4): its version
--   number (1 for the first content), how it came (0 created, 1 updated, 2 restored from a
--   version) and when it became the latest (NULL = its creation).
ALTER TABLE nodes ADD COLUMN tree_size INTEGER NOT NULL DEFAULT 0;
ALTER TABLE nodes ADD COLUMN tree_files INTEGER NOT NULL DEFAULT 0;
ALTER TABLE nodes ADD COLUMN tree_dirs INTEGER NOT NULL DEFAULT 0;
ALTER TABLE nodes ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE nodes ADD COLUMN creation_way INTEGER NOT NULL DEFAULT 0;
ALTER TABLE nodes ADD COLUMN latest_at INTEGER;

-- Totals of the directories that exist already: every (ancestor, descendant) pair of the live
-- tree, summed per ancestor.
WITH RECURSIVE pairs(ancestor, node) AS (
    SELECT parent_inode, inode FROM nodes WHERE deleted_at IS NULL AND parent_inode <> 0
  UNION ALL
    SELECT n.parent_inode, pairs.node FROM pairs CROSS JOIN nodes n
    WHERE n.inode = pairs.ancestor AND n.parent_inode <> 0 AND n.deleted_at IS NULL
), totals(dir, size, files, dirs) AS (
    SELECT pairs.ancestor, SUM(CASE WHEN d.is_dir = 1 THEN 0 ELSE d.size END), SUM(1 - d.is_dir), SUM(d.is_dir)
    FROM pairs JOIN nodes d ON d.inode = pairs.node WHERE d.deleted_at IS NULL GROUP BY pairs.ancestor
)
UPDATE nodes SET tree_size = totals.size, tree_files = totals.files, tree_dirs = totals.dirs
FROM totals WHERE nodes.inode = totals.dir;

-- Bytes of the bin and of history versions, beside the live size: a space's usage is the sum.
ALTER TABLE spaces ADD COLUMN recycled_size INTEGER NOT NULL DEFAULT 0;
ALTER TABLE spaces ADD COLUMN history_size INTEGER NOT NULL DEFAULT 0;

-- The recycle bin (section 5): one row per deleted entry, a directory with its whole subtree.
-- The entry's own row stays in nodes, marked deleted (deleted_root = itself); its descendants are
-- untouched, unreachable while their top is deleted. name, type, modified_at and size repeat the
-- entry's so every listing order is an index range scan (keyset markers), however full the bin.
CREATE TABLE recycled_items (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    library_id    TEXT    NOT NULL,
    space_id      TEXT    NOT NULL,
    inode         INTEGER NOT NULL,
    name          TEXT    NOT NULL,
    type          TEXT    NOT NULL,
    modified_at   INTEGER NOT NULL,
    -- original_path: JSON array of the names of the entry's parents at deletion.
    original_path TEXT    NOT NULL,
    size          INTEGER NOT NULL,
    files         INTEGER NOT NULL,
    dirs          INTEGER NOT NULL,
    removed_at    INTEGER NOT NULL,
    expires_at    INTEGER,
    removed_by    TEXT    NOT NULL DEFAULT '',
    FOREIGN KEY (library_id, space_id) REFERENCES spaces (library_id, space_id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX recycled_by_inode ON recycled_items (inode);
CREATE INDEX recycled_by_removal ON recycled_items (library_id, space_id, removed_at, id);
CREATE INDEX recycled_by_name ON recycled_items (library_id, space_id, name, id);
CREATE INDEX recycled_by_mtime ON recycled_items (library_id, space_id, modified_at, id);
CREATE INDEX recycled_by_size ON recycled_items (library_id, space_id, size, id);
CREATE INDEX recycled_by_expiry ON recycled_items (expires_at) WHERE expires_at IS NOT NULL;

-- Entries deleted for good (a permanent delete, a purged bin item): their top row is marked
-- deleted at once; the purge job removes the subtree's rows later, deepest first, in batches.
CREATE TABLE purge_queue (
    inode      INTEGER PRIMARY KEY,
    library_id TEXT    NOT NULL,
    space_id   TEXT    NOT NULL,
    queued_at  INTEGER NOT NULL,
    FOREIGN KEY (library_id, space_id) REFERENCES spaces (library_id, space_id) ON DELETE CASCADE
);
CREATE INDEX purge_queue_by_time ON purge_queue (queued_at);

-- Rows deleted before this schema were all deleted for good, each row of a subtree marked:
-- queue their tops.
INSERT INTO purge_queue (inode, library_id, space_id, queued_at)
    SELECT inode, library_id, space_id, deleted_at FROM nodes
    WHERE deleted_at IS NOT NULL AND deleted_root = inode;

-- The live symlinks of a space: deleting a directory finds the links pointing into it.
CREATE INDEX nodes_links_by_space ON nodes (library_id, space_id)
    WHERE link_target IS NOT NULL AND deleted_at IS NULL;
