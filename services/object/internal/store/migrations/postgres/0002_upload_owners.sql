-- Schema v2 (PostgreSQL): the per-user cap on unconfirmed uploads. A begin counts the owner's open
-- sessions and inserts its own in one transaction; upload_owners has one row per (library, user)
-- that the transaction locks first, so two begins of one owner never count at the same time.
-- The empty user id (backend tokens, the library secret) is one owner per library.

CREATE TABLE upload_owners (
    library_id TEXT COLLATE "C" NOT NULL,
    user_id    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (library_id, user_id)
);

CREATE INDEX uploads_by_owner ON uploads (library_id, user_id, state, expires_at);
