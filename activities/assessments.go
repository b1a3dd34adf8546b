package activities

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/temporal"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/scoring"
)

// Assessments scores assessments and records their runs.
type Assessments struct {
	Pool *pgxpool.Pool
	// LLM says an LLM provider is configured on the workers.
	LLM bool
}

// assessmentJob is an Assessment run's request with what it is scored
// against.
type assessmentJob struct {
	req       groundwork.AssessmentRequest
	def       groundwork.AssessmentDefinition
	workspace string
}

// loadAssessment loads a run's request, workspace and definition version;
// a request that can never be scored fails for good.
func loadAssessment(ctx context.Context, pool *pgxpool.Pool, runID string) (assessmentJob, error) {
	req, err := loadRunInput[groundwork.AssessmentRequest](ctx, pool, runID, "assessment")
	if err != nil {
		return assessmentJob{}, err
	}
	q := sqlc.New(pool)
	ws, err := q.RunWorkspace(ctx, runID)
	if err != nil {
		return assessmentJob{}, fmt.Errorf("load the run's workspace: %w", err)
	}
	job := assessmentJob{req: req, workspace: ws}
	row, err := q.AssessmentDefinitionGet(ctx, sqlc.AssessmentDefinitionGetParams{WorkspaceID: ws, Slug: req.Definition, Version: int32(req.Version)})
	if db.IsNotFound(err) {
		return job, temporal.NewNonRetryableApplicationError(fmt.Sprintf("assessment definition %s version %d is gone", req.Definition, req.Version), groundwork.ErrTypeNotFound, nil)
	}
	if err != nil {
		return job, fmt.Errorf("load definition: %w", err)
	}
	if err := json.Unmarshal(row.Body, &job.def); err != nil {
		return job, fmt.Errorf("decode definition: %w", err)
	}
	return job, nil
}

// AssessmentScore scores an Assessment run's answers and stores the result
// with its cohort percentile and the deterministic recommendations, and
// achieves the assessment-rule milestones it reaches, in one transaction.
// Run again, it finds the stored result and changes nothing.
func (a *Assessments) AssessmentScore(ctx context.Context, in groundwork.RunInput) (groundwork.AssessmentScoreOutput, error) {
	q := sqlc.New(a.Pool)
	if row, err := q.AssessmentGet(ctx, in.RunID); err == nil {
		return groundwork.AssessmentScoreOutput{AssessmentID: row.ID, Overall: row.Overall, Level: row.Level, Recommend: a.LLM}, nil
	} else if !db.IsNotFound(err) {
		return groundwork.AssessmentScoreOutput{}, fmt.Errorf("load assessment: %w", err)
	}
	job, err := loadAssessment(ctx, a.Pool, in.RunID)
	if err != nil {
		return groundwork.AssessmentScoreOutput{}, err
	}
	if errs := job.def.CheckAnswers(job.req.Answers); len(errs) > 0 {
		return groundwork.AssessmentScoreOutput{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("invalid answers: %s", errs[0].Error()), groundwork.ErrTypeInvalidInput, nil)
	}
	res, err := scoring.Score(job.def, job.req.Answers)
	if err != nil {
		return groundwork.AssessmentScoreOutput{}, temporal.NewNonRetryableApplicationError(err.Error(), groundwork.ErrTypeInvalidInput, err)
	}
	cats := make(map[string]float64, len(res.Categories))
	for _, c := range res.Categories {
		cats[c.Key] = c.Score
	}
	catJSON, err := json.Marshal(cats)
	if err != nil {
		return groundwork.AssessmentScoreOutput{}, fmt.Errorf("marshal categories: %w", err)
	}
	recs, err := json.Marshal(db.Recommendations{By: "rules", Items: scoring.Recommend(job.def, res)})
	if err != nil {
		return groundwork.AssessmentScoreOutput{}, fmt.Errorf("marshal recommendations: %w", err)
	}
	out := groundwork.AssessmentScoreOutput{AssessmentID: in.RunID, Overall: res.Overall, Level: res.Level, Recommend: a.LLM}
	err = db.InTx(ctx, a.Pool, func(tx pgx.Tx) error {
		q := sqlc.New(tx)
		if err := q.MilestoneRulesShare(ctx, job.workspace); err != nil {
			return fmt.Errorf("lock milestone rules: %w", err)
		}
		if _, err := q.CustomerGet(ctx, sqlc.CustomerGetParams{ID: job.req.CustomerID, WorkspaceID: job.workspace}); db.IsNotFound(err) {
			return temporal.NewNonRetryableApplicationError("the customer was deleted", groundwork.ErrTypeNotFound, nil)
		} else if err != nil {
			return fmt.Errorf("load customer: %w", err)
		}
		c, err := q.AssessmentCohort(ctx, sqlc.AssessmentCohortParams{WorkspaceID: job.workspace, Definition: job.req.Definition,
			Version: int32(job.req.Version), Overall: res.Overall, ID: in.RunID})
		if err != nil {
			return fmt.Errorf("compare with the cohort: %w", err)
		}
		if _, err := q.AssessmentInsert(ctx, sqlc.AssessmentInsertParams{ID: in.RunID, WorkspaceID: job.workspace, CustomerID: job.req.CustomerID,
			Definition: job.req.Definition, Version: int32(job.req.Version), Overall: res.Overall, Level: res.Level, Categories: catJSON,
			Percentile: scoring.Percentile(c.Below, c.Equal, c.Total), CohortSize: int32(c.Total + 1), Recommendations: recs}); err != nil && !db.IsNotFound(err) {
			return fmt.Errorf("store assessment: %w", err)
		}
		achieved, err := q.MilestonesAchieveByAssessment(ctx, in.RunID)
		if err != nil {
			return fmt.Errorf("achieve milestones: %w", err)
		}
		for _, m := range achieved {
			if err := db.MilestoneAchieved(ctx, q, job.workspace, m.CustomerID, m.MilestoneID, m.AchievedAt, "assessment:"+in.RunID); err != nil {
				return err
			}
		}
		out.Milestones = len(achieved)
		return nil
	})
	return out, err
}

// AssessmentRecord closes a succeeded Assessment run with its result.
func (a *Assessments) AssessmentRecord(ctx context.Context, in groundwork.AssessmentRecordInput) error {
	q := sqlc.New(a.Pool)
	ws, err := q.RunWorkspace(ctx, in.RunID)
	if err != nil {
		return fmt.Errorf("load the run's workspace: %w", err)
	}
	res, err := db.AssessmentResultOf(ctx, q, in.RunID, ws)
	if db.IsNotFound(err) {
		return temporal.NewNonRetryableApplicationError("the assessment is gone", groundwork.ErrTypeNotFound, err)
	}
	if err != nil {
		return fmt.Errorf("load assessment: %w", err)
	}
	return finishSucceededRun(ctx, q, in.RunID, res, in.Progress)
}

// AssessmentDiscard closes a failed or canceled Assessment run and removes
// its result and the milestones it achieved.
func (a *Assessments) AssessmentDiscard(ctx context.Context, in groundwork.RunDiscardInput) error {
	return db.InTx(ctx, a.Pool, func(tx pgx.Tx) error {
		q := sqlc.New(tx)
		if err := q.AssessmentDelete(ctx, in.RunID); err != nil {
			return fmt.Errorf("delete assessment: %w", err)
		}
		return finishFailedRun(ctx, q, in)
	})
}
