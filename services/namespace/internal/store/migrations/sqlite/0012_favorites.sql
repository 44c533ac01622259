-- Schema v12 (SQLite): favorites and recently used files (SMH API section 11,
-- docs/favorites.md). Both are per user of a space and name entries by inode, which is never
-- reused (nodes AUTOINCREMENT), so a favorite of a deleted or purged entry stays what it was and
-- is listed as deleted. They go with their space or library (ON DELETE CASCADE).

CREATE TABLE favorites (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    library_id  TEXT    NOT NULL,
    space_id    TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,
    inode       INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    FOREIGN KEY (library_id, space_id) REFERENCES spaces (library_id, space_id) ON DELETE CASCADE
);

-- One favorite per user and entry (409 DuplicateFavoriteRecord); also FavoritedAmong's lookup.
CREATE UNIQUE INDEX favorites_by_inode ON favorites (library_id, space_id, user_id, inode);
-- The list (11.3) in favoriteTime order, id breaking ties: a keyset range scan either way.
CREATE INDEX favorites_by_time ON favorites (library_id, space_id, user_id, created_at, id);

-- One row per user, file and action (preview or modify), refreshed on repeat.
CREATE TABLE recent_files (
    library_id   TEXT    NOT NULL,
    space_id     TEXT    NOT NULL,
    user_id      TEXT    NOT NULL,
    inode        INTEGER NOT NULL,
    action       TEXT    NOT NULL,
    operated_at  INTEGER NOT NULL,
    PRIMARY KEY (library_id, space_id, user_id, inode, action),
    FOREIGN KEY (library_id, space_id) REFERENCES spaces (library_id, space_id) ON DELETE CASCADE
);

-- The list (11.4), newest first, and the per-user cap's trim.
CREATE INDEX recent_files_by_time ON recent_files (library_id, space_id, user_id, operated_at, inode, action);
