-- name: UserEnsure :exec
INSERT INTO users (id) VALUES (@id) ON CONFLICT (id) DO NOTHING;

-- name: UserLock :one
-- UserLock serialises a user's quota checks until the transaction ends.
SELECT id FROM users WHERE id = @id FOR UPDATE;
