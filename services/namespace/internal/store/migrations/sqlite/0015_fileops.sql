-- Schema v15 (sqlite): issue 12 fileops (docs/fileops.md).
--
-- The flat contents view (2.10 getContentsView) lists a space's live entries of one kind
-- (is_dir) in one order, whatever their directory: one keyset index per order key, as
-- nodes_list_* are per directory. uploadTime reads created_at.
CREATE INDEX nodes_flat_name ON nodes (library_id, space_id, is_dir, name, inode) WHERE deleted_at IS NULL;
CREATE INDEX nodes_flat_mtime ON nodes (library_id, space_id, is_dir, modified_at, inode) WHERE deleted_at IS NULL;
CREATE INDEX nodes_flat_size ON nodes (library_id, space_id, is_dir, size, inode) WHERE deleted_at IS NULL;
CREATE INDEX nodes_flat_ctime ON nodes (library_id, space_id, is_dir, created_at, inode) WHERE deleted_at IS NULL;
CREATE INDEX nodes_flat_local_ctime ON nodes (library_id, space_id, is_dir, local_created, inode) WHERE deleted_at IS NULL;
CREATE INDEX nodes_flat_local_mtime ON nodes (library_id, space_id, is_dir, local_modified, inode) WHERE deleted_at IS NULL;

-- Directory stats calibration (4.9 calibrateDirectoryStats) is rate-limited per directory and
-- stats type: dir_key names them ("normal:<inode>", "recycle:<item>", ...), started_at is the
-- last start (Unix milliseconds). Rows go with their space.
CREATE TABLE stats_calibrations (
    library_id TEXT NOT NULL,
    space_id   TEXT NOT NULL,
    dir_key    TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    PRIMARY KEY (library_id, space_id, dir_key),
    FOREIGN KEY (library_id, space_id) REFERENCES spaces (library_id, space_id) ON DELETE CASCADE
);
