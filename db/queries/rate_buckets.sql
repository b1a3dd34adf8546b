-- Rate limits shared by every worker. rate_slots is the one limiter of
-- every outbound rate (Airtable per base and token, web domains, webhooks,
-- LLM tokens per provider); rate_buckets is no longer read or written, only
-- emptied by the cleanup schedule.

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

-- name: RateSlotsReserve :many
-- RateSlotsReserve takes one slot of each key at a single time, in one
-- statement: several limits (an Airtable base and its token) are reserved
-- atomically, or none when a key has no row yet (RateSlotsEnsure, then
-- again). Each key's next_at is its theoretical arrival time (the generic
-- cell rate algorithm): a reservation of @cost_seconds may start once
-- next_at is at most @burst_seconds - @cost_seconds ahead, and pushes
-- next_at on by its cost. The rows are locked in name order, so two
-- callers with overlapping keys cannot deadlock, and the start is taken
-- from the clock after the locks, so a caller that waited for another's
-- lock never gets a slot in the past. It returns per key the new next_at
-- (which identifies the slot to RateSlotPush) and how many seconds from
-- now the slot starts.
WITH want AS (
    SELECT unnest(@names::text[]) AS name, unnest(@cost_seconds::float8[]) AS cost,
           unnest(@burst_seconds::float8[]) AS burst
), cur AS (
    SELECT s.name, s.next_at FROM rate_slots s WHERE s.name = ANY(@names::text[]) ORDER BY s.name FOR UPDATE
), agg AS (
    SELECT max(cur.next_at - make_interval(secs => want.burst - want.cost)) AS earliest, count(*) AS n
    FROM cur JOIN want ON want.name = cur.name
), turn AS (
    SELECT c.now, GREATEST(c.now, agg.earliest) AS at, agg.n
    FROM agg, LATERAL (SELECT clock_timestamp() AS now) c
)
UPDATE rate_slots s
SET next_at = GREATEST(s.next_at, turn.at) + make_interval(secs => want.cost)
FROM want, turn
WHERE s.name = want.name AND turn.n = cardinality(@names::text[])
RETURNING s.name, s.next_at, GREATEST(EXTRACT(EPOCH FROM turn.at - turn.now)::float8, 0)::float8 AS wait_seconds,
          s.given_back;

-- name: RateSlotsEnsure :exec
-- RateSlotsEnsure creates the missing keys with a slot free since ever.
INSERT INTO rate_slots (name, next_at)
SELECT unnest(@names::text[]), '-infinity'::timestamptz
ON CONFLICT (name) DO NOTHING;

-- name: RateSlotGiveBack :exec
-- RateSlotGiveBack settles a weighted reservation: @seconds > 0 gives back
-- the part of it that was not used (the next reservation starts that much
-- sooner), @seconds < 0 charges what was used beyond it. given_back tells
-- the callers already waiting (RateSlotGivenBack).
UPDATE rate_slots
SET next_at = next_at - make_interval(secs => @seconds::float8), given_back = given_back + @seconds::float8
WHERE name = @name;

-- name: RateSlotGivenBack :one
-- RateSlotGivenBack is the seconds a key's reservations have given back
-- so far.
SELECT given_back FROM rate_slots WHERE name = @name;

-- name: RateSlotPush :one
-- RateSlotPush moves a slot that was missed to now, pushing the next free
-- slot back with it, but only while no one reserved after it (next_at is
-- still @next_at); the new next_at identifies the moved slot.
UPDATE rate_slots SET next_at = clock_timestamp() + make_interval(secs => @interval_seconds::float8)
WHERE name = @name AND next_at = @next_at
RETURNING next_at;
