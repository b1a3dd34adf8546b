-- Rate buckets shared by every worker: LLM tokens per minute per provider
-- (tpm:<provider>) and requests per domain (domain:<host>).

-- name: RateBucketEnsure :exec
INSERT INTO rate_buckets (name, tokens) VALUES (@name, @capacity) ON CONFLICT (name) DO NOTHING;

-- name: RateBucketTake :one
-- RateBucketTake refills the bucket for the time since its last update and
-- takes @n tokens when they are all there; level is the refilled level
-- before taking.
WITH cur AS (
    SELECT LEAST(@capacity::float8,
                 tokens + EXTRACT(EPOCH FROM clock_timestamp() - updated_at)::float8 * @per_second::float8) AS level
    FROM rate_buckets WHERE name = @name
    FOR UPDATE
)
UPDATE rate_buckets b
SET tokens = CASE WHEN cur.level >= @n::float8 THEN cur.level - @n::float8 ELSE cur.level END,
    updated_at = clock_timestamp()
FROM cur
WHERE b.name = @name
RETURNING (cur.level >= @n::float8)::boolean AS taken, cur.level::float8 AS level;

-- name: RateBucketReturn :exec
-- RateBucketReturn settles a reservation: n > 0 gives back what was reserved
-- but not used, n < 0 takes what was used beyond the estimate.
UPDATE rate_buckets SET tokens = LEAST(@capacity::float8, tokens + @n::float8) WHERE name = @name;

-- name: RateSlotReserve :one
-- RateSlotReserve takes the key's next free slot, at least @interval_seconds
-- after the one before it and never in the past. It returns how many
-- seconds from now the slot is, and the time after it (which identifies it
-- to RateSlotPush).
INSERT INTO rate_slots AS s (name, next_at)
VALUES (@name, clock_timestamp() + make_interval(secs => @interval_seconds::float8))
ON CONFLICT (name) DO UPDATE
SET next_at = GREATEST(s.next_at, clock_timestamp()) + make_interval(secs => @interval_seconds::float8)
RETURNING GREATEST(EXTRACT(EPOCH FROM s.next_at - clock_timestamp())::float8 - @interval_seconds::float8, 0)::float8 AS wait_seconds,
          s.next_at;

-- name: RateSlotPush :one
-- RateSlotPush moves a slot that was missed to now, pushing the next free
-- slot back with it, but only while no one reserved after it (next_at is
-- still @next_at); the new next_at identifies the moved slot.
UPDATE rate_slots SET next_at = clock_timestamp() + make_interval(secs => @interval_seconds::float8)
WHERE name = @name AND next_at = @next_at
RETURNING next_at;
