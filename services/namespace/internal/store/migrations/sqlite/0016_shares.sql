-- Schema v16 (SQLite): share links (SMH API section 13, docs/shares.md).
--
-- A share belongs to a user (creator_id) of one space and names entries of that space by
-- inode, which is never reused, so a moved or renamed entry stays shared and a purged one is
-- simply gone. Shares go with their space or library (ON DELETE CASCADE); their items and
-- visitors go with the share.
--
-- share_id is the owner side's ShareId and code the visitors' share code: both random and
-- unguessable, minted by the use case. Times are Unix milliseconds; expire_at is 0 for a
-- permanent share. to_users is a JSON array of user ids (shareToUsers, fixed at creation).
-- version counts updates (409 ShareHasBeenUpdated on a stale compare-and-set).
CREATE TABLE shares (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    library_id          TEXT    NOT NULL,
    space_id            TEXT    NOT NULL,
    share_id            TEXT    NOT NULL,
    code                TEXT    NOT NULL,
    creator_id          TEXT    NOT NULL DEFAULT '',
    name                TEXT    NOT NULL,
    extraction_code     TEXT    NOT NULL DEFAULT '',
    is_permanent        INTEGER NOT NULL DEFAULT 0,
    expire_at           INTEGER NOT NULL DEFAULT 0,
    can_preview         INTEGER NOT NULL DEFAULT 0,
    can_download        INTEGER NOT NULL DEFAULT 0,
    can_save            INTEGER NOT NULL DEFAULT 0,
    forbid_anonymous    INTEGER NOT NULL DEFAULT 0,
    preview_limit       INTEGER NOT NULL DEFAULT 0,
    preview_used        INTEGER NOT NULL DEFAULT 0,
    download_limit      INTEGER NOT NULL DEFAULT 0,
    download_used       INTEGER NOT NULL DEFAULT 0,
    user_limit          INTEGER NOT NULL DEFAULT 0,
    to_users            TEXT    NOT NULL DEFAULT '[]',
    admin_enabled       INTEGER NOT NULL DEFAULT 1,
    owner_enabled       INTEGER NOT NULL DEFAULT 1,
    status              INTEGER NOT NULL DEFAULT 0,
    -- Wrong extraction codes in the current window, for the per-share limit that holds across
    -- replicas (the per-address limit is in memory).
    failed_codes        INTEGER NOT NULL DEFAULT 0,
    failed_window_start INTEGER NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    version             INTEGER NOT NULL DEFAULT 1,
    FOREIGN KEY (library_id, space_id) REFERENCES spaces (library_id, space_id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX shares_by_share_id ON shares (library_id, share_id);
-- The visitor routes carry no library id: the code alone finds the share.
CREATE UNIQUE INDEX shares_by_code ON shares (code);
-- A user's shares (13.4) in creation order; the admin list and search (13.5) of a library.
CREATE INDEX shares_by_creator ON shares (library_id, creator_id, created_at, id);
CREATE INDEX shares_by_time ON shares (library_id, created_at, id);

-- The shared entries, in the order the create request named them.
CREATE TABLE share_items (
    share_pk  INTEGER NOT NULL REFERENCES shares (id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    inode     INTEGER NOT NULL,
    PRIMARY KEY (share_pk, position)
);
CREATE INDEX share_items_by_inode ON share_items (inode);

-- Distinct visitors counted against userLimit (13.0): one row per user who verified.
CREATE TABLE share_visitors (
    share_pk   INTEGER NOT NULL REFERENCES shares (id) ON DELETE CASCADE,
    user_id    TEXT    NOT NULL,
    first_seen INTEGER NOT NULL,
    PRIMARY KEY (share_pk, user_id)
);
