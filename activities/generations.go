package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/temporal"

	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/document"
	"github.com/groundwork-dev/groundwork/workflows"
)

// GenerationResult is a succeeded generation as runs and GET
// /v1/generations/{id} show it.
type GenerationResult struct {
	Template        string          `json:"template"`
	TemplateVersion int             `json:"template_version"`
	Provider        string          `json:"provider" doc:"Who answered; \"extractive\" is the offline summarizer, not an LLM."`
	Model           string          `json:"model"`
	Text            string          `json:"text"`
	Fields          map[string]any  `json:"fields,omitempty" doc:"The structured answer of templates with output_fields."`
	Usage           GenerationUsage `json:"usage"`
	CostUSD         float64         `json:"cost_usd"`
	CacheHit        bool            `json:"cache_hit"`
	StopReason      string          `json:"stop_reason,omitempty"`
	Warnings        []string        `json:"warnings,omitempty"`
	CreatedAt       time.Time       `json:"created_at"`
}

// GenerationUsage is what a generation consumed; zero for a cache hit.
type GenerationUsage struct {
	InputTokens  int64 `json:"input_tokens"`
	OutputTokens int64 `json:"output_tokens"`
	CachedTokens int64 `json:"cached_tokens"`
}

// GenerationResultOf turns a stored generation into its result.
func GenerationResultOf(g sqlc.Generation) GenerationResult {
	r := GenerationResult{
		Template: g.Template, TemplateVersion: int(g.TemplateVersion), Provider: g.Provider, Model: g.Model,
		Text: g.Text, CostUSD: g.CostUsd, CacheHit: g.CacheHit, StopReason: g.StopReason, Warnings: g.Warnings,
		Usage:     GenerationUsage{InputTokens: g.InputTokens, OutputTokens: g.OutputTokens, CachedTokens: g.CachedTokens},
		CreatedAt: g.CreatedAt,
	}
	if len(g.Fields) > 0 {
		_ = json.Unmarshal(g.Fields, &r.Fields)
	}
	if len(r.Warnings) == 0 {
		r.Warnings = nil
	}
	return r
}

// GenerateRecord closes a succeeded Generate run with its stored answer as
// the result. Run twice, the run keeps its first outcome.
func (a *LLM) GenerateRecord(ctx context.Context, in workflows.GenerateRecordInput) error {
	q := sqlc.New(a.Pool)
	g, err := q.GenerationGet(ctx, in.RunID)
	if db.IsNotFound(err) {
		return temporal.NewNonRetryableApplicationError("the generation's answer is gone", workflows.ErrTypeNotFound, err)
	}
	if err != nil {
		return fmt.Errorf("load generation: %w", err)
	}
	return finishSucceededRun(ctx, q, in.RunID, GenerationResultOf(g), in.Progress)
}

// GenerateDiscard closes a failed or canceled Generate run. Its ledger rows
// stay: the calls were made and billed whatever became of the run.
func (a *LLM) GenerateDiscard(ctx context.Context, in workflows.RunDiscardInput) error {
	return db.InTx(ctx, a.Pool, func(tx pgx.Tx) error {
		q := sqlc.New(tx)
		if err := q.GenerationDelete(ctx, in.RunID); err != nil {
			return fmt.Errorf("delete generation: %w", err)
		}
		return finishFailedRun(ctx, q, in)
	})
}

// finishSucceededRun records a run's result and final progress; a run that
// already closed keeps its first outcome.
func finishSucceededRun(ctx context.Context, q *sqlc.Queries, runID string, result any, progress workflows.Progress) error {
	body, err := json.Marshal(result)
	if err != nil {
		return fmt.Errorf("marshal result: %w", err)
	}
	prog, err := json.Marshal(progress)
	if err != nil {
		return fmt.Errorf("marshal progress: %w", err)
	}
	if _, err := q.RunFinish(ctx, sqlc.RunFinishParams{ID: runID, Status: sqlc.RunStatusSucceeded, Result: body, Progress: prog}); err != nil && !db.IsNotFound(err) {
		return fmt.Errorf("finish run: %w", err)
	}
	return nil
}

// finishFailedRun drops a run's input and records its final status, error
// and progress; a run that already closed keeps its first outcome.
func finishFailedRun(ctx context.Context, q *sqlc.Queries, in workflows.RunDiscardInput) error {
	var errJSON json.RawMessage
	if in.Error != nil {
		b, err := json.Marshal(in.Error)
		if err != nil {
			return fmt.Errorf("marshal run error: %w", err)
		}
		errJSON = b
	}
	prog, err := json.Marshal(in.Progress)
	if err != nil {
		return fmt.Errorf("marshal progress: %w", err)
	}
	if err := q.RunInputDelete(ctx, in.RunID); err != nil {
		return fmt.Errorf("delete run input: %w", err)
	}
	_, err = q.RunFinish(ctx, sqlc.RunFinishParams{ID: in.RunID, Status: sqlc.RunStatus(in.Status), Error: errJSON, Progress: prog})
	if err != nil && !db.IsNotFound(err) {
		return fmt.Errorf("finish run: %w", err)
	}
	return nil
}

// dropField removes the errors about one field.
func dropField(errs []document.FieldError, field string) []document.FieldError {
	out := errs[:0]
	for _, e := range errs {
		if e.Field != field {
			out = append(out, e)
		}
	}
	return out
}
