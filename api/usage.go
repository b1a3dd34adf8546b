package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/document"
)

type usageInput struct {
	From string `query:"from" maxLength:"40" doc:"Start (inclusive), RFC 3339 or YYYY-MM-DD; default the start of this UTC month."`
	To   string `query:"to" maxLength:"40" doc:"End (exclusive), RFC 3339 or YYYY-MM-DD; default now."`
}

// UsageLine sums one provider and model's ledger rows.
type UsageLine struct {
	Provider     string  `json:"provider,omitempty"`
	Model        string  `json:"model,omitempty"`
	Calls        int64   `json:"calls" doc:"Provider calls, failed ones included."`
	FailedCalls  int64   `json:"failed_calls"`
	CacheHits    int64   `json:"cache_hits" doc:"Generations the cache answered at no cost."`
	InputTokens  int64   `json:"input_tokens"`
	OutputTokens int64   `json:"output_tokens"`
	CachedTokens int64   `json:"cached_tokens"`
	CostUSD      float64 `json:"cost_usd"`
}

// UsageBudget is the caller's monthly token budget.
type UsageBudget struct {
	MonthlyTokens int64 `json:"monthly_tokens"`
	UsedTokens    int64 `json:"used_tokens" doc:"This UTC month."`
	Remaining     int64 `json:"remaining_tokens"`
}

type usageOutput struct {
	Body struct {
		From      time.Time    `json:"from"`
		To        time.Time    `json:"to"`
		Providers []UsageLine  `json:"providers"`
		Total     UsageLine    `json:"total"`
		Budget    *UsageBudget `json:"budget,omitempty" doc:"Absent when no budget is configured."`
	}
}

func (s *Server) registerUsage() {
	huma.Register(s.api, huma.Operation{
		OperationID: "get-usage",
		Method:      http.MethodGet,
		Path:        "/v1/usage",
		Summary:     "Sum the caller's LLM usage and cost",
		Description: "Per provider and model, from the ledger of every provider call and cache hit in [from, to).",
		Tags:        []string{"generations"},
		Errors:      []int{401, 422, 429, 503},
	}, func(ctx context.Context, in *usageInput) (*usageOutput, error) {
		p, _ := PrincipalFrom(ctx)
		now := s.d.Now().UTC()
		month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
		from, to := month, now
		var errs []document.FieldError
		if in.From != "" {
			if from = parseInstant(in.From); from.IsZero() {
				errs = append(errs, document.FieldError{Field: "from", Message: "expected RFC 3339 (2026-11-01T00:00:00Z) or a date (2026-11-01)"})
			}
		}
		if in.To != "" {
			if to = parseInstant(in.To); to.IsZero() {
				errs = append(errs, document.FieldError{Field: "to", Message: "expected RFC 3339 (2026-11-01T00:00:00Z) or a date (2026-11-01)"})
			}
		}
		if len(errs) == 0 && !from.Before(to) {
			errs = append(errs, document.FieldError{Field: "to", Message: "must be after from"})
		}
		if len(errs) > 0 {
			return nil, problem(http.StatusUnprocessableEntity, groundwork.SlugValidation, "the usage query is invalid", errs...)
		}
		rows, err := s.q.LLMUsageSummary(ctx, sqlc.LLMUsageSummaryParams{OwnerID: p.UserID, FromTime: from, ToTime: to})
		if err != nil {
			return nil, dependencyError("postgres", err)
		}
		out := &usageOutput{}
		out.Body.From, out.Body.To = from, to
		out.Body.Providers = make([]UsageLine, 0, len(rows))
		t := &out.Body.Total
		for _, r := range rows {
			out.Body.Providers = append(out.Body.Providers, UsageLine{
				Provider: r.Provider, Model: r.Model, Calls: r.Calls, FailedCalls: r.FailedCalls, CacheHits: r.CacheHits,
				InputTokens: r.InputTokens, OutputTokens: r.OutputTokens, CachedTokens: r.CachedTokens, CostUSD: r.CostUsd,
			})
			t.Calls += r.Calls
			t.FailedCalls += r.FailedCalls
			t.CacheHits += r.CacheHits
			t.InputTokens += r.InputTokens
			t.OutputTokens += r.OutputTokens
			t.CachedTokens += r.CachedTokens
			t.CostUSD += r.CostUsd
		}
		if s.d.MonthlyTokenBudget > 0 {
			used, err := s.q.LLMTokensUsedSince(ctx, sqlc.LLMTokensUsedSinceParams{OwnerID: p.UserID, Since: month})
			if err != nil {
				return nil, dependencyError("postgres", err)
			}
			out.Body.Budget = &UsageBudget{MonthlyTokens: s.d.MonthlyTokenBudget, UsedTokens: used, Remaining: max(s.d.MonthlyTokenBudget-used, 0)}
		}
		return out, nil
	})
}

// parseInstant reads RFC 3339 or a UTC date; zero when it is neither.
func parseInstant(s string) time.Time {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC()
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t
	}
	return time.Time{}
}
