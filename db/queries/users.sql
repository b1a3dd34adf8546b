-- name: UserEnsure :exec
INSERT INTO users (id) VALUES (@id) ON CONFLICT (id) DO NOTHING;

-- name: PrincipalEnsure :exec
-- PrincipalEnsure creates a caller's user and workspace rows before its
-- first write, whatever the route, and records the membership.
WITH w AS (
    INSERT INTO workspaces (id) VALUES (@workspace_id) ON CONFLICT (id) DO NOTHING
), u AS (
    INSERT INTO users (id) VALUES (@user_id) ON CONFLICT (id) DO NOTHING
)
INSERT INTO workspace_members (workspace_id, user_id)
SELECT @workspace_id, @user_id
ON CONFLICT DO NOTHING;

-- name: UserLock :one
-- UserLock serialises a user's quota checks until the transaction ends.
SELECT id FROM users WHERE id = @id FOR UPDATE;
