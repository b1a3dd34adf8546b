-- name: RunGetByIdempotencyKey :one
SELECT * FROM runs WHERE owner_id = @owner_id AND idempotency_key = @idempotency_key;

-- name: RunGet :one
SELECT * FROM runs WHERE id = @id;

-- name: RunGetForOwner :one
SELECT * FROM runs WHERE id = @id AND owner_id = @owner_id;

-- name: RunList :many
SELECT * FROM runs
WHERE owner_id = @owner_id
  AND (sqlc.narg(kind)::text IS NULL OR kind = sqlc.narg(kind)::text)
  AND (sqlc.narg(status)::run_status IS NULL OR status = sqlc.narg(status)::run_status)
  AND (sqlc.narg(before_created_at)::timestamptz IS NULL
       OR (created_at, id) < (sqlc.narg(before_created_at)::timestamptz, @before_id::text))
ORDER BY created_at DESC, id DESC
LIMIT @max_rows;

-- name: RunListWorkspace :many
-- RunListWorkspace is RunList over every user of a workspace (admins only).
SELECT * FROM runs
WHERE workspace_id = @workspace_id
  AND (sqlc.narg(kind)::text IS NULL OR kind = sqlc.narg(kind)::text)
  AND (sqlc.narg(status)::run_status IS NULL OR status = sqlc.narg(status)::run_status)
  AND (sqlc.narg(before_created_at)::timestamptz IS NULL
       OR (created_at, id) < (sqlc.narg(before_created_at)::timestamptz, @before_id::text))
ORDER BY created_at DESC, id DESC
LIMIT @max_rows;

-- name: RunMarkRunning :exec
UPDATE runs SET status = 'running', updated_at = now()
WHERE id = @id AND status = 'queued';

-- name: RunFinish :one
-- RunFinish closes a run once; a retried finish leaves the first outcome.
UPDATE runs
SET status = @status, result = @result, error = @error, progress = @progress, updated_at = now(), closed_at = now()
WHERE id = @id AND closed_at IS NULL
RETURNING *;

-- name: RunDelete :exec
DELETE FROM runs WHERE id = @id;

-- name: RunCreate :one
-- RunCreate records the owner, the run and its input in one statement, so
-- starting a run costs one round trip; the foreign keys are checked at the
-- end of the statement, after all three inserts. No row comes back when the
-- owner already used the idempotency key, or already has max_open runs
-- that have not ended (the caller tells which apart).
WITH owner AS (
    INSERT INTO users (id) VALUES (@owner_id) ON CONFLICT (id) DO NOTHING
), workspace AS (
    INSERT INTO workspaces (id) VALUES (@workspace_id) ON CONFLICT (id) DO NOTHING
), created AS (
    INSERT INTO runs (id, owner_id, workspace_id, kind, idempotency_key, request_hash)
    SELECT @id, @owner_id, @workspace_id, @kind, sqlc.narg(idempotency_key), @request_hash
    WHERE (SELECT count(*) FROM runs WHERE owner_id = @owner_id AND status IN ('queued', 'running')) < @max_open::bigint
    ON CONFLICT (owner_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING *
), input AS (
    INSERT INTO run_inputs (run_id, body) SELECT created.id, @body::bytea FROM created
)
SELECT * FROM created;

-- name: RunMarkResultExpired :exec
-- RunMarkResultExpired notes in a run's result that its file was deleted.
UPDATE runs SET result = jsonb_set(result, '{expired}', 'true'::jsonb), updated_at = now()
WHERE id = @id AND result IS NOT NULL;

-- name: RunWorkspace :one
SELECT workspace_id FROM runs WHERE id = @id;

-- name: RunCountOpen :one
-- RunCountOpen counts a user's runs that have not ended.
SELECT count(*) FROM runs WHERE owner_id = @owner_id AND status IN ('queued', 'running');

-- name: RunForgetIdempotencyKeys :execrows
-- RunForgetIdempotencyKeys forgets the idempotency keys of runs created
-- before before: a repeat after that starts a new run.
UPDATE runs SET idempotency_key = NULL
WHERE idempotency_key IS NOT NULL AND created_at < @before;
