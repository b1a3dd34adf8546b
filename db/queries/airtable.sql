-- name: AirtableMappingInsert :one
INSERT INTO airtable_mappings (id, owner_id, workspace_id, name, config, token_ciphertext)
VALUES (@id, @owner_id, @workspace_id, @name, @config, sqlc.narg(token_ciphertext))
RETURNING *;

-- name: AirtableMappingGetInWorkspace :one
SELECT * FROM airtable_mappings WHERE id = @id AND workspace_id = @workspace_id;

-- name: AirtableMappingGetForRun :one
-- AirtableMappingGetForRun loads a mapping only for a run of its workspace.
SELECT m.* FROM airtable_mappings m
JOIN runs r ON r.id = @run_id AND r.workspace_id = m.workspace_id
WHERE m.id = @id;

-- name: AirtableMappingGet :one
SELECT * FROM airtable_mappings WHERE id = @id;

-- name: AirtableMappingList :many
-- AirtableMappingList lists a workspace's mappings with each one's last
-- sync, in one query rather than one more per mapping.
SELECT sqlc.embed(m), s.last_run_id, s.synced_at
FROM airtable_mappings m
LEFT JOIN airtable_sync_state s ON s.mapping_id = m.id
WHERE m.workspace_id = @workspace_id
ORDER BY m.name
LIMIT @max_rows;

-- name: AirtableMappingUpdate :one
-- AirtableMappingUpdate replaces the config; a NULL token keeps the stored one.
UPDATE airtable_mappings
SET name = @name, config = @config, token_ciphertext = coalesce(sqlc.narg(token_ciphertext), token_ciphertext),
    updated_at = now()
WHERE id = @id AND workspace_id = @workspace_id
RETURNING *;

-- name: AirtableMappingDelete :execrows
DELETE FROM airtable_mappings WHERE id = @id AND workspace_id = @workspace_id;

-- name: AirtableAuditPage :many
-- AirtableAuditPage pages through a mapping's audit log, newest first.
SELECT * FROM airtable_audit
WHERE mapping_id = @mapping_id AND (sqlc.narg(before)::bigint IS NULL OR id < sqlc.narg(before)::bigint)
ORDER BY id DESC
LIMIT @max_rows;

-- name: AirtableSyncStateGet :one
SELECT * FROM airtable_sync_state WHERE mapping_id = @mapping_id;

-- name: AirtableSyncStateSave :exec
INSERT INTO airtable_sync_state (mapping_id, airtable_cursor, postgres_cursor, last_run_id, synced_at)
VALUES (@mapping_id, sqlc.narg(airtable_cursor), sqlc.narg(postgres_cursor), @last_run_id, now())
ON CONFLICT (mapping_id) DO UPDATE
SET airtable_cursor = excluded.airtable_cursor, postgres_cursor = excluded.postgres_cursor,
    last_run_id = excluded.last_run_id, synced_at = excluded.synced_at, running_run_id = NULL;

-- name: AirtableStagingPut :batchexec
INSERT INTO airtable_staging (run_id, airtable_id, key, fields, modified)
VALUES (@run_id, @airtable_id, @key, @fields, sqlc.narg(modified))
ON CONFLICT (run_id, airtable_id) DO UPDATE SET key = excluded.key, fields = excluded.fields, modified = excluded.modified;

-- name: AirtableStagingList :many
SELECT * FROM airtable_staging WHERE run_id = @run_id ORDER BY key;

-- name: AirtableLinksAll :many
SELECT * FROM airtable_links WHERE mapping_id = @mapping_id;

-- name: AirtableLinkPut :batchexec
INSERT INTO airtable_links (mapping_id, key, airtable_id, synced, synced_at)
VALUES (@mapping_id, @key, sqlc.narg(airtable_id), @synced, now())
ON CONFLICT (mapping_id, key) DO UPDATE
SET airtable_id = coalesce(excluded.airtable_id, airtable_links.airtable_id), synced = excluded.synced, synced_at = now();

-- name: AirtableLinksDelete :exec
DELETE FROM airtable_links WHERE mapping_id = @mapping_id AND key = ANY (@keys::text[]);

