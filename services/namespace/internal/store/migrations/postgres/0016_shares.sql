-- Schema v16 (PostgreSQL): share links (SMH API section 13, docs/shares.md). Mirrors
-- migrations/sqlite/0016_shares.sql; see the comments there. Flags are smallint 0/1 as in
-- nodes.is_dir, so both engines scan alike.
CREATE TABLE shares (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    library_id          text    NOT NULL,
    space_id            text    COLLATE "C" NOT NULL,
    share_id            text    COLLATE "C" NOT NULL,
    code                text    COLLATE "C" NOT NULL,
    creator_id          text    COLLATE "C" NOT NULL DEFAULT '',
    name                text    COLLATE "C" NOT NULL,
    extraction_code     text    NOT NULL DEFAULT '',
    is_permanent        smallint NOT NULL DEFAULT 0,
    expire_at           bigint  NOT NULL DEFAULT 0,
    can_preview         smallint NOT NULL DEFAULT 0,
    can_download        smallint NOT NULL DEFAULT 0,
    can_save            smallint NOT NULL DEFAULT 0,
    forbid_anonymous    smallint NOT NULL DEFAULT 0,
    preview_limit       bigint  NOT NULL DEFAULT 0,
    preview_used        bigint  NOT NULL DEFAULT 0,
    download_limit      bigint  NOT NULL DEFAULT 0,
    download_used       bigint  NOT NULL DEFAULT 0,
    user_limit          bigint  NOT NULL DEFAULT 0,
    to_users            text    NOT NULL DEFAULT '[]',
    admin_enabled       smallint NOT NULL DEFAULT 1,
    owner_enabled       smallint NOT NULL DEFAULT 1,
    status              integer NOT NULL DEFAULT 0,
    failed_codes        integer NOT NULL DEFAULT 0,
    failed_window_start bigint  NOT NULL DEFAULT 0,
    created_at          bigint  NOT NULL,
    updated_at          bigint  NOT NULL,
    version             bigint  NOT NULL DEFAULT 1,
    FOREIGN KEY (library_id, space_id) REFERENCES spaces (library_id, space_id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX shares_by_share_id ON shares (library_id, share_id);
CREATE UNIQUE INDEX shares_by_code ON shares (code);
CREATE INDEX shares_by_creator ON shares (library_id, creator_id, created_at, id);
CREATE INDEX shares_by_time ON shares (library_id, created_at, id);

CREATE TABLE share_items (
    share_pk  bigint  NOT NULL REFERENCES shares (id) ON DELETE CASCADE,
    position  integer NOT NULL,
    inode     bigint  NOT NULL,
    PRIMARY KEY (share_pk, position)
);
CREATE INDEX share_items_by_inode ON share_items (inode);

CREATE TABLE share_visitors (
    share_pk   bigint  NOT NULL REFERENCES shares (id) ON DELETE CASCADE,
    user_id    text    COLLATE "C" NOT NULL,
    first_seen bigint  NOT NULL,
    PRIMARY KEY (share_pk, user_id)
);
