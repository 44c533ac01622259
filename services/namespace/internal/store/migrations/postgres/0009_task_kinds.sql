-- Schema v9: a task's kind (docs/lifecycle.md, SMH API 7.3): copyDirectory or
-- batchRestoreRecycle, answered as the typed task query's taskType. result holds the task's result
-- as JSON read by its kind: a copy's final path, a batch restore's items in request order. Tasks
-- recorded before this schema have kind '' and read as directory copies.
ALTER TABLE tasks ADD COLUMN kind TEXT NOT NULL DEFAULT '';
