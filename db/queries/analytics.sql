-- name: AnalyticsWatermark :one
SELECT through FROM analytics_watermarks WHERE granularity = @granularity;

-- name: AnalyticsRollupDelete :exec
DELETE FROM analytics_rollups WHERE granularity = @granularity AND bucket >= @from_at AND bucket < @to_at;

-- name: AnalyticsRollupInsert :execrows
-- AnalyticsRollupInsert rolls every workspace's facts of [from, to) up
-- into buckets of @granularity, with each bucket's distinct active
-- customers.
INSERT INTO analytics_rollups (workspace_id, granularity, bucket, metric, dim, value)
SELECT f.workspace_id, @granularity::text, date_trunc(@granularity::text, f.at, 'UTC'), f.metric, f.dim, sum(f.value)
FROM analytics_facts f
WHERE f.at >= @from_at::timestamptz AND f.at < @to_at::timestamptz
GROUP BY 1, 3, 4, 5
UNION ALL
SELECT e.workspace_id, @granularity::text, date_trunc(@granularity::text, e.occurred_at, 'UTC'), 'active_customers', '', count(DISTINCT e.customer_id)
FROM events e
WHERE e.occurred_at >= @from_at::timestamptz AND e.occurred_at < @to_at::timestamptz
GROUP BY 1, 3;

-- name: AnalyticsWatermarkSet :exec
INSERT INTO analytics_watermarks (granularity, through) VALUES (@granularity, @through)
ON CONFLICT (granularity) DO UPDATE SET through = excluded.through;

-- name: AnalyticsSeries :many
-- AnalyticsSeries returns a workspace's figures in buckets of @granularity
-- (hour, day or week) over [from, to): daily rollups before @t1, hourly
-- rollups in [@t1, @t2), raw facts from @t2, so every fact is counted once
-- (the caller sets the tiers from the watermarks). Active customers come
-- only at hour granularity (see AnalyticsActiveByDay).
WITH facts AS (
    SELECT r.bucket AS at, r.metric, r.dim, r.value
    FROM analytics_rollups r
    WHERE r.workspace_id = @workspace_id AND r.granularity = 'day'
      AND r.bucket >= @from_at::timestamptz AND r.bucket < least(@to_at::timestamptz, @t1::timestamptz)
      AND r.metric <> 'active_customers'
    UNION ALL
    SELECT r.bucket, r.metric, r.dim, r.value
    FROM analytics_rollups r
    WHERE r.workspace_id = @workspace_id AND r.granularity = 'hour'
      AND r.bucket >= greatest(@from_at::timestamptz, @t1::timestamptz) AND r.bucket < least(@to_at::timestamptz, @t2::timestamptz)
      AND (r.metric <> 'active_customers' OR @granularity::text = 'hour')
    UNION ALL
    SELECT f.at, f.metric, f.dim, f.value
    FROM analytics_facts f
    WHERE f.workspace_id = @workspace_id AND f.at >= greatest(@from_at::timestamptz, @t2::timestamptz) AND f.at < @to_at::timestamptz
    UNION ALL
    SELECT date_trunc('hour', e.occurred_at, 'UTC'), 'active_customers', '', count(DISTINCT e.customer_id)
    FROM events e
    WHERE @granularity::text = 'hour' AND e.workspace_id = @workspace_id
      AND e.occurred_at >= greatest(@from_at::timestamptz, @t2::timestamptz) AND e.occurred_at < @to_at::timestamptz
    GROUP BY 1
)
SELECT date_trunc(@granularity::text, at, 'UTC')::timestamptz AS bucket, metric, dim, sum(value)::double precision AS value
FROM facts
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3;

-- name: AnalyticsWatermarks :many
SELECT granularity, through FROM analytics_watermarks;

-- name: AnalyticsActive :many
-- AnalyticsActive counts a workspace's distinct active customers per day or
-- week bucket and over the whole range (the row with total set), in one
-- scan of the maintained daily activity (always fresh).
SELECT coalesce((date_trunc(@granularity::text, day::timestamp) AT TIME ZONE 'UTC')::timestamptz, 'epoch')::timestamptz AS bucket,
       (grouping(date_trunc(@granularity::text, day::timestamp)) = 1)::boolean AS total,
       count(DISTINCT customer_id)::bigint AS customers
FROM customer_activity_daily
WHERE workspace_id = @workspace_id AND day >= @from_day::date AND day < @to_day::date
GROUP BY GROUPING SETS ((date_trunc(@granularity::text, day::timestamp)), ());

-- name: AnalyticsRollupLock :exec
-- AnalyticsRollupLock holds one granularity's rollup for the transaction,
-- so two runs never interleave their delete and insert.
SELECT pg_advisory_xact_lock(hashtext('analytics_rollup:' || @granularity::text));
