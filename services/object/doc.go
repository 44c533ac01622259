// Package object is the object service: upload sessions, the signed data endpoint for file bytes,
// the blob store (local directory or S3-compatible), instant upload by hash, thumbnails and blob
// garbage collection (docs/architecture.md, "Services").
package object
