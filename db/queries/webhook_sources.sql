-- name: WebhookSourceInsert :one
INSERT INTO webhook_sources (id, workspace_id, owner_id, name, mode, action, scenario_header)
VALUES (@id, @workspace_id, @owner_id, @name, @mode, @action, @scenario_header)
RETURNING *;

-- name: WebhookSourceUpdate :one
UPDATE webhook_sources SET name = @name, action = @action, scenario_header = @scenario_header,
    disabled_at = CASE WHEN @disabled::boolean THEN coalesce(disabled_at, now()) END, updated_at = now()
WHERE id = @id AND workspace_id = @workspace_id
RETURNING *;

-- name: WebhookSourceGet :one
SELECT * FROM webhook_sources WHERE id = @id AND workspace_id = @workspace_id;

-- name: WebhookSourceByID :one
SELECT * FROM webhook_sources WHERE id = @id;

-- name: WebhookSourceList :many
SELECT * FROM webhook_sources WHERE workspace_id = @workspace_id ORDER BY id DESC LIMIT 200;

-- name: WebhookSourceDelete :execrows
DELETE FROM webhook_sources WHERE id = @id AND workspace_id = @workspace_id;

-- name: WebhookSourceSecretAdd :exec
INSERT INTO webhook_source_secrets (source_id, ciphertext) VALUES (@source_id, @ciphertext);

-- name: WebhookSourceSecretsExpire :exec
-- WebhookSourceSecretsExpire gives the source's current secrets a grace
-- period before a new one replaces them.
UPDATE webhook_source_secrets SET expires_at = @expires_at
WHERE source_id = @source_id AND (expires_at IS NULL OR expires_at > @expires_at);

-- name: WebhookSourceSecretsLive :many
SELECT ciphertext FROM webhook_source_secrets
WHERE source_id = @source_id AND (expires_at IS NULL OR expires_at > now())
ORDER BY id DESC;

-- name: WebhookInboxInsert :execrows
INSERT INTO webhook_inbox (source_id, webhook_id, workspace_id, body, scenario)
VALUES (@source_id, @webhook_id, @workspace_id, @body, sqlc.narg(scenario))
ON CONFLICT (source_id, webhook_id) DO NOTHING;

-- name: WebhookInboxGet :one
SELECT * FROM webhook_inbox WHERE source_id = @source_id AND webhook_id = @webhook_id;

-- name: WebhookInboxStarted :exec
UPDATE webhook_inbox SET started_at = coalesce(started_at, now()) WHERE source_id = @source_id AND webhook_id = @webhook_id;

-- name: WebhookInboxUnstarted :many
-- WebhookInboxUnstarted claims messages whose action has not started (the
-- API stored them but could not reach Temporal).
SELECT source_id, webhook_id FROM webhook_inbox
WHERE started_at IS NULL AND received_at < now() - interval '5 seconds'
ORDER BY received_at
LIMIT @max_rows
FOR UPDATE SKIP LOCKED;

-- name: WebhookInboxFinish :exec
UPDATE webhook_inbox SET status = @status, run_id = sqlc.narg(run_id), error = sqlc.narg(error)
WHERE source_id = @source_id AND webhook_id = @webhook_id;

-- name: WebhookInboxList :many
SELECT * FROM webhook_inbox
WHERE source_id = @source_id AND workspace_id = @workspace_id
  AND (sqlc.narg(before)::timestamptz IS NULL OR received_at < sqlc.narg(before)::timestamptz)
ORDER BY received_at DESC
LIMIT @max_rows;
