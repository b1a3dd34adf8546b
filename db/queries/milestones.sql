-- name: MilestoneInsert :one
INSERT INTO milestones (id, workspace_id, name, position, due_days, rule_kind, event_type, min_events, definition, category, min_score)
VALUES (@id, @workspace_id, @name, @position, sqlc.narg(due_days), @rule_kind, sqlc.narg(event_type), sqlc.narg(min_events),
        sqlc.narg(definition), sqlc.narg(category), sqlc.narg(min_score))
RETURNING *;

-- name: MilestoneUpdate :one
UPDATE milestones SET name = @name, position = @position, due_days = sqlc.narg(due_days), rule_kind = @rule_kind,
    event_type = sqlc.narg(event_type), min_events = sqlc.narg(min_events), definition = sqlc.narg(definition),
    category = sqlc.narg(category), min_score = sqlc.narg(min_score), updated_at = now()
WHERE id = @id AND workspace_id = @workspace_id
RETURNING *;

-- name: MilestoneGet :one
SELECT * FROM milestones WHERE id = @id AND workspace_id = @workspace_id;

-- name: MilestoneList :many
SELECT * FROM milestones WHERE workspace_id = @workspace_id ORDER BY position, name LIMIT 1000;

-- name: MilestoneDelete :execrows
DELETE FROM milestones WHERE id = @id AND workspace_id = @workspace_id;

-- name: CustomerMilestones :many
-- CustomerMilestones lists the workspace's milestones with the customer's
-- achievement of each, in order.
SELECT sqlc.embed(m), cm.achieved_at, cm.achieved_by
FROM milestones m
LEFT JOIN customer_milestones cm ON cm.milestone_id = m.id AND cm.customer_id = @customer_id
WHERE m.workspace_id = @workspace_id
ORDER BY m.position, m.name
LIMIT 1000;

-- name: MilestonesAchieveByEvents :many
-- MilestonesAchieveByEvents records every events-rule milestone that the
-- customers' totals now reach. The primary key makes each achievement
-- happen once however many batches race to it.
INSERT INTO customer_milestones (customer_id, milestone_id, workspace_id, achieved_by)
SELECT t.customer_id, m.id, m.workspace_id, 'events'
FROM customer_event_totals t
JOIN milestones m ON m.workspace_id = @workspace_id AND m.rule_kind = 'events'
    AND m.event_type = t.type AND t.events >= m.min_events
WHERE t.customer_id = ANY (@customer_ids::text[])
ORDER BY 1, 2
ON CONFLICT DO NOTHING
RETURNING customer_id, milestone_id, achieved_at;

-- name: MilestoneAchieveForAll :execrows
-- MilestoneAchieveForAll records a new or changed events-rule milestone
-- for every customer of the workspace that already reaches it.
INSERT INTO customer_milestones (customer_id, milestone_id, workspace_id, achieved_by)
SELECT t.customer_id, m.id, m.workspace_id, 'events'
FROM milestones m
JOIN customers c ON c.workspace_id = m.workspace_id
JOIN customer_event_totals t ON t.customer_id = c.id AND t.type = m.event_type AND t.events >= m.min_events
WHERE m.id = @milestone_id AND m.workspace_id = @workspace_id AND m.rule_kind = 'events'
ORDER BY 1, 2
ON CONFLICT DO NOTHING;

-- name: MilestonesAchieveByAssessment :many
-- MilestonesAchieveByAssessment records every assessment-rule milestone of
-- the definition that the assessment's scores reach.
INSERT INTO customer_milestones (customer_id, milestone_id, workspace_id, achieved_by)
SELECT a.customer_id, m.id, m.workspace_id, 'assessment:' || a.id
FROM assessments a
JOIN milestones m ON m.workspace_id = a.workspace_id AND m.rule_kind = 'assessment' AND m.definition = a.definition
WHERE a.id = @assessment_id
  AND coalesce(CASE WHEN coalesce(m.category, '') = '' THEN a.overall ELSE (a.categories ->> m.category)::double precision END, -1) >= m.min_score
ORDER BY 1, 2
ON CONFLICT DO NOTHING
RETURNING customer_id, milestone_id, achieved_at;

-- name: MilestoneComplete :execrows
INSERT INTO customer_milestones (customer_id, milestone_id, workspace_id, achieved_by)
VALUES (@customer_id, @milestone_id, @workspace_id, @achieved_by)
ON CONFLICT DO NOTHING;

-- name: MilestoneReopen :execrows
DELETE FROM customer_milestones WHERE customer_id = @customer_id AND milestone_id = @milestone_id AND workspace_id = @workspace_id;

-- name: MilestoneAchieveByAssessmentsForAll :execrows
-- MilestoneAchieveByAssessmentsForAll records a new or changed
-- assessment-rule milestone for every customer whose assessments reach it.
INSERT INTO customer_milestones (customer_id, milestone_id, workspace_id, achieved_by)
SELECT DISTINCT ON (a.customer_id) a.customer_id, m.id, m.workspace_id, 'assessment:' || a.id
FROM milestones m
JOIN assessments a ON a.workspace_id = m.workspace_id AND a.definition = m.definition
WHERE m.id = @milestone_id AND m.workspace_id = @workspace_id AND m.rule_kind = 'assessment'
  AND coalesce(CASE WHEN coalesce(m.category, '') = '' THEN a.overall ELSE (a.categories ->> m.category)::double precision END, -1) >= m.min_score
ORDER BY a.customer_id, a.scored_at
ON CONFLICT DO NOTHING;

-- name: MilestoneRulesLock :exec
-- MilestoneRulesLock is taken exclusively by a change of the workspace's
-- milestone rules and shared by every ingest or scoring that checks them,
-- so a rule never misses counts committed while it was being written.
SELECT pg_advisory_xact_lock(hashtext('milestones:' || @workspace_id::text));

-- name: MilestoneRulesShare :exec
SELECT pg_advisory_xact_lock_shared(hashtext('milestones:' || @workspace_id::text));
