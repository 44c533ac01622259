-- Commits of uploads by their upload id (the object service's confirm key): a repeated CommitFile
-- answers the entry the first one made. Rows go with their space.

CREATE TABLE committed_uploads (
    upload_id    TEXT    COLLATE "C" PRIMARY KEY,
    library_id   TEXT    NOT NULL,
    space_id     TEXT    NOT NULL,
    inode        BIGINT  NOT NULL,
    overwritten  INTEGER NOT NULL,
    committed_at BIGINT  NOT NULL,
    FOREIGN KEY (library_id, space_id) REFERENCES spaces (library_id, space_id) ON DELETE CASCADE
);
