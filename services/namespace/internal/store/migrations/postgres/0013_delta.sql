-- Schema v13 (PostgreSQL): the change feed of a space (SMH API 3.18, docs/changefeed.md).
--
-- spaces.delta_seq is the sequence number of the space's last event. Every transaction that
-- changes the tree takes the next numbers by incrementing it (recordChange), so the number
-- order is the commit order: the increment holds the space's row until the transaction ends,
-- and a writer that comes after reads the committed value. A reader never sees a later number
-- without every earlier one. created_at already tells a space apart from an earlier space of
-- the same id (cursors carry it).
ALTER TABLE spaces ADD COLUMN delta_seq BIGINT NOT NULL DEFAULT 0;

-- delta_events: one row per event, a copy of the entry as the change left it (so a reader
-- needs no other table). extra_info is the event's extraInfo as JSON ('' = null). location: 0
-- live, 1 recycle bin, 2 history version, 3 deleted for good. The cleanup job removes a
-- space's oldest events (a prefix of its numbers) once they are older than the retention.
CREATE TABLE delta_events (
    library_id       text    NOT NULL,
    space_id         text    COLLATE "C" NOT NULL,
    seq              BIGINT NOT NULL,
    event_type       text    NOT NULL,
    event_time       BIGINT NOT NULL,
    user_id          text    NOT NULL DEFAULT '',
    location         BIGINT NOT NULL DEFAULT 0,
    removed_by_quota BOOLEAN NOT NULL DEFAULT FALSE,
    extra_info       text    NOT NULL DEFAULT '',
    inode            BIGINT NOT NULL,
    parent_inode     BIGINT NOT NULL,
    name             text    NOT NULL,
    type             text    NOT NULL,
    size             BIGINT NOT NULL DEFAULT 0,
    etag             text    NOT NULL DEFAULT '',
    crc64            text    NOT NULL DEFAULT '',
    content_type     text    NOT NULL DEFAULT '',
    category         text    NOT NULL DEFAULT '',
    local_created    text    NOT NULL DEFAULT '',
    local_modified   text    NOT NULL DEFAULT '',
    created_at       BIGINT NOT NULL,
    modified_at      BIGINT NOT NULL,
    version          BIGINT NOT NULL DEFAULT 1,
    link_target      BIGINT,
    PRIMARY KEY (library_id, space_id, seq),
    FOREIGN KEY (library_id, space_id) REFERENCES spaces (library_id, space_id) ON DELETE CASCADE
);
-- The retention prune reads events by time.
CREATE INDEX delta_events_by_time ON delta_events (event_time);
-- checkFileDeletion (3.18) finds an inode's last event.
CREATE INDEX delta_events_by_inode ON delta_events (inode, seq);
