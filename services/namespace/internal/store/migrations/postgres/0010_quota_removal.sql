-- Schema v10 (PostgreSQL): the removal of a quota with removeWhenExceed (6.1, docs/lifecycle.md
-- "Quota removal"). over_since is when the cleanup job first found the quota's usage above its
-- capacity; NULL while it is not over. Removal starts removeAfterDays after it.
ALTER TABLE quotas ADD COLUMN over_since BIGINT;
