-- Schema v3 (PostgreSQL): a blob records the space whose upload made it, and instant upload (3.1,
-- decision 2) matches content within that space only. Matching across the spaces of a
-- multi-tenant library let one tenant learn, from a 202, that another tenant holds a file, and
-- with its full hash commit a copy of it without ever having its bytes. Blobs stored before v3
-- have no space ('') and are matched by no instant upload; their files are unaffected.

ALTER TABLE blobs ADD COLUMN space_id TEXT NOT NULL DEFAULT '';

DROP INDEX blobs_by_hash;
CREATE INDEX blobs_by_hash ON blobs (library_id, space_id, beginning_hash, size) WHERE doomed = 0;
