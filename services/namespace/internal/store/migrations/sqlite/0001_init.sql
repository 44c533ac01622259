-- Schema v1 of the namespace store (SQLite). Times are integer Unix milliseconds in UTC: they sort
-- correctly, compare cheaply and read the same on both engines. Text compares with BINARY
-- collation (byte order), which matches COLLATE "C" on PostgreSQL, so listings agree.

CREATE TABLE spaces (
    library_id        TEXT    NOT NULL,
    space_id          TEXT    NOT NULL,
    user_id           TEXT    NOT NULL DEFAULT '',
    created_at        INTEGER NOT NULL,
    -- SpaceExtension as JSON (2.5/2.6); new settings need no migration.
    extension         TEXT    NOT NULL DEFAULT '{}',
    -- Per-space counters (2.7, 2.10 file-count), kept in the transactions that change the tree.
    size              INTEGER NOT NULL DEFAULT 0,
    file_num          INTEGER NOT NULL DEFAULT 0,
    dir_num           INTEGER NOT NULL DEFAULT 0,
    recycled_file_num INTEGER NOT NULL DEFAULT 0,
    recycled_dir_num  INTEGER NOT NULL DEFAULT 0,
    history_file_num  INTEGER NOT NULL DEFAULT 0,
    -- The root directory (inode 0) is not a row of nodes; its listing attributes live here.
    root_modified_at  INTEGER NOT NULL,
    root_child_dirs   INTEGER NOT NULL DEFAULT 0,
    root_child_files  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (library_id, space_id)
);

-- Non-admin space listings filter on the creator (2.3).
CREATE INDEX spaces_by_user ON spaces (library_id, user_id, space_id);

CREATE TABLE nodes (
    -- AUTOINCREMENT: an inode is never reused after deletion, because favorites, history and
    -- recycle-bin records refer to it.
    inode          INTEGER PRIMARY KEY AUTOINCREMENT,
    library_id     TEXT    NOT NULL,
    space_id       TEXT    NOT NULL,
    parent_inode   INTEGER NOT NULL, -- 0 = the space root
    name           TEXT    NOT NULL,
    type           TEXT    NOT NULL,
    is_dir         INTEGER NOT NULL, -- 1 for type 'dir'; the leading key of the listing indexes
    user_id        TEXT    NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    modified_at    INTEGER NOT NULL,
    local_created  TEXT    NOT NULL DEFAULT '',
    local_modified TEXT    NOT NULL DEFAULT '',
    size           INTEGER NOT NULL DEFAULT 0,
    content_type   TEXT    NOT NULL DEFAULT '',
    etag           TEXT    NOT NULL DEFAULT '',
    crc64          TEXT    NOT NULL DEFAULT '',
    metadata       TEXT    NOT NULL DEFAULT '{}',
    labels         TEXT    NOT NULL DEFAULT '[]',
    -- Live direct children, so a listing page answers fileCount/subDirCount without counting.
    child_dirs     INTEGER NOT NULL DEFAULT 0,
    child_files    INTEGER NOT NULL DEFAULT 0,
    -- Soft deletion: NULL while live. deleted_root is the inode whose deletion took this row, so
    -- a later recycle bin can restore or purge a deleted subtree as one item.
    deleted_at     INTEGER,
    deleted_root   INTEGER,
    FOREIGN KEY (library_id, space_id) REFERENCES spaces (library_id, space_id) ON DELETE CASCADE
);

-- One live entry per name in a directory; deleted rows keep their names without blocking reuse.
CREATE UNIQUE INDEX nodes_live_name ON nodes (library_id, space_id, parent_inode, name)
    WHERE deleted_at IS NULL;

-- Keyset listing (4.2): one index per order key, grouped by is_dir so "directories first" and
-- union listings are index range scans at any depth of a large directory.
CREATE INDEX nodes_list_name ON nodes (library_id, space_id, parent_inode, is_dir, name, inode)
    WHERE deleted_at IS NULL;
CREATE INDEX nodes_list_mtime ON nodes (library_id, space_id, parent_inode, is_dir, modified_at, inode)
    WHERE deleted_at IS NULL;
CREATE INDEX nodes_list_size ON nodes (library_id, space_id, parent_inode, is_dir, size, inode)
    WHERE deleted_at IS NULL;
CREATE INDEX nodes_list_ctime ON nodes (library_id, space_id, parent_inode, is_dir, created_at, inode)
    WHERE deleted_at IS NULL;
CREATE INDEX nodes_list_local_ctime ON nodes (library_id, space_id, parent_inode, is_dir, local_created, inode)
    WHERE deleted_at IS NULL;
CREATE INDEX nodes_list_local_mtime ON nodes (library_id, space_id, parent_inode, is_dir, local_modified, inode)
    WHERE deleted_at IS NULL;

-- Deleted rows by the deletion that took them (recycle bin restore, purge).
CREATE INDEX nodes_deleted ON nodes (deleted_root) WHERE deleted_at IS NOT NULL;

-- Space and library deletion (and the cascade) reach every row, live or deleted.
CREATE INDEX nodes_by_space ON nodes (library_id, space_id);
