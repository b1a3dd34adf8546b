-- name: APIKeyInsert :one
INSERT INTO api_keys (user_id, workspace_id, role, name, prefix, hash, expires_at)
VALUES (@user_id, @workspace_id, @role, @name, @prefix, @hash, sqlc.narg(expires_at))
RETURNING *;

-- name: APIKeyGetByHash :one
-- APIKeyGetByHash finds a live key: not revoked, not expired.
SELECT * FROM api_keys
WHERE hash = @hash AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now());

-- name: APIKeyTouch :exec
-- APIKeyTouch records a key's use at most once a minute, so using a key
-- costs no write per request.
UPDATE api_keys SET last_used_at = now()
WHERE id = @id AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute');

-- name: APIKeyList :many
SELECT * FROM api_keys WHERE workspace_id = @workspace_id ORDER BY created_at DESC, id DESC LIMIT @max_rows;

-- name: APIKeyRevoke :execrows
-- APIKeyRevoke revokes a key of the workspace; revoking twice is a no-op.
UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
WHERE id = @id AND workspace_id = @workspace_id;
