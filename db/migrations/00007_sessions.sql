-- +goose Up

-- sessions are the identity provider's sessions as Groundwork sees them:
-- a JWT carrying a session claim creates or touches its row. Groundwork
-- enforces the server side (idle timeout, sessions per user, revocation);
-- the provider issues tokens and rotates refresh tokens. last_seen is
-- written at most once a minute per session.
CREATE TABLE sessions (
    user_id        text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    id             text NOT NULL CHECK (length(id) BETWEEN 1 AND 255),
    workspace_id   text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    first_seen     timestamptz NOT NULL DEFAULT now(),
    last_seen      timestamptz NOT NULL DEFAULT now(),
    user_agent     text NOT NULL DEFAULT '',
    ip             text NOT NULL DEFAULT '',
    revoked_at     timestamptz,
    revoked_reason text,
    PRIMARY KEY (user_id, id)
);
CREATE INDEX sessions_workspace_idx ON sessions (workspace_id, last_seen DESC);
CREATE INDEX sessions_last_seen_idx ON sessions (last_seen);

-- +goose Down
DROP TABLE sessions;