-- name: AirtablePlanPending :many
-- AirtablePlanPending lists a run's decisions not yet applied to both sides,
-- by key from after @after: those with an Airtable write still to do, or
-- those without, or (NULL) both.
SELECT * FROM airtable_plan
WHERE run_id = @run_id AND key > @after AND error IS NULL AND (NOT airtable_done OR NOT postgres_done)
  AND (sqlc.narg(for_airtable)::boolean IS NULL OR (NOT airtable_done AND airtable_op <> 'none') = sqlc.narg(for_airtable)::boolean)
ORDER BY key
LIMIT @max_rows;

-- name: AirtablePlanMark :exec
UPDATE airtable_plan
SET airtable_done = airtable_done OR @airtable_done, postgres_done = postgres_done OR @postgres_done,
    error = coalesce(sqlc.narg(error), error)
WHERE run_id = @run_id AND key = @key;

-- name: AirtablePlanMarkDone :exec
UPDATE airtable_plan SET airtable_done = true, postgres_done = true
WHERE run_id = @run_id AND key = ANY (@keys::text[]);

-- name: AirtableRunScratchDelete :exec
WITH s AS (DELETE FROM airtable_staging WHERE airtable_staging.run_id = @run_id)
DELETE FROM airtable_plan WHERE airtable_plan.run_id = @run_id;

-- name: AirtableAuditInsert :copyfrom
INSERT INTO airtable_audit (mapping_id, run_id, record_key, field, action, written_to, old_value, new_value, winner, conflict, losing_value)
VALUES (@mapping_id, @run_id, @record_key, @field, @action, @written_to, @old_value, @new_value, @winner, @conflict, @losing_value);

-- name: AirtablePlanFailures :many
SELECT key, coalesce(error, '')::text AS error FROM airtable_plan WHERE run_id = @run_id AND error IS NOT NULL ORDER BY key LIMIT @max_rows;

-- name: AirtableSyncLease :one
-- AirtableSyncLease makes @run_id the mapping's running sync unless another
-- open run holds it; a run that closed without letting go does not count.
INSERT INTO airtable_sync_state (mapping_id, running_run_id) VALUES (@mapping_id, @run_id)
ON CONFLICT (mapping_id) DO UPDATE SET running_run_id = excluded.running_run_id
WHERE airtable_sync_state.running_run_id IS NULL
   OR airtable_sync_state.running_run_id = excluded.running_run_id
   OR NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = airtable_sync_state.running_run_id AND r.closed_at IS NULL)
RETURNING running_run_id;

-- name: AirtableSyncRelease :exec
UPDATE airtable_sync_state SET running_run_id = NULL WHERE running_run_id = @run_id;

-- name: AirtableSyncRunning :one
-- AirtableSyncRunning returns the mapping's open running sync, if any.
SELECT s.running_run_id::text FROM airtable_sync_state s
JOIN runs r ON r.id = s.running_run_id AND r.closed_at IS NULL
WHERE s.mapping_id = @mapping_id;

-- name: AirtableMappingForget :exec
-- AirtableMappingForget drops a mapping's cursors and links, for when it
-- now pairs other tables or another key: the next sync starts afresh.
WITH l AS (DELETE FROM airtable_links WHERE airtable_links.mapping_id = @mapping_id)
DELETE FROM airtable_sync_state WHERE airtable_sync_state.mapping_id = @mapping_id;

-- name: AirtableLinksForKeys :many
SELECT * FROM airtable_links WHERE mapping_id = @mapping_id AND key = ANY (@keys::text[]);

-- name: AirtableSyncTableGet :one
SELECT * FROM airtable_sync_tables WHERE table_name = @table_name;

-- name: AirtableSyncTablePut :exec
INSERT INTO airtable_sync_tables (table_name, workspace_id, workspace_column)
VALUES (@table_name, sqlc.narg(workspace_id), sqlc.narg(workspace_column))
ON CONFLICT (table_name) DO UPDATE SET workspace_id = excluded.workspace_id, workspace_column = excluded.workspace_column;

-- name: AirtableSyncTableDelete :execrows
DELETE FROM airtable_sync_tables WHERE table_name = @table_name;

-- name: AirtableSyncTableList :many
SELECT * FROM airtable_sync_tables ORDER BY table_name;
