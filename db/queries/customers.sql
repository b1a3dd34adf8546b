-- name: CustomerInsert :one
INSERT INTO customers (id, workspace_id, external_id, name, domain, stage, owner_user_id, custom_fields, started_at)
VALUES (@id, @workspace_id, sqlc.narg(external_id), @name, sqlc.narg(domain), @stage, sqlc.narg(owner_user_id), @custom_fields, @started_at)
RETURNING *;

-- name: CustomerGet :one
-- CustomerGet loads a customer of the workspace; another's is not found.
SELECT * FROM customers WHERE id = @id AND workspace_id = @workspace_id;

-- name: CustomerUpdate :one
-- CustomerUpdate changes the given fields; NULL keeps one, '' clears an
-- optional text field.
UPDATE customers SET
    name          = coalesce(sqlc.narg(name), name),
    domain        = CASE WHEN sqlc.narg(domain)::text IS NULL THEN domain ELSE nullif(sqlc.narg(domain)::text, '') END,
    stage         = coalesce(sqlc.narg(stage), stage),
    owner_user_id = CASE WHEN sqlc.narg(owner_user_id)::text IS NULL THEN owner_user_id ELSE nullif(sqlc.narg(owner_user_id)::text, '') END,
    external_id   = CASE WHEN sqlc.narg(external_id)::text IS NULL THEN external_id ELSE nullif(sqlc.narg(external_id)::text, '') END,
    custom_fields = coalesce(sqlc.narg(custom_fields), custom_fields),
    started_at    = coalesce(sqlc.narg(started_at), started_at),
    updated_at    = now()
WHERE id = @id AND workspace_id = @workspace_id
RETURNING *;

-- name: CustomerDelete :execrows
DELETE FROM customers WHERE id = @id AND workspace_id = @workspace_id;

-- name: CustomerList :many
-- CustomerList pages through a workspace's customers, newest first, with
-- optional filters: stage, owner, a text search in name, domain and
-- external ID, and stalled (no event since @stalled_before).
SELECT sqlc.embed(c), a.last_activity_at, a.events
FROM customers c
LEFT JOIN customer_activity a ON a.customer_id = c.id
WHERE c.workspace_id = @workspace_id
  AND (sqlc.narg(before)::text IS NULL OR c.id < sqlc.narg(before)::text)
  AND (sqlc.narg(stage)::text IS NULL OR c.stage = sqlc.narg(stage)::text)
  AND (sqlc.narg(owner_user_id)::text IS NULL OR c.owner_user_id = sqlc.narg(owner_user_id)::text)
  AND (sqlc.narg(pattern)::text IS NULL OR c.name ILIKE sqlc.narg(pattern)::text OR c.domain ILIKE sqlc.narg(pattern)::text
       OR c.external_id ILIKE sqlc.narg(pattern)::text)
  AND (sqlc.narg(stalled_before)::timestamptz IS NULL
       OR (c.stage <> 'churned' AND coalesce(a.last_activity_at, c.started_at) < sqlc.narg(stalled_before)::timestamptz))
ORDER BY c.id DESC
LIMIT @max_rows;

-- name: CustomerIDsInWorkspace :many
-- CustomerIDsInWorkspace returns those of @ids that are the workspace's customers.
SELECT id FROM customers WHERE workspace_id = @workspace_id AND id = ANY (@ids::text[]);

-- name: CustomerActivityGet :one
SELECT * FROM customer_activity WHERE customer_id = @customer_id;
