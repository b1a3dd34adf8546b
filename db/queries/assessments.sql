-- name: AssessmentDefinitionLatest :one
SELECT * FROM assessment_definitions WHERE workspace_id = @workspace_id AND slug = @slug ORDER BY version DESC LIMIT 1;

-- name: AssessmentDefinitionGet :one
SELECT * FROM assessment_definitions WHERE workspace_id = @workspace_id AND slug = @slug AND version = @version;

-- name: AssessmentDefinitionInsert :one
INSERT INTO assessment_definitions (workspace_id, slug, version, body, body_hash, created_by)
VALUES (@workspace_id, @slug, @version, @body, @body_hash, @created_by)
RETURNING *;

-- name: AssessmentDefinitionList :many
-- AssessmentDefinitionList lists the latest version of each of the workspace's definitions.
SELECT DISTINCT ON (slug) * FROM assessment_definitions WHERE workspace_id = @workspace_id ORDER BY slug, version DESC LIMIT 500;

-- name: AssessmentInsert :one
-- AssessmentInsert stores a scored assessment; a retried attempt finds the
-- first one's row and changes nothing.
INSERT INTO assessments (id, workspace_id, customer_id, definition, version, overall, level, categories, percentile, cohort_size, recommendations)
VALUES (@id, @workspace_id, @customer_id, @definition, @version, @overall, @level, @categories, @percentile, @cohort_size, @recommendations)
ON CONFLICT (id) DO NOTHING
RETURNING *;

-- name: AssessmentGet :one
SELECT * FROM assessments WHERE id = @id;

-- name: AssessmentGetInWorkspace :one
SELECT * FROM assessments WHERE id = @id AND workspace_id = @workspace_id;

-- name: AssessmentCohort :one
-- AssessmentCohort counts the workspace's other assessments of the same
-- definition version below and equal to @overall.
SELECT count(*) FILTER (WHERE overall < @overall)::bigint AS below,
       count(*) FILTER (WHERE overall = @overall)::bigint AS equal,
       count(*)::bigint AS total
FROM assessments
WHERE workspace_id = @workspace_id AND definition = @definition AND version = @version AND id <> @id;

-- name: AssessmentLatestForCustomer :one
SELECT * FROM assessments WHERE customer_id = @customer_id AND workspace_id = @workspace_id ORDER BY scored_at DESC LIMIT 1;

-- name: AssessmentLatestPerDefinition :many
-- AssessmentLatestPerDefinition returns a customer's latest assessment of each definition.
SELECT DISTINCT ON (definition) * FROM assessments
WHERE customer_id = @customer_id AND workspace_id = @workspace_id
ORDER BY definition, scored_at DESC;

-- name: AssessmentSetRecommendations :exec
UPDATE assessments SET recommendations = @recommendations WHERE id = @id;

-- name: AssessmentDelete :exec
-- AssessmentDelete removes what a failed or canceled run stored.
WITH gone AS (DELETE FROM assessments WHERE id = @id RETURNING id, customer_id)
DELETE FROM customer_milestones cm USING gone
WHERE cm.customer_id = gone.customer_id AND cm.achieved_by = 'assessment:' || gone.id;
