-- Asynchronous tasks (decision 7, 7.1): a directory copy above the async threshold runs in the
-- process that accepted it, and its state lives here, so every replica answers the task query
-- and a finished task outlives restarts (queryable for 30 days; the purge job deletes it then).
-- A running task (status 202) names its process (owner_instance), which refreshes heartbeat_at
-- every few seconds; a running row whose heartbeat stopped reads as failed (interrupted).
-- Rows go with their space.

CREATE TABLE tasks (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    library_id     TEXT    NOT NULL,
    space_id       TEXT    NOT NULL,
    status         INTEGER NOT NULL,
    result         TEXT    NOT NULL DEFAULT '',
    error_code     TEXT    NOT NULL DEFAULT '',
    owner_instance TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    heartbeat_at   INTEGER NOT NULL,
    finished_at    INTEGER,
    FOREIGN KEY (library_id, space_id) REFERENCES spaces (library_id, space_id) ON DELETE CASCADE
);
-- The heartbeat refreshes one process's running tasks.
CREATE INDEX tasks_running_by_owner ON tasks (owner_instance) WHERE status = 202;
-- The purge reads finished tasks by time.
CREATE INDEX tasks_by_finish ON tasks (finished_at);
