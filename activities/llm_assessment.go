package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"go.temporal.io/sdk/temporal"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/prompts"
	"github.com/groundwork-dev/groundwork/internal/scoring"
)

// recommendTemplate is the prompt template of assessment recommendations.
const recommendTemplate = "assessment-recommendations"

// AssessmentRecommend asks the LLM chain for an Assessment run's
// recommendations, through the same cache, budget, token rate and ledger
// as any generation, and stores them over the deterministic ones
// AssessmentScore wrote. With no provider configured it keeps those and
// calls nothing. The answer is stored as the run's generation, so a retry
// never asks or bills twice.
func (a *LLM) AssessmentRecommend(ctx context.Context, in groundwork.RunInput) (groundwork.AssessmentRecommendOutput, error) {
	if len(a.Providers) == 0 {
		return groundwork.AssessmentRecommendOutput{By: "rules"}, nil
	}
	q := sqlc.New(a.Pool)
	row, err := q.AssessmentGet(ctx, in.RunID)
	if db.IsNotFound(err) {
		return groundwork.AssessmentRecommendOutput{}, temporal.NewNonRetryableApplicationError("the assessment is gone", groundwork.ErrTypeNotFound, nil)
	}
	if err != nil {
		return groundwork.AssessmentRecommendOutput{}, fmt.Errorf("load assessment: %w", err)
	}
	g, err := q.GenerationGet(ctx, in.RunID)
	if db.IsNotFound(err) {
		job, err := loadAssessment(ctx, a.Pool, in.RunID)
		if err != nil {
			return groundwork.AssessmentRecommendOutput{}, err
		}
		res, err := scoring.Score(job.def, job.req.Answers)
		if err != nil {
			return groundwork.AssessmentRecommendOutput{}, temporal.NewNonRetryableApplicationError(err.Error(), groundwork.ErrTypeInvalidInput, err)
		}
		c, err := q.CustomerGet(ctx, sqlc.CustomerGetParams{ID: row.CustomerID, WorkspaceID: row.WorkspaceID})
		if err != nil {
			return groundwork.AssessmentRecommendOutput{}, fmt.Errorf("load customer: %w", err)
		}
		tmpl, ok := prompts.Get(recommendTemplate)
		if !ok {
			return groundwork.AssessmentRecommendOutput{}, temporal.NewNonRetryableApplicationError("the "+recommendTemplate+" template is missing", groundwork.ErrTypeInvalidInput, nil)
		}
		req := groundwork.GenerateRequest{Template: recommendTemplate, Inputs: map[string]any{"customer": c.Name, "assessment": describeScores(job.def, res)}}
		if _, err := a.answer(ctx, in.RunID, in.OwnerID, req, tmpl); err != nil {
			return groundwork.AssessmentRecommendOutput{}, err
		}
		if g, err = q.GenerationGet(ctx, in.RunID); err != nil {
			return groundwork.AssessmentRecommendOutput{}, fmt.Errorf("load recommendations: %w", err)
		}
	} else if err != nil {
		return groundwork.AssessmentRecommendOutput{}, fmt.Errorf("load generation: %w", err)
	}
	var fields struct {
		Recommendations []groundwork.Recommendation `json:"recommendations"`
	}
	if len(g.Fields) == 0 || json.Unmarshal(g.Fields, &fields) != nil || len(fields.Recommendations) == 0 {
		// The answer was not the JSON asked for: the rules' recommendations stay.
		return groundwork.AssessmentRecommendOutput{By: "rules"}, nil
	}
	recs, err := json.Marshal(db.Recommendations{By: g.Provider, Items: fields.Recommendations})
	if err != nil {
		return groundwork.AssessmentRecommendOutput{}, fmt.Errorf("marshal recommendations: %w", err)
	}
	if err := q.AssessmentSetRecommendations(ctx, sqlc.AssessmentSetRecommendationsParams{ID: in.RunID, Recommendations: recs}); err != nil {
		return groundwork.AssessmentRecommendOutput{}, fmt.Errorf("store recommendations: %w", err)
	}
	return groundwork.AssessmentRecommendOutput{By: g.Provider, Count: len(fields.Recommendations)}, nil
}

// describeScores writes a scored assessment for the recommendations prompt.
func describeScores(def groundwork.AssessmentDefinition, r scoring.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: overall %.1f, level %s\n", def.Name, r.Overall, r.Level)
	for _, c := range r.Categories {
		fmt.Fprintf(&b, "- %s (%s): %.1f", c.Key, c.Name, c.Score)
		var low []string
		for _, q := range r.Questions {
			if q.Category == c.Key && q.Score < 50 {
				low = append(low, fmt.Sprintf("%q %.0f", q.Text, q.Score))
			}
		}
		if len(low) > 0 {
			b.WriteString("; lowest: " + strings.Join(low, ", "))
		}
		b.WriteString("\n")
	}
	return b.String()
}
