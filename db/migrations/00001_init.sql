-- +goose Up

-- users are created on first use: the subject of a JWT or the owner of an API
-- key. The ID is opaque (a Supabase UUID, an e-mail, "dev").
CREATE TABLE users (
    id         text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 255),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- api_keys stores only a SHA-256 of each key: keys are 160 random bits, so a
-- fast hash is enough and lets the auth middleware look a key up by index.
CREATE TABLE api_keys (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       text NOT NULL DEFAULT '',
    prefix     text NOT NULL,
    hash       bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
CREATE INDEX api_keys_user_id_idx ON api_keys (user_id);

CREATE TYPE run_status AS ENUM ('queued', 'running', 'succeeded', 'failed', 'canceled', 'timed_out');

-- runs is the system of record for who owns which workflow execution. The
-- primary key is the Temporal workflow ID.
CREATE TABLE runs (
    id              text PRIMARY KEY,
    owner_id        text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind            text NOT NULL,
    status          run_status NOT NULL DEFAULT 'queued',
    idempotency_key text,
    request_hash    bytea NOT NULL,
    result          jsonb,
    error           jsonb,
    -- progress is the workflow's last progress, stored when the run closes
    -- so reads of a closed run never touch Temporal.
    progress        jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    closed_at       timestamptz
);
CREATE UNIQUE INDEX runs_owner_idempotency_key_idx ON runs (owner_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX runs_owner_created_idx ON runs (owner_id, created_at DESC, id DESC);
CREATE INDEX runs_owner_kind_created_idx ON runs (owner_id, kind, created_at DESC, id DESC);
CREATE INDEX runs_owner_status_created_idx ON runs (owner_id, status, created_at DESC, id DESC);

-- run_inputs keeps request bodies out of workflow history (Temporal warns at
-- 256 KB and fails at 2 MB): the workflow carries only the run ID.
CREATE TABLE run_inputs (
    run_id text PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    body   bytea NOT NULL
);

CREATE TABLE exports (
    id           text PRIMARY KEY,
    run_id       text NOT NULL UNIQUE REFERENCES runs (id) ON DELETE CASCADE,
    owner_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    format       text NOT NULL,
    filename     text NOT NULL,
    content_type text NOT NULL,
    blob_key     text NOT NULL,
    size_bytes   bigint NOT NULL CHECK (size_bytes >= 0),
    sha256       bytea NOT NULL,
    rows         integer,
    pages        integer,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX exports_owner_id_idx ON exports (owner_id);
CREATE INDEX exports_expires_at_idx ON exports (expires_at);

-- +goose Down
DROP TABLE exports;
DROP TABLE run_inputs;
DROP TABLE runs;
DROP TYPE run_status;
DROP TABLE api_keys;
DROP TABLE users;
