-- name: NotificationPrefsGet :one
SELECT * FROM notification_preferences WHERE user_id = @user_id;

-- name: NotificationPrefsPut :one
-- NotificationPrefsPut saves a user's preferences. A new address waits in
-- pending_email until confirmed, while the confirmed one stays in use; an
-- empty one clears both. Saving with unsubscribed false subscribes again.
INSERT INTO notification_preferences (user_id, email, pending_email, events, delivery, weekly_digest, unsubscribed_at)
VALUES (@user_id, '', @email, @events, @delivery, @weekly_digest, CASE WHEN @unsubscribed::boolean THEN now() END)
ON CONFLICT (user_id) DO UPDATE SET
    email = CASE WHEN excluded.pending_email = '' THEN '' ELSE notification_preferences.email END,
    pending_email = CASE WHEN excluded.pending_email = notification_preferences.email THEN '' ELSE excluded.pending_email END,
    events = excluded.events, delivery = excluded.delivery, weekly_digest = excluded.weekly_digest,
    unsubscribed_at = CASE WHEN @unsubscribed::boolean THEN coalesce(notification_preferences.unsubscribed_at, now()) END,
    updated_at = now()
RETURNING *;

-- name: NotificationConfirm :execrows
-- NotificationConfirm makes a pending address the user's, when it is
-- still the one waiting.
UPDATE notification_preferences SET email = pending_email, pending_email = '', updated_at = now()
WHERE user_id = @user_id AND pending_email = @email::text AND pending_email <> '';

-- name: NotificationUnsubscribe :execrows
UPDATE notification_preferences SET unsubscribed_at = coalesce(unsubscribed_at, now()), updated_at = now()
WHERE user_id = @user_id;

-- name: EmailEnqueue :execrows
-- EmailEnqueue writes a user's notification to the outbox when they chose
-- it and belongs to the workspace: the first of @types (most specific
-- first) they chose is the one sent, with its template from @templates.
-- An id already written is skipped, so an event recorded twice is one
-- e-mail.
INSERT INTO email_messages (id, user_id, workspace_id, event_type, template, data, digest)
SELECT @id, p.user_id, @workspace_id, t.type, t.template, @data, p.delivery = 'daily'
FROM notification_preferences p
CROSS JOIN LATERAL (
    SELECT x.type, y.template
    FROM unnest(@types::text[]) WITH ORDINALITY AS x(type, n)
    JOIN unnest(@templates::text[]) WITH ORDINALITY AS y(template, n) USING (n)
    WHERE x.type = ANY (p.events)
    ORDER BY n
    LIMIT 1
) t(type, template)
WHERE p.user_id = @user_id AND p.unsubscribed_at IS NULL AND p.email <> ''
  AND EXISTS (SELECT 1 FROM workspace_members wm WHERE wm.user_id = p.user_id AND wm.workspace_id = @workspace_id)
ON CONFLICT (id) DO NOTHING;

-- name: EmailUndispatched :many
-- EmailUndispatched claims e-mails whose send has not started.
SELECT id FROM email_messages
WHERE dispatched_at IS NULL AND NOT digest
ORDER BY created_at
LIMIT @max_rows
FOR UPDATE SKIP LOCKED;

-- name: EmailDispatched :exec
UPDATE email_messages SET dispatched_at = now() WHERE id = @id;

-- name: EmailGet :one
-- EmailGet loads an outbox e-mail with the address it goes to now.
SELECT sqlc.embed(m), coalesce(m.to_address, p.email, '')::text AS address,
    (p.user_id IS NOT NULL AND p.unsubscribed_at IS NULL AND coalesce(m.to_address, p.email) <> '')::boolean AS subscribed
FROM email_messages m
LEFT JOIN notification_preferences p ON p.user_id = m.user_id
WHERE m.id = @id;

-- name: EmailAttempted :exec
UPDATE email_messages SET attempts = attempts + 1, error = sqlc.narg(error) WHERE id = @id;

-- name: EmailClose :execrows
-- EmailClose records how a pending e-mail ended: sent, suppressed or failed.
UPDATE email_messages SET status = @status, error = sqlc.narg(error),
    sent_at = CASE WHEN @status = 'sent' THEN now() END
WHERE id = @id AND status = 'pending';

