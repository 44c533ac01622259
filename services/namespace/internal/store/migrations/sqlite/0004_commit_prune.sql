-- The prune of old upload commits (PruneCommits) reads them by time.
CREATE INDEX committed_uploads_by_time ON committed_uploads (committed_at);
