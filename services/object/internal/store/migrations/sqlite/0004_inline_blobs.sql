-- Schema v4 (SQLite): small blobs keep their bytes in their record (docs/smallfiles.md). NULL means
-- the bytes are in the blob store under the blob's key; a value is the whole content, and the blob
-- store holds nothing for it. The row, and with it the bytes, is written in the same transaction
-- that attaches the blob to its upload, so one commit makes a small upload's bytes durable.

ALTER TABLE blobs ADD COLUMN data BLOB;
