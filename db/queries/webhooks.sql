-- name: WebhookEndpointInsert :one
INSERT INTO webhook_endpoints (id, workspace_id, url, description, event_types, headers, rate_per_second, secret_ciphertext, disabled_at, disabled_reason, created_by)
VALUES (@id, @workspace_id, @url, @description, @event_types, @headers, @rate_per_second, @secret_ciphertext,
        CASE WHEN @disabled::boolean THEN now() END, CASE WHEN @disabled::boolean THEN 'disabled by an admin' END, @created_by)
RETURNING *;

-- name: WebhookEndpointUpdate :one
-- WebhookEndpointUpdate replaces an endpoint's settings; enabling it again
-- clears why it was disabled and its failure streak.
UPDATE webhook_endpoints SET url = @url, description = @description, event_types = @event_types, headers = @headers,
    rate_per_second = @rate_per_second,
    disabled_at = CASE WHEN @disabled::boolean THEN coalesce(disabled_at, now()) END,
    disabled_reason = CASE WHEN @disabled::boolean THEN coalesce(disabled_reason, 'disabled by an admin') END,
    failing_since = CASE WHEN @disabled::boolean THEN failing_since END,
    updated_at = now()
WHERE id = @id AND workspace_id = @workspace_id
RETURNING *;

-- name: WebhookEndpointGet :one
SELECT * FROM webhook_endpoints WHERE id = @id AND workspace_id = @workspace_id;

-- name: WebhookEndpointByID :one
SELECT * FROM webhook_endpoints WHERE id = @id;

-- name: WebhookEndpointList :many
SELECT * FROM webhook_endpoints WHERE workspace_id = @workspace_id ORDER BY id DESC LIMIT 200;

-- name: WebhookEndpointDelete :execrows
DELETE FROM webhook_endpoints WHERE id = @id AND workspace_id = @workspace_id;

-- name: WebhookEndpointDisable :execrows
-- WebhookEndpointDisable disables an enabled endpoint; 0 rows: it was
-- disabled already.
UPDATE webhook_endpoints SET disabled_at = now(), disabled_reason = @reason::text, updated_at = now()
WHERE id = @id AND disabled_at IS NULL;

-- name: WebhookEndpointSucceeded :exec
UPDATE webhook_endpoints SET failing_since = NULL WHERE id = @id AND failing_since IS NOT NULL;

-- name: WebhookEndpointFailed :one
-- WebhookEndpointFailed starts or continues the endpoint's failure streak
-- and returns when it started.
UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, now()) WHERE id = @id
RETURNING failing_since::timestamptz;

-- name: WebhookEnqueue :execrows
-- WebhookEnqueue writes one message per enabled endpoint of the workspace
-- subscribed to the event; an event key already written is skipped, so an
-- event recorded twice is sent once.
INSERT INTO webhook_messages (id, endpoint_id, workspace_id, event_key, event_type, payload)
SELECT 'msg_' || replace(gen_random_uuid()::text, '-', ''), e.id, e.workspace_id, @event_key, @event_type, @payload
FROM webhook_endpoints e
WHERE e.workspace_id = @workspace_id AND e.disabled_at IS NULL AND @event_type::text = ANY (e.event_types)
ON CONFLICT (endpoint_id, event_key) DO NOTHING;

-- name: WebhookUndispatched :many
-- WebhookUndispatched claims messages whose delivery has not started.
SELECT id, generation FROM webhook_messages
WHERE dispatched_at IS NULL
ORDER BY created_at
LIMIT @max_rows
FOR UPDATE SKIP LOCKED;

-- name: WebhookDispatched :exec
UPDATE webhook_messages SET dispatched_at = now() WHERE id = @id AND generation = @generation;

-- name: WebhookMessageGet :one
SELECT * FROM webhook_messages WHERE id = @id;

-- name: WebhookMessageInWorkspace :one
SELECT m.* FROM webhook_messages m WHERE m.id = @id AND m.endpoint_id = @endpoint_id AND m.workspace_id = @workspace_id;

-- name: WebhookMessages :many
SELECT * FROM webhook_messages
WHERE endpoint_id = @endpoint_id AND workspace_id = @workspace_id AND (sqlc.narg(before)::text IS NULL OR id < sqlc.narg(before)::text)
ORDER BY id DESC LIMIT @max_rows;

-- name: WebhookAttemptRecord :exec
INSERT INTO webhook_attempts (message_id, generation, attempt, status_code, error, latency_ms, response)
VALUES (@message_id, @generation, @attempt, sqlc.narg(status_code), sqlc.narg(error), @latency_ms, sqlc.narg(response))
ON CONFLICT (message_id, generation, attempt) DO NOTHING;

-- name: WebhookMessageAttempted :exec
UPDATE webhook_messages SET attempts = attempts + 1 WHERE id = @id;

-- name: WebhookMessageDelivered :exec
UPDATE webhook_messages SET status = 'delivered', delivered_at = now() WHERE id = @id AND generation = @generation;

-- name: WebhookMessageDead :exec
UPDATE webhook_messages SET status = 'dead' WHERE id = @id AND generation = @generation AND status = 'pending';

-- name: WebhookMessageResend :one
-- WebhookMessageResend queues a message again as a new generation, unless
-- it is still being delivered.
UPDATE webhook_messages SET status = 'pending', generation = generation + 1, dispatched_at = NULL, delivered_at = NULL
WHERE id = @id AND status <> 'pending'
RETURNING *;

-- name: WebhookAttempts :many
SELECT * FROM webhook_attempts WHERE message_id = @message_id ORDER BY generation DESC, attempt DESC LIMIT 200;
