-- name: SessionGet :one
SELECT * FROM sessions WHERE user_id = @user_id AND id = @id;

-- name: SessionInsert :one
-- SessionInsert records a session the first time a token carries it; a
-- concurrent first request of the same session keeps the first row.
INSERT INTO sessions (user_id, id, workspace_id, user_agent, ip)
VALUES (@user_id, @id, @workspace_id, @user_agent, @ip)
ON CONFLICT (user_id, id) DO UPDATE SET user_id = excluded.user_id
RETURNING *;

-- name: SessionEvictBeyond :execrows
-- SessionEvictBeyond revokes a user's live sessions beyond the most
-- recently used max_live ones.
UPDATE sessions s SET revoked_at = now(), revoked_reason = 'evicted'
WHERE s.user_id = @user_id AND s.revoked_at IS NULL AND s.last_seen > @idle_since
  AND s.id NOT IN (
      SELECT k.id FROM sessions k
      WHERE k.user_id = @user_id AND k.revoked_at IS NULL AND k.last_seen > @idle_since
      ORDER BY k.last_seen DESC, k.first_seen DESC
      LIMIT @max_live);

-- name: SessionTouch :exec
UPDATE sessions SET last_seen = now() WHERE user_id = @user_id AND id = @id AND revoked_at IS NULL;

-- name: SessionRevoke :execrows
-- SessionRevoke revokes a session for good; a revoked one stays revoked.
UPDATE sessions SET revoked_at = coalesce(revoked_at, now()), revoked_reason = coalesce(revoked_reason, @reason)
WHERE user_id = @user_id AND id = @id;

-- name: SessionRevokeInWorkspace :execrows
-- SessionRevokeInWorkspace is an admin's revocation of any session of the
-- workspace.
UPDATE sessions SET revoked_at = coalesce(revoked_at, now()), revoked_reason = coalesce(revoked_reason, 'revoked')
WHERE workspace_id = @workspace_id AND id = @id;

-- name: SessionListForUser :many
SELECT * FROM sessions WHERE user_id = @user_id ORDER BY last_seen DESC LIMIT 100;

-- name: SessionExpireOld :execrows
-- SessionExpireOld ends live sessions unused since before, as idle; the
-- row stays, so a token that names the session later finds it dead.
UPDATE sessions SET revoked_at = now(), revoked_reason = 'idle'
WHERE revoked_at IS NULL AND last_seen < @before;

-- name: SessionDeleteTombstones :execrows
-- SessionDeleteTombstones deletes sessions that ended before before: long
-- enough that no token naming them can still be valid.
DELETE FROM sessions WHERE revoked_at < @before::timestamptz;
