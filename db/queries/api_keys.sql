-- name: APIKeyInsert :one
INSERT INTO api_keys (user_id, name, prefix, hash)
VALUES (@user_id, @name, @prefix, @hash)
RETURNING *;

-- name: APIKeyGetByHash :one
SELECT * FROM api_keys WHERE hash = @hash AND revoked_at IS NULL;
