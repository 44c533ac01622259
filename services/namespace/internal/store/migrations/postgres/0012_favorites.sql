-- Schema v12 (PostgreSQL): favorites and recently used files (SMH API section 11,
-- docs/favorites.md). Both are per user of a space and name entries by inode, which is never
-- reused (a sequence), so a favorite of a deleted or purged entry stays what it was and
-- is listed as deleted. They go with their space or library (ON DELETE CASCADE).

CREATE TABLE favorites (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    library_id  text NOT NULL,
    space_id    text COLLATE "C" NOT NULL,
    user_id     text COLLATE "C" NOT NULL,
    inode       BIGINT  NOT NULL,
    created_at  BIGINT  NOT NULL,
    FOREIGN KEY (library_id, space_id) REFERENCES spaces (library_id, space_id) ON DELETE CASCADE
);

-- One favorite per user and entry (409 DuplicateFavoriteRecord); also FavoritedAmong's lookup.
CREATE UNIQUE INDEX favorites_by_inode ON favorites (library_id, space_id, user_id, inode);
-- The list (11.3) in favoriteTime order, id breaking ties: a keyset range scan either way.
CREATE INDEX favorites_by_time ON favorites (library_id, space_id, user_id, created_at, id);

-- One row per user, file and action (preview or modify), refreshed on repeat.
CREATE TABLE recent_files (
    library_id   text NOT NULL,
    space_id     text COLLATE "C" NOT NULL,
    user_id      text COLLATE "C" NOT NULL,
    inode        BIGINT  NOT NULL,
    action       text COLLATE "C" NOT NULL,
    operated_at  BIGINT  NOT NULL,
    PRIMARY KEY (library_id, space_id, user_id, inode, action),
    FOREIGN KEY (library_id, space_id) REFERENCES spaces (library_id, space_id) ON DELETE CASCADE
);

-- The list (11.4), newest first, and the per-user cap's trim.
CREATE INDEX recent_files_by_time ON recent_files (library_id, space_id, user_id, operated_at, inode, action);
