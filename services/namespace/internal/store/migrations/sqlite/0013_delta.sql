-- Schema v13 (SQLite): the change feed of a space (SMH API 3.18, docs/changefeed.md).
--
-- spaces.delta_seq is the sequence number of the space's last event. Every transaction that
-- changes the tree takes the next numbers by incrementing it (recordChange), so the number
-- order is the commit order: the increment holds the space's row until the transaction ends,
-- and a writer that comes after reads the committed value. A reader never sees a later number
-- without every earlier one. created_at already tells a space apart from an earlier space of
-- the same id (cursors carry it).
ALTER TABLE spaces ADD COLUMN delta_seq INTEGER NOT NULL DEFAULT 0;

-- delta_events: one row per event, a copy of the entry as the change left it (so a reader
-- needs no other table). extra_info is the event's extraInfo as JSON ('' = null). location: 0
-- live, 1 recycle bin, 2 history version, 3 deleted for good. The cleanup job removes a
-- space's oldest events (a prefix of its numbers) once they are older than the retention.
CREATE TABLE delta_events (
    library_id       TEXT    NOT NULL,
    space_id         TEXT    NOT NULL,
    seq              INTEGER NOT NULL,
    event_type       TEXT    NOT NULL,
    event_time       INTEGER NOT NULL,
    user_id          TEXT    NOT NULL DEFAULT '',
    location         INTEGER NOT NULL DEFAULT 0,
    removed_by_quota INTEGER NOT NULL DEFAULT 0,
    extra_info       TEXT    NOT NULL DEFAULT '',
    inode            INTEGER NOT NULL,
    parent_inode     INTEGER NOT NULL,
    name             TEXT    NOT NULL,
    type             TEXT    NOT NULL,
    size             INTEGER NOT NULL DEFAULT 0,
    etag             TEXT    NOT NULL DEFAULT '',
    crc64            TEXT    NOT NULL DEFAULT '',
    content_type     TEXT    NOT NULL DEFAULT '',
    category         TEXT    NOT NULL DEFAULT '',
    local_created    TEXT    NOT NULL DEFAULT '',
    local_modified   TEXT    NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    modified_at      INTEGER NOT NULL,
    version          INTEGER NOT NULL DEFAULT 1,
    link_target      INTEGER,
    PRIMARY KEY (library_id, space_id, seq),
    FOREIGN KEY (library_id, space_id) REFERENCES spaces (library_id, space_id) ON DELETE CASCADE
);
-- The retention prune reads events by time.
CREATE INDEX delta_events_by_time ON delta_events (event_time);
-- checkFileDeletion (3.18) finds an inode's last event.
CREATE INDEX delta_events_by_inode ON delta_events (inode, seq);
