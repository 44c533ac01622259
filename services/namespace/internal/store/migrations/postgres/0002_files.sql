-- Schema v2 (PostgreSQL): file entries. Mirrors migrations/sqlite/0002_files.sql; see the
-- comments there. blob_id compares in byte order like the other identifiers.
ALTER TABLE nodes ADD COLUMN blob_id text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE nodes ADD COLUMN link_target bigint;
ALTER TABLE nodes ADD COLUMN category text NOT NULL DEFAULT '';

CREATE INDEX nodes_by_blob ON nodes (blob_id) WHERE blob_id <> '';

CREATE INDEX nodes_by_link_target ON nodes (link_target) WHERE link_target IS NOT NULL;
