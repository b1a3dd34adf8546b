-- name: RunInputInsert :exec
INSERT INTO run_inputs (run_id, body) VALUES (@run_id, @body);

-- name: RunInputGet :one
SELECT body FROM run_inputs WHERE run_id = @run_id;

-- name: RunInputDelete :exec
DELETE FROM run_inputs WHERE run_id = @run_id;
