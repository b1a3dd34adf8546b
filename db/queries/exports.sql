-- name: ExportInsert :one
-- ExportInsert is idempotent: a retried record returns the row the first try wrote.
INSERT INTO exports (id, run_id, owner_id, format, filename, content_type, blob_key, size_bytes, sha256, rows, pages, expires_at)
VALUES (@id, @run_id, @owner_id, @format, @filename, @content_type, @blob_key, @size_bytes, @sha256, sqlc.narg(rows), sqlc.narg(pages), @expires_at)
ON CONFLICT (id) DO UPDATE SET id = EXCLUDED.id
RETURNING *;

-- name: ExportGetForOwner :one
SELECT * FROM exports WHERE id = @id AND owner_id = @owner_id;

-- name: ExportGet :one
SELECT * FROM exports WHERE id = @id;

-- name: ExportDeleteByRun :exec
DELETE FROM exports WHERE run_id = @run_id;

-- name: ExportUsageForOwner :one
-- ExportUsageForOwner is the bytes a user's unexpired exports hold.
SELECT COALESCE(SUM(size_bytes), 0)::bigint AS used
FROM exports WHERE owner_id = @owner_id AND expires_at > @now;

-- name: ExportListExpired :many
SELECT * FROM exports WHERE expires_at <= @now ORDER BY expires_at, id LIMIT @max_rows;

-- name: ExportDelete :exec
DELETE FROM exports WHERE id = @id;

-- name: ExportBlobKeysReferenced :many
-- ExportBlobKeysReferenced returns which of @keys an export row holds.
SELECT blob_key FROM exports WHERE blob_key = ANY (@keys::text[]);
