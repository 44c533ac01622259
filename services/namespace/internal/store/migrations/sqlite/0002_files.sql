-- Schema v2 (SQLite): file entries (SMH API section 3).
--   blob_id      the object service's blob holding a file's bytes; '' for directories and
--                symlinks. Soft-deleted rows keep it: they still reference the blob until they
--                are purged (the recycle bin will restore them), and ReferencedBlobs answers the
--                object service's garbage collection from live and deleted rows alike.
--   link_target  a symlink's target inode (always a file, never another symlink: a link to a
--                link points at the final target); NULL for everything else.
--   category     the client's category of a file (3.1 body, at most 16 bytes).
ALTER TABLE nodes ADD COLUMN blob_id TEXT NOT NULL DEFAULT '';
ALTER TABLE nodes ADD COLUMN link_target INTEGER;
ALTER TABLE nodes ADD COLUMN category TEXT NOT NULL DEFAULT '';

-- ReferencedBlobs: which of a batch of blobs any row still names.
CREATE INDEX nodes_by_blob ON nodes (blob_id) WHERE blob_id <> '';

-- Deleting (or overwriting by a move) a file reaches the symlinks that point at it.
CREATE INDEX nodes_by_link_target ON nodes (link_target) WHERE link_target IS NOT NULL;
