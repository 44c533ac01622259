-- Schema v1 of the object store (PostgreSQL): upload sessions, their parts and blob records.
-- Times are integer Unix milliseconds in UTC; flags are 0/1 integers on both engines, so the
-- queries are the same.

CREATE TABLE blobs (
    id             TEXT    COLLATE "C" PRIMARY KEY,
    -- Instant upload matches content within one library only: a hash must not open another
    -- library's file to someone who never had its bytes.
    library_id     TEXT    NOT NULL,
    size           BIGINT  NOT NULL,
    crc64          TEXT    NOT NULL,
    etag           TEXT    NOT NULL,
    beginning_hash TEXT    NOT NULL,
    full_hash      TEXT    NOT NULL,
    content_type   TEXT    NOT NULL,
    -- image, video or other, judged by the bytes.
    kind           TEXT    NOT NULL,
    created_at     BIGINT  NOT NULL,
    -- The last time an upload took this blob (creation, instant upload). Garbage collection
    -- leaves a blob alone for a grace period after it, so a blob on its way into the namespace
    -- is never collected.
    used_at        BIGINT  NOT NULL,
    -- 1 once garbage collection decided to remove it; an instant upload never takes a doomed blob.
    doomed         INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX blobs_by_hash ON blobs (library_id, beginning_hash, size) WHERE doomed = 0;
CREATE INDEX blobs_by_use ON blobs (used_at) WHERE doomed = 0;

CREATE TABLE uploads (
    id             TEXT    COLLATE "C" PRIMARY KEY,
    library_id     TEXT    NOT NULL,
    space_id       TEXT    NOT NULL,
    -- The path as a JSON array of names.
    path           TEXT    NOT NULL,
    user_id        TEXT    NOT NULL,
    -- simple, multipart or form.
    kind           TEXT    NOT NULL,
    strategy       TEXT    NOT NULL,
    force          INTEGER NOT NULL,
    -- What the namespace said the bytes must be (media rules), as JSON.
    rules          TEXT    NOT NULL,
    -- Labels, category, local times and x-smh-meta-* given at begin, as JSON.
    attrs          TEXT    NOT NULL,
    created_at     BIGINT  NOT NULL,
    expires_at     BIGINT  NOT NULL,
    -- open (waiting for bytes), received, confirmed or aborted.
    state          TEXT    NOT NULL,
    -- The received (simple, form) or composed (multipart) blob.
    blob_id        TEXT    NOT NULL DEFAULT '',
    -- The confirm answer, kept so a repeated confirm answers the same (idempotent).
    answer         TEXT    NOT NULL DEFAULT ''
);

CREATE INDEX uploads_by_expiry ON uploads (expires_at);
CREATE INDEX uploads_by_blob ON uploads (blob_id) WHERE blob_id <> '';

CREATE TABLE parts (
    upload_id   TEXT    NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
    part_number INTEGER NOT NULL,
    size        BIGINT  NOT NULL,
    etag        TEXT    NOT NULL,
    received_at BIGINT  NOT NULL,
    PRIMARY KEY (upload_id, part_number)
);
