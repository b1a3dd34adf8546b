-- name: UserEnsure :exec
INSERT INTO users (id) VALUES (@id) ON CONFLICT (id) DO NOTHING;
