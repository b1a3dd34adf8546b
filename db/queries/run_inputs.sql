-- name: RunInputGet :one
SELECT body FROM run_inputs WHERE run_id = @run_id;

-- name: RunInputDelete :exec
DELETE FROM run_inputs WHERE run_id = @run_id;
