package db

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db/sqlc"
)

// Recommendations is how an assessment's recommendations are stored.
type Recommendations struct {
	By    string                      `json:"by"`
	Items []groundwork.Recommendation `json:"items"`
}

// AssessmentResultOf builds the result of a workspace's stored assessment,
// naming its categories from the definition version it was scored with.
func AssessmentResultOf(ctx context.Context, q *sqlc.Queries, id, workspace string) (groundwork.AssessmentResult, error) {
	a, err := q.AssessmentGetInWorkspace(ctx, sqlc.AssessmentGetInWorkspaceParams{ID: id, WorkspaceID: workspace})
	if err != nil {
		return groundwork.AssessmentResult{}, err
	}
	def, err := q.AssessmentDefinitionGet(ctx, sqlc.AssessmentDefinitionGetParams{WorkspaceID: a.WorkspaceID, Slug: a.Definition, Version: a.Version})
	if err != nil {
		return groundwork.AssessmentResult{}, fmt.Errorf("load definition: %w", err)
	}
	var d groundwork.AssessmentDefinition
	if err := json.Unmarshal(def.Body, &d); err != nil {
		return groundwork.AssessmentResult{}, fmt.Errorf("decode definition: %w", err)
	}
	var scores map[string]float64
	if err := json.Unmarshal(a.Categories, &scores); err != nil {
		return groundwork.AssessmentResult{}, fmt.Errorf("decode categories: %w", err)
	}
	res := groundwork.AssessmentResult{AssessmentID: a.ID, CustomerID: a.CustomerID, Definition: a.Definition, Version: int(a.Version),
		Overall: a.Overall, Level: a.Level, Percentile: a.Percentile, CohortSize: int(a.CohortSize),
		Categories: []groundwork.CategoryScore{}, Recommendations: []groundwork.Recommendation{}, ScoredAt: a.ScoredAt.UTC().Format(time.RFC3339)}
	for _, c := range d.Categories {
		if s, ok := scores[c.Key]; ok {
			res.Categories = append(res.Categories, groundwork.CategoryScore{Key: c.Key, Name: c.Name, Score: s})
		}
	}
	if len(a.Recommendations) > 0 {
		var r Recommendations
		if err := json.Unmarshal(a.Recommendations, &r); err != nil {
			return groundwork.AssessmentResult{}, fmt.Errorf("decode recommendations: %w", err)
		}
		res.RecommendationsBy = r.By
		if r.Items != nil {
			res.Recommendations = r.Items
		}
	}
	return res, nil
}
