-- name: EventsIngest :one
-- EventsIngest stores a batch of one workspace's events in one statement:
-- each event whose ID the workspace has not sent before is stored and
-- counted in the customer's totals and daily activity. Every insert is in
-- key order, so concurrent batches lock rows in the same order.
WITH input AS (
    SELECT DISTINCT ON (t.id) t.id, t.customer_id, t.type, t.occurred_at, t.properties
    FROM (SELECT unnest(@ids::text[]) AS id, unnest(@customer_ids::text[]) AS customer_id, unnest(@types::text[]) AS type,
                 unnest(@occurred_at::timestamptz[]) AS occurred_at, unnest(@properties::jsonb[]) AS properties) t
    ORDER BY t.id
), fresh AS (
    INSERT INTO event_keys (workspace_id, id, occurred_at)
    SELECT @workspace_id, id, occurred_at FROM input ORDER BY id
    ON CONFLICT DO NOTHING
    RETURNING id
), stored AS (
    INSERT INTO events (workspace_id, customer_id, id, type, occurred_at, properties)
    SELECT @workspace_id, i.customer_id, i.id, i.type, i.occurred_at, i.properties
    FROM input i JOIN fresh f ON f.id = i.id
    RETURNING customer_id, type, occurred_at
), daily AS (
    INSERT INTO customer_activity_daily (customer_id, day, type, workspace_id, events)
    SELECT customer_id, (occurred_at AT TIME ZONE 'UTC')::date, type, @workspace_id, count(*)
    FROM stored GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (customer_id, day, type) DO UPDATE SET events = customer_activity_daily.events + excluded.events
    RETURNING 1
), totals AS (
    INSERT INTO customer_event_totals (customer_id, type, events, last_at)
    SELECT customer_id, type, count(*), max(occurred_at)
    FROM stored GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (customer_id, type) DO UPDATE
    SET events = customer_event_totals.events + excluded.events,
        last_at = greatest(customer_event_totals.last_at, excluded.last_at)
    RETURNING 1
), activity AS (
    INSERT INTO customer_activity (customer_id, last_activity_at, events)
    SELECT customer_id, max(occurred_at), count(*)
    FROM stored GROUP BY 1 ORDER BY 1
    ON CONFLICT (customer_id) DO UPDATE
    SET events = customer_activity.events + excluded.events,
        last_activity_at = greatest(customer_activity.last_activity_at, excluded.last_activity_at)
    RETURNING 1
)
SELECT (SELECT count(*) FROM stored)::bigint AS stored;

-- name: EventsDeleteForCustomer :exec
DELETE FROM events WHERE customer_id = @customer_id AND workspace_id = @workspace_id;

-- name: EventPartitions :one
SELECT coalesce(created, 0)::integer AS created, coalesce(dropped, 0)::integer AS dropped FROM event_partitions(@ahead_months::integer, @retention::interval);

-- name: CustomerActivityDays :many
-- CustomerActivityDays returns a customer's daily counts by type from @since.
SELECT day, type, events FROM customer_activity_daily
WHERE customer_id = @customer_id AND day >= @since::date
ORDER BY day, type;

-- name: CustomerEventTotals :many
SELECT type, events, last_at FROM customer_event_totals WHERE customer_id = @customer_id ORDER BY type;

-- name: CustomerEventsHourly :many
-- CustomerEventsHourly counts a customer's raw events by hour and type.
SELECT date_trunc('hour', occurred_at, 'UTC')::timestamptz AS bucket, type, count(*)::bigint AS events
FROM events
WHERE customer_id = @customer_id AND workspace_id = @workspace_id
  AND occurred_at >= @from_at::timestamptz AND occurred_at < @to_at::timestamptz
GROUP BY 1, 2 ORDER BY 1, 2;
