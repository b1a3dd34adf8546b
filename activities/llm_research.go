package activities

import (
	"context"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/extractive"
	"github.com/groundwork-dev/groundwork/internal/profile"
	"github.com/groundwork-dev/groundwork/internal/prompts"
)

// researchTemplate is the prompt template of research summaries.
const researchTemplate = "company-profile"

// ResearchSummarize asks the LLM chain for a research run's company
// profile, through the same cache, budget, token rate and ledger as any
// generation; the answer is stored as the run's generation. With no
// provider configured, or no page to read, it calls nothing and reports
// the extractive summarizer, which ResearchReport then runs.
func (a *LLM) ResearchSummarize(ctx context.Context, in groundwork.ResearchSummarizeInput) (groundwork.GenerateOutcome, error) {
	q := sqlc.New(a.Pool)
	if g, err := q.GenerationGet(ctx, in.RunID); err == nil {
		return outcomeOf(g), nil
	} else if !db.IsNotFound(err) {
		return groundwork.GenerateOutcome{}, fmt.Errorf("load summary: %w", err)
	}
	offline := groundwork.GenerateOutcome{Provider: extractive.Provider}
	if len(a.Providers) == 0 {
		return offline, nil
	}
	rows, err := q.ResearchRunPages(ctx, in.RunID)
	if err != nil {
		return groundwork.GenerateOutcome{}, fmt.Errorf("load run pages: %w", err)
	}
	var pages []profile.Page
	for _, r := range rows {
		if r.ResearchPage.ErrorType == nil {
			pages = append(pages, profilePage(r.Category, r.ResearchPage))
		}
	}
	if len(pages) == 0 {
		return offline, nil
	}
	tmpl, ok := prompts.Get(researchTemplate)
	if !ok {
		return groundwork.GenerateOutcome{}, temporal.NewNonRetryableApplicationError("the company-profile template is missing", groundwork.ErrTypeInvalidInput, nil)
	}
	req := groundwork.GenerateRequest{Template: researchTemplate, Inputs: map[string]any{
		"company": in.Company, "domain": in.Domain, "pages": profile.Notes(pages, researchNotesChars),
	}}
	return a.answer(ctx, in.RunID, in.OwnerID, req, tmpl)
}
