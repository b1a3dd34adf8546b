-- +goose Up

-- webhook_endpoints are a workspace's outbound webhook receivers (Make.com
-- custom webhooks or any URL). The signing secret is sealed with
-- GROUNDWORK_ENCRYPTION_KEY: HMAC needs it back in the clear.
CREATE TABLE webhook_endpoints (
    id                text PRIMARY KEY,
    workspace_id      text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    url               text NOT NULL,
    description       text NOT NULL DEFAULT '',
    event_types       text[] NOT NULL,
    headers           jsonb NOT NULL DEFAULT '{}',
    rate_per_second   integer NOT NULL CHECK (rate_per_second > 0),
    secret_ciphertext bytea NOT NULL,
    disabled_at       timestamptz,
    disabled_reason   text,
    -- failing_since is the first failure since the last success.
    failing_since     timestamptz,
    created_by        text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_endpoints_workspace_idx ON webhook_endpoints (workspace_id);

-- webhook_messages is the outbox: one row per event and subscribed
-- endpoint, written in the transaction of the event itself. Its id is the
-- webhook-id receivers deduplicate by; generation counts resends, each a
-- delivery workflow of its own.
CREATE TABLE webhook_messages (
    id            text PRIMARY KEY,
    endpoint_id   text NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    workspace_id  text NOT NULL,
    event_key     text NOT NULL,
    event_type    text NOT NULL,
    payload       jsonb NOT NULL,
    status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts      integer NOT NULL DEFAULT 0,
    generation    integer NOT NULL DEFAULT 0,
    dispatched_at timestamptz,
    delivered_at  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (endpoint_id, event_key)
);
CREATE INDEX webhook_messages_undispatched_idx ON webhook_messages (created_at) WHERE dispatched_at IS NULL;
CREATE INDEX webhook_messages_endpoint_idx ON webhook_messages (endpoint_id, id DESC);

-- webhook_attempts records every delivery attempt.
CREATE TABLE webhook_attempts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id   text NOT NULL REFERENCES webhook_messages (id) ON DELETE CASCADE,
    generation   integer NOT NULL,
    attempt      integer NOT NULL,
    status_code  integer,
    error        text,
    latency_ms   integer NOT NULL,
    response     text,
    attempted_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (message_id, generation, attempt)
);

-- dead_letters are runs that failed after their retries and messages
-- whose delivery attempts ran out; a replay links the new run or delivery.
CREATE TABLE dead_letters (
    id           text PRIMARY KEY,
    workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    owner_id     text NOT NULL,
    kind         text NOT NULL,
    run_id       text UNIQUE,
    message_id   text,
    generation   integer,
    endpoint_id  text,
    error_type   text NOT NULL,
    error        text NOT NULL,
    attempts     integer NOT NULL DEFAULT 0,
    -- body is a failed run's request, kept for its replay.
    body         bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    replayed_at  timestamptz,
    replayed_as  text,
    UNIQUE (message_id, generation),
    CHECK ((run_id IS NULL) <> (message_id IS NULL))
);
CREATE INDEX dead_letters_workspace_idx ON dead_letters (workspace_id, id DESC);

-- +goose Down
DROP TABLE dead_letters;
DROP TABLE webhook_attempts;
DROP TABLE webhook_messages;
DROP TABLE webhook_endpoints;
