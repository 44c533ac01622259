-- Schema v1 of the namespace store (PostgreSQL). Mirrors migrations/sqlite/0001_init.sql; see the
-- comments there. Times are bigint Unix milliseconds in UTC. Names and client times use
-- COLLATE "C" (byte order) so listings sort exactly as on SQLite, whatever the database locale.

CREATE TABLE spaces (
    library_id        text   NOT NULL,
    space_id          text   COLLATE "C" NOT NULL,
    user_id           text   NOT NULL DEFAULT '',
    created_at        bigint NOT NULL,
    extension         jsonb  NOT NULL DEFAULT '{}',
    size              bigint NOT NULL DEFAULT 0,
    file_num          bigint NOT NULL DEFAULT 0,
    dir_num           bigint NOT NULL DEFAULT 0,
    recycled_file_num bigint NOT NULL DEFAULT 0,
    recycled_dir_num  bigint NOT NULL DEFAULT 0,
    history_file_num  bigint NOT NULL DEFAULT 0,
    root_modified_at  bigint NOT NULL,
    root_child_dirs   bigint NOT NULL DEFAULT 0,
    root_child_files  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (library_id, space_id)
);

CREATE INDEX spaces_by_user ON spaces (library_id, user_id, space_id);

CREATE TABLE nodes (
    -- An identity never hands out an inode twice.
    inode          bigint   GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    library_id     text     NOT NULL,
    space_id       text     COLLATE "C" NOT NULL,
    parent_inode   bigint   NOT NULL,
    name           text     COLLATE "C" NOT NULL,
    type           text     NOT NULL,
    is_dir         smallint NOT NULL,
    user_id        text     NOT NULL DEFAULT '',
    created_at     bigint   NOT NULL,
    modified_at    bigint   NOT NULL,
    local_created  text     COLLATE "C" NOT NULL DEFAULT '',
    local_modified text     COLLATE "C" NOT NULL DEFAULT '',
    size           bigint   NOT NULL DEFAULT 0,
    content_type   text     NOT NULL DEFAULT '',
    etag           text     NOT NULL DEFAULT '',
    crc64          text     NOT NULL DEFAULT '',
    -- jsonb so later search can index metadata and labels (GIN) without a rewrite.
    metadata       jsonb    NOT NULL DEFAULT '{}',
    labels         jsonb    NOT NULL DEFAULT '[]',
    child_dirs     bigint   NOT NULL DEFAULT 0,
    child_files    bigint   NOT NULL DEFAULT 0,
    deleted_at     bigint,
    deleted_root   bigint,
    FOREIGN KEY (library_id, space_id) REFERENCES spaces (library_id, space_id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX nodes_live_name ON nodes (library_id, space_id, parent_inode, name)
    WHERE deleted_at IS NULL;

CREATE INDEX nodes_list_name ON nodes (library_id, space_id, parent_inode, is_dir, name, inode)
    WHERE deleted_at IS NULL;
CREATE INDEX nodes_list_mtime ON nodes (library_id, space_id, parent_inode, is_dir, modified_at, inode)
    WHERE deleted_at IS NULL;
CREATE INDEX nodes_list_size ON nodes (library_id, space_id, parent_inode, is_dir, size, inode)
    WHERE deleted_at IS NULL;
CREATE INDEX nodes_list_ctime ON nodes (library_id, space_id, parent_inode, is_dir, created_at, inode)
    WHERE deleted_at IS NULL;
CREATE INDEX nodes_list_local_ctime ON nodes (library_id, space_id, parent_inode, is_dir, local_created, inode)
    WHERE deleted_at IS NULL;
CREATE INDEX nodes_list_local_mtime ON nodes (library_id, space_id, parent_inode, is_dir, local_modified, inode)
    WHERE deleted_at IS NULL;

CREATE INDEX nodes_deleted ON nodes (deleted_root) WHERE deleted_at IS NOT NULL;

CREATE INDEX nodes_by_space ON nodes (library_id, space_id);
