-- name: DeadLetterInsert :exec
INSERT INTO dead_letters (id, workspace_id, owner_id, kind, run_id, message_id, generation, endpoint_id, error_type, error, attempts, body)
VALUES (@id, @workspace_id, @owner_id, @kind, sqlc.narg(run_id), sqlc.narg(message_id), sqlc.narg(generation), sqlc.narg(endpoint_id),
        @error_type, @error, @attempts, sqlc.narg(body))
ON CONFLICT DO NOTHING;

-- name: DeadLetterList :many
-- DeadLetterList pages through a workspace's dead letters, newest first;
-- @owner_id narrows them to one user's (a member's view).
SELECT * FROM dead_letters
WHERE workspace_id = @workspace_id
  AND (sqlc.narg(owner_id)::text IS NULL OR owner_id = sqlc.narg(owner_id)::text)
  AND (sqlc.narg(kind)::text IS NULL OR kind = sqlc.narg(kind)::text)
  AND (sqlc.narg(endpoint_id)::text IS NULL OR endpoint_id = sqlc.narg(endpoint_id)::text)
  AND (sqlc.narg(error_type)::text IS NULL OR error_type = sqlc.narg(error_type)::text)
  AND (sqlc.narg(since)::timestamptz IS NULL OR created_at >= sqlc.narg(since)::timestamptz)
  AND (sqlc.narg(replayed)::boolean IS NULL OR (replayed_at IS NOT NULL) = sqlc.narg(replayed)::boolean)
  AND (sqlc.narg(before)::text IS NULL OR id < sqlc.narg(before)::text)
ORDER BY id DESC
LIMIT @max_rows;

-- name: DeadLetterGet :one
SELECT * FROM dead_letters WHERE id = @id AND workspace_id = @workspace_id;

-- name: DeadLetterClaim :one
-- DeadLetterClaim marks an entry replayed, once: a second claim finds no row.
UPDATE dead_letters SET replayed_at = now(), replayed_as = @replayed_as
WHERE id = @id AND workspace_id = @workspace_id AND replayed_at IS NULL
RETURNING *;

-- name: DeadLetterUnclaim :exec
UPDATE dead_letters SET replayed_at = NULL, replayed_as = NULL WHERE id = @id;
