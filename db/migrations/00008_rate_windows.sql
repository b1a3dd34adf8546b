-- +goose Up

-- rate_windows counts the API requests of each key (a user, an IP, a
-- signed link) in fixed windows aligned on the database's clock, so every
-- API process draws on the same counts: two replicas let through exactly
-- the configured rate, not twice it. One statement per request counts all
-- of a key's windows; rows of past windows are deleted by the cleanup
-- schedule. UNLOGGED: the counts are worth nothing after a crash, so a
-- request's count costs no WAL flush even with fsync on.
CREATE UNLOGGED TABLE rate_windows (
    key          text NOT NULL,
    window_start timestamptz NOT NULL,
    hits         integer NOT NULL,
    PRIMARY KEY (key, window_start)
);
CREATE INDEX rate_windows_start_idx ON rate_windows (window_start);

-- The cleanup schedule forgets idempotency keys after a day: this index
-- finds them without scanning every run.
CREATE INDEX runs_idempotency_created_idx ON runs (created_at) WHERE idempotency_key IS NOT NULL;

-- The cleanup schedule expires research after GROUNDWORK_RESEARCH_RETENTION.
CREATE INDEX research_reports_created_idx ON research_reports (created_at);
CREATE INDEX research_pages_fetched_idx ON research_pages (fetched_at);

-- +goose Down
DROP INDEX research_pages_fetched_idx;
DROP INDEX research_reports_created_idx;
DROP INDEX runs_idempotency_created_idx;
DROP TABLE rate_windows;
