-- +goose Up

-- A workspace is a team: runs stay private to the user who started them,
-- team data (Airtable mappings, API keys) belongs to the workspace. The
-- identity provider says who is in which workspace with which role (JWT
-- claims, or the API key's own), so there is no membership table.
CREATE TABLE workspaces (
    id         text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 255),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Until now every user was alone in a workspace named after them.
INSERT INTO workspaces (id) SELECT id FROM users;

ALTER TABLE api_keys
    ADD COLUMN workspace_id text REFERENCES workspaces (id) ON DELETE CASCADE,
    ADD COLUMN role text NOT NULL DEFAULT 'admin' CHECK (role IN ('admin', 'member')),
    ADD COLUMN expires_at timestamptz,
    ADD COLUMN last_used_at timestamptz;
UPDATE api_keys SET workspace_id = user_id;
ALTER TABLE api_keys ALTER COLUMN workspace_id SET NOT NULL, ALTER COLUMN role DROP DEFAULT;
CREATE INDEX api_keys_workspace_idx ON api_keys (workspace_id, created_at DESC);

ALTER TABLE runs ADD COLUMN workspace_id text REFERENCES workspaces (id) ON DELETE CASCADE;
UPDATE runs SET workspace_id = owner_id;
ALTER TABLE runs ALTER COLUMN workspace_id SET NOT NULL;
CREATE INDEX runs_workspace_created_idx ON runs (workspace_id, created_at DESC, id DESC);

ALTER TABLE airtable_mappings ADD COLUMN workspace_id text REFERENCES workspaces (id) ON DELETE CASCADE;
UPDATE airtable_mappings SET workspace_id = owner_id;
ALTER TABLE airtable_mappings
    ALTER COLUMN workspace_id SET NOT NULL,
    DROP CONSTRAINT airtable_mappings_owner_id_name_key,
    ADD CONSTRAINT airtable_mappings_workspace_name_key UNIQUE (workspace_id, name);

-- airtable_sync_tables are the Postgres tables the operator opened for
-- Airtable sync (`groundwork airtable allow-table`), besides those of
-- GROUNDWORK_AIRTABLE_TABLES. A table with a workspace is that
-- workspace's alone; one without is shared, and the operator names the
-- column that holds each row's workspace.
CREATE TABLE airtable_sync_tables (
    table_name       text PRIMARY KEY,
    workspace_id     text CHECK (workspace_id IS NULL OR length(workspace_id) BETWEEN 1 AND 255),
    -- workspace_column holds each row's workspace in a shared table.
    workspace_column text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((workspace_id IS NULL) <> (workspace_column IS NULL))
);

-- +goose Down
DROP TABLE airtable_sync_tables;
ALTER TABLE airtable_mappings
    DROP CONSTRAINT airtable_mappings_workspace_name_key,
    ADD CONSTRAINT airtable_mappings_owner_id_name_key UNIQUE (owner_id, name),
    DROP COLUMN workspace_id;
ALTER TABLE runs DROP COLUMN workspace_id;
ALTER TABLE api_keys DROP COLUMN workspace_id, DROP COLUMN role, DROP COLUMN expires_at, DROP COLUMN last_used_at;
DROP TABLE workspaces;