-- name: EmailDigestUsers :many
-- EmailDigestUsers lists the users with notifications waiting for the
-- daily digest, received before @before.
SELECT DISTINCT user_id, workspace_id FROM email_messages
WHERE digest AND status = 'pending' AND created_at < @before
ORDER BY user_id, workspace_id
LIMIT @max_rows;

-- name: EmailDigestTake :many
-- EmailDigestTake marks a user's waiting notifications of a workspace as
-- digested and returns them, oldest first.
UPDATE email_messages SET status = 'digested'
WHERE id IN (
    SELECT w.id FROM email_messages w
    WHERE w.user_id = @user_id AND w.workspace_id = @workspace_id AND w.digest AND w.status = 'pending' AND w.created_at < @before
    ORDER BY w.created_at
    LIMIT 200
    FOR UPDATE
)
RETURNING id, template, data, created_at;

-- name: EmailInsert :execrows
-- EmailInsert writes a digest or a confirmation to the outbox; its id
-- says which, so writing it again writes nothing.
INSERT INTO email_messages (id, user_id, workspace_id, event_type, template, data, digest, to_address)
VALUES (@id, @user_id, @workspace_id, @event_type, @template, @data, false, sqlc.narg(to_address))
ON CONFLICT (id) DO NOTHING;

-- name: EmailExists :one
SELECT EXISTS (SELECT 1 FROM email_messages WHERE id = @id)::boolean;

-- name: EmailWeeklyUsers :many
-- EmailWeeklyUsers pages, after @after_user, through the users who chose
-- the weekly digest.
SELECT p.user_id FROM notification_preferences p
WHERE p.weekly_digest AND p.unsubscribed_at IS NULL AND p.email <> '' AND p.user_id > @after_user
ORDER BY p.user_id
LIMIT @max_rows;

-- name: EmailWeeklyWorkspaces :many
-- EmailWeeklyWorkspaces lists the workspaces where a user is a member and
-- owns customers.
SELECT DISTINCT c.workspace_id FROM customers c
JOIN workspace_members wm ON wm.workspace_id = c.workspace_id AND wm.user_id = @user_id::text
WHERE c.owner_user_id = @user_id::text
ORDER BY c.workspace_id;

-- name: EmailWeeklyCustomers :many
-- EmailWeeklyCustomers returns the customers a user owns in a workspace,
-- with their last activity.
SELECT c.id, c.name, c.stage, c.started_at, a.last_activity_at
FROM customers c
LEFT JOIN customer_activity a ON a.customer_id = c.id
WHERE c.workspace_id = @workspace_id AND c.owner_user_id = @user_id AND c.stage <> 'churned'
ORDER BY c.name
LIMIT 500;

-- name: CustomersActivityDays :many
-- CustomersActivityDays returns several customers' daily counts by type from @since.
SELECT customer_id, day, type, events FROM customer_activity_daily
WHERE customer_id = ANY (@ids::text[]) AND day >= @since;

-- name: StalledCustomersDetect :many
-- StalledCustomersDetect records up to @max_rows customers stalled (no
-- event since @stalled_before, churned ones aside) whose stall began
-- after @began_after and has not been recorded yet, and returns them: a
-- customer quiet for years is not news, on the first pass or after an
-- outage of the schedule.
WITH stalled AS (
    SELECT c.id, coalesce(a.last_activity_at, c.started_at)::timestamptz AS last_seen_at
    FROM customers c
    LEFT JOIN customer_activity a ON a.customer_id = c.id
    LEFT JOIN customer_stalled s ON s.customer_id = c.id
    WHERE c.stage <> 'churned' AND coalesce(a.last_activity_at, c.started_at) < @stalled_before
      AND coalesce(a.last_activity_at, c.started_at) >= @began_after
      AND (s.customer_id IS NULL OR s.last_seen_at <> coalesce(a.last_activity_at, c.started_at))
    LIMIT @max_rows
), marked AS (
    INSERT INTO customer_stalled (customer_id, last_seen_at)
    SELECT id, last_seen_at FROM stalled
    ON CONFLICT (customer_id) DO UPDATE SET last_seen_at = excluded.last_seen_at, detected_at = now()
    RETURNING customer_id, last_seen_at
)
SELECT c.id, c.workspace_id, c.external_id, c.name, c.stage, c.owner_user_id, m.last_seen_at
FROM marked m JOIN customers c ON c.id = m.customer_id;
