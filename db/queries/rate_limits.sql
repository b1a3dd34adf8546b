-- name: RateWindowsHit :many
-- RateWindowsHit counts one request in each of a key's windows (keys[i]
-- of widths[i] seconds) and returns each window's count and start, with
-- the database's now, from which the window's reset follows.
WITH t AS (SELECT unnest(@keys::text[]) AS k, unnest(@widths::int[]) AS w)
INSERT INTO rate_windows AS rw (key, window_start, hits)
SELECT t.k, date_bin(make_interval(secs => t.w), now(), timestamptz '2000-01-01 00:00:00+00'), 1 FROM t
ON CONFLICT (key, window_start) DO UPDATE SET hits = rw.hits + 1
RETURNING rw.key, rw.hits, rw.window_start, now()::timestamptz AS db_now;

-- name: RateWindowsDeleteBefore :execrows
DELETE FROM rate_windows WHERE window_start < @before;

-- name: RateSlotsDeleteIdle :execrows
-- RateSlotsDeleteIdle deletes the slot rows of keys idle since before; a
-- key used again starts afresh, as it would after that long anyway.
DELETE FROM rate_slots WHERE next_at < @before;

-- name: RateBucketsDeleteIdle :execrows
-- RateBucketsDeleteIdle deletes buckets untouched since before: they would
-- have refilled completely.
DELETE FROM rate_buckets WHERE updated_at < @before;
