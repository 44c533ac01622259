-- Schema v7 (SQLite): history versions and library tasks (SMH API section 9, 7.2, 7.4;
-- docs/lifecycle.md "History versions").
--
-- file_versions: one row per kept content of a file. inode is the file the version belongs to
--   (it follows the file through renames and moves; a move replacing a file hands the replaced
--   file's versions to the moved one). The content columns repeat the node's; blob_id shares the
--   blob with the content it kept (no byte copy), so ReferencedBlobs asks this table too.
--   version is the content's number (9.4 "version"), creation_way how it came (0 created,
--   1 updated, 2 restored), created_by who made it, created_at when it was made, set_latest_at
--   when it became the latest, archived_at when it stopped being the latest (became a version),
--   expires_at when the cleanup job drops it (NULL = kept until deleted). Rows go with their space.
CREATE TABLE file_versions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    library_id    TEXT    NOT NULL,
    space_id      TEXT    NOT NULL,
    inode         INTEGER NOT NULL,
    version       INTEGER NOT NULL,
    type          TEXT    NOT NULL,
    size          INTEGER NOT NULL,
    content_type  TEXT    NOT NULL DEFAULT '',
    etag          TEXT    NOT NULL DEFAULT '',
    crc64         TEXT    NOT NULL DEFAULT '',
    blob_id       TEXT    NOT NULL,
    metadata      TEXT    NOT NULL DEFAULT '{}',
    created_by    TEXT    NOT NULL DEFAULT '',
    creation_way  INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    set_latest_at INTEGER NOT NULL,
    archived_at   INTEGER NOT NULL,
    expires_at    INTEGER,
    FOREIGN KEY (library_id, space_id) REFERENCES spaces (library_id, space_id) ON DELETE CASCADE
);
-- A file's versions by id (the default order, 9.4) and by creation time.
CREATE INDEX file_versions_by_inode ON file_versions (inode, id);
CREATE INDEX file_versions_by_ctime ON file_versions (inode, created_at, id);
-- The cleanup job's expiry scan.
CREATE INDEX file_versions_by_expiry ON file_versions (expires_at) WHERE expires_at IS NOT NULL;
-- ReferencedBlobs: a blob stays while a version names it.
CREATE INDEX file_versions_by_blob ON file_versions (blob_id);
-- Purging a library's versions (9.3).
CREATE INDEX file_versions_by_library ON file_versions (library_id, space_id);

-- Library-level tasks (7.2, 7.4): clearLibraryHistory (9.3) is the only type. result is the
-- typed result's JSON ({"status", "code", "deleteCount"}). created_at also rate-limits the purge
-- (one a minute per library, on every replica). Queryable for 30 days after finishing.
CREATE TABLE library_tasks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    library_id  TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    status      INTEGER NOT NULL,
    result      TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX library_tasks_by_library ON library_tasks (library_id, type, created_at);
CREATE INDEX library_tasks_by_finish ON library_tasks (finished_at);
