-- Schema v4 (PostgreSQL): small blobs keep their bytes in their record (docs/smallfiles.md). NULL
-- means the bytes are in the blob store under the blob's key; a value is the whole content, and the
-- blob store holds nothing for it. PostgreSQL keeps values of a few KiB out of line (TOAST), so rows
-- read without the column stay small.

ALTER TABLE blobs ADD COLUMN data BYTEA;
