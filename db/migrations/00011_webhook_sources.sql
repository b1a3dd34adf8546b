-- +goose Up

-- webhook_sources receive signed messages (Make.com scenarios, any sender)
-- at POST /hooks/{id} and turn each into an action: track events, start a
-- run as the source's owner, or signal a run.
CREATE TABLE webhook_sources (
    id              text PRIMARY KEY,
    workspace_id    text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    owner_id        text NOT NULL,
    name            text NOT NULL,
    -- mode: signature (Standard Webhooks) or token (a static header, weaker).
    mode            text NOT NULL CHECK (mode IN ('signature', 'token')),
    action          jsonb NOT NULL,
    scenario_header text NOT NULL DEFAULT '',
    disabled_at     timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_sources_workspace_idx ON webhook_sources (workspace_id);

-- webhook_source_secrets are a source's secrets, sealed; a rotated-out
-- secret stays valid until expires_at.
CREATE TABLE webhook_source_secrets (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id  text NOT NULL REFERENCES webhook_sources (id) ON DELETE CASCADE,
    ciphertext bytea NOT NULL,
    expires_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_source_secrets_source_idx ON webhook_source_secrets (source_id);

-- webhook_inbox stores every accepted message before it is answered; the
-- key makes a re-delivered message a duplicate.
CREATE TABLE webhook_inbox (
    source_id    text NOT NULL REFERENCES webhook_sources (id) ON DELETE CASCADE,
    webhook_id   text NOT NULL,
    workspace_id text NOT NULL,
    body         bytea NOT NULL,
    scenario     text,
    status       text NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'done', 'failed')),
    run_id       text,
    error        text,
    started_at   timestamptz,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source_id, webhook_id)
);
CREATE INDEX webhook_inbox_unstarted_idx ON webhook_inbox (received_at) WHERE started_at IS NULL;
CREATE INDEX webhook_inbox_listed_idx ON webhook_inbox (source_id, received_at DESC);

-- +goose Down
DROP TABLE webhook_inbox;
DROP TABLE webhook_source_secrets;
DROP TABLE webhook_sources;
