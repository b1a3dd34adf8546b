-- +goose Up

-- workspace_members are the (workspace, user) pairs seen authenticated:
-- the identity provider says who is in which workspace, and this is what
-- it said. Notifications about a workspace go only to its members, so a
-- customer's owner_user_id naming a stranger e-mails nobody.
CREATE TABLE workspace_members (
    workspace_id  text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id       text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX workspace_members_user_idx ON workspace_members (user_id);
INSERT INTO workspace_members (workspace_id, user_id)
SELECT DISTINCT workspace_id, user_id FROM api_keys
UNION SELECT DISTINCT workspace_id, owner_id FROM runs
ON CONFLICT DO NOTHING;

-- notification_preferences say which e-mails a user gets, at which
-- address and when: each one as it happens, or gathered in a daily
-- digest. No row: no e-mail. An address is used only once its owner
-- followed the link e-mailed to it (pending_email until then), so nobody
-- can have Groundwork write to someone else's mailbox. An unsubscribe
-- link sets unsubscribed_at; saving preferences again clears it.
CREATE TABLE notification_preferences (
    user_id         text PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    email           text NOT NULL CHECK (email = '' OR length(email) BETWEEN 3 AND 254),
    pending_email   text NOT NULL DEFAULT '' CHECK (pending_email = '' OR length(pending_email) BETWEEN 3 AND 254),
    events          text[] NOT NULL,
    delivery        text NOT NULL CHECK (delivery IN ('immediate', 'daily')),
    weekly_digest   boolean NOT NULL,
    unsubscribed_at timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- email_messages is the e-mail outbox: one row per notification and user,
-- written in the transaction of the event. Its id is derived from the user
-- and the event, and is the Message-ID's local part, so a notification
-- written twice is one row and a send repeated after a crash repeats the
-- same Message-ID. A digest row waits for the daily digest, which becomes
-- a message of its own and marks the rows it holds 'digested'.
CREATE TABLE email_messages (
    id            text PRIMARY KEY,
    user_id       text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    workspace_id  text NOT NULL,
    event_type    text NOT NULL,
    template      text NOT NULL,
    data          jsonb NOT NULL,
    -- to_address sends to an address not yet confirmed (the confirmation
    -- itself); NULL: the user's confirmed address at send time.
    to_address    text,
    digest        boolean NOT NULL,
    status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'suppressed', 'digested')),
    attempts      integer NOT NULL DEFAULT 0,
    error         text,
    dispatched_at timestamptz,
    sent_at       timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX email_messages_undispatched_idx ON email_messages (created_at) WHERE dispatched_at IS NULL AND NOT digest;
CREATE INDEX email_messages_digest_idx ON email_messages (user_id, created_at) WHERE digest AND status = 'pending';

-- customer_stalled remembers the stall each customer.stalled event was
-- sent for (the customer's last activity then), so the hourly detector
-- sends one event per stall, not one per run.
CREATE TABLE customer_stalled (
    customer_id  text PRIMARY KEY REFERENCES customers (id) ON DELETE CASCADE,
    last_seen_at timestamptz NOT NULL,
    detected_at  timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE customer_stalled;
DROP TABLE email_messages;
DROP TABLE notification_preferences;
DROP TABLE workspace_members;
