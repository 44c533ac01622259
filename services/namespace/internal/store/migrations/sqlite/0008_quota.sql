-- Schema v8 (SQLite): quotas (SMH API section 6, docs/lifecycle.md "Quota").
--
-- A quota caps the usage (live + bin + versions bytes, the spaces' counters) of one or more
-- spaces of a library; a space has at most one quota (quota_spaces' primary key). The removal
-- options are stored as the client set them (6.1). Ids are int32 from an identity and never
-- reused (the API shows them as JSON numbers). A library's quotas go with it (DeleteLibrary);
-- a deleted space leaves its quota (the cascade below), and a quota left covering no space is
-- deleted with that space's last membership (DeleteSpace).
CREATE TABLE quotas (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    library_id         TEXT    NOT NULL,
    capacity           INTEGER NOT NULL,
    remove_when_exceed INTEGER NOT NULL DEFAULT 0,
    remove_after_days  INTEGER NOT NULL DEFAULT 0,
    remove_newest      INTEGER NOT NULL DEFAULT 0,
    created_at         INTEGER NOT NULL
);
CREATE INDEX quotas_by_library ON quotas (library_id, id);

CREATE TABLE quota_spaces (
    library_id TEXT    NOT NULL,
    space_id   TEXT    NOT NULL,
    quota_id   INTEGER NOT NULL REFERENCES quotas (id) ON DELETE CASCADE,
    PRIMARY KEY (library_id, space_id),
    FOREIGN KEY (library_id, space_id) REFERENCES spaces (library_id, space_id) ON DELETE CASCADE
);
-- The spaces of a quota (its usage sums over them).
CREATE INDEX quota_spaces_by_quota ON quota_spaces (quota_id);
