package activities

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/temporal"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/extract"
	"github.com/groundwork-dev/groundwork/internal/profile"
)

// ResearchReport builds the run's company profile, from the LLM's answer
// when ResearchSummarize stored one and from the pages themselves
// (extractive) otherwise, and stores it with its search index.
func (a *Research) ResearchReport(ctx context.Context, in groundwork.ResearchReportInput) (groundwork.ResearchOutcome, error) {
	q := sqlc.New(a.Pool)
	rows, err := q.ResearchRunPages(ctx, in.RunID)
	if err != nil {
		return groundwork.ResearchOutcome{}, fmt.Errorf("load run pages: %w", err)
	}
	out := groundwork.ResearchOutcome{Company: in.Company, Domain: in.Domain, Pages: len(rows)}
	pages := make([]profile.Page, 0, len(rows))
	for _, r := range rows {
		switch {
		case r.ResearchPage.ErrorType != nil:
			out.Failed++
			continue
		case r.Reused:
			out.Reused++
		default:
			out.Fetched++
		}
		pages = append(pages, profilePage(r.Category, r.ResearchPage))
	}

	var prof profile.Profile
	gen, err := q.GenerationGet(ctx, in.RunID)
	switch {
	case err == nil && len(gen.Fields) > 0:
		var fields map[string]any
		if err := json.Unmarshal(gen.Fields, &fields); err != nil {
			return groundwork.ResearchOutcome{}, fmt.Errorf("decode summary fields: %w", err)
		}
		var warnings []string
		prof, warnings = profile.FromFields(fields, pages)
		prof.Provider, prof.Model = gen.Provider, gen.Model
		prof.Warnings = append(prof.Warnings, warnings...)
	case err == nil || db.IsNotFound(err):
		prof = profile.Extract(in.Company, in.Domain, pages)
		if err == nil {
			prof.Warnings = append(prof.Warnings, "the LLM's answer was not the JSON asked for, so the profile is extractive")
		}
		if in.SummaryError != "" {
			prof.Warnings = append(prof.Warnings, "the LLM summary failed, so the profile is extractive: "+in.SummaryError)
		}
	default:
		return groundwork.ResearchOutcome{}, fmt.Errorf("load summary: %w", err)
	}
	out.Provider = prof.Provider
	body, err := json.Marshal(prof)
	if err != nil {
		return groundwork.ResearchOutcome{}, fmt.Errorf("marshal profile: %w", err)
	}
	err = q.ResearchReportUpsert(ctx, sqlc.ResearchReportUpsertParams{
		RunID: in.RunID, OwnerID: in.OwnerID, Company: in.Company, Domain: in.Domain, Profile: body,
		Provider: prof.Provider, PagesFetched: int32(out.Fetched), PagesReused: int32(out.Reused),
		PagesFailed: int32(out.Failed), ProfileText: prof.SearchText(),
	})
	if err != nil {
		return groundwork.ResearchOutcome{}, fmt.Errorf("store report: %w", err)
	}
	return out, nil
}

// profilePage turns a stored page into what the profile builders read.
func profilePage(category string, p sqlc.ResearchPage) profile.Page {
	pp := profile.Page{
		URL: or(p.FinalUrl, p.Url), Title: p.Title, Description: p.Description, Category: category,
		Markdown: p.Markdown, Text: p.Text, Emails: p.Emails,
	}
	if len(p.Organization) > 0 {
		var org extract.Organization
		if json.Unmarshal(p.Organization, &org) == nil {
			pp.Organization = &org
		}
	}
	if len(p.Opengraph) > 0 {
		_ = json.Unmarshal(p.Opengraph, &pp.OpenGraph)
	}
	if len(p.Links) > 0 {
		_ = json.Unmarshal(p.Links, &pp.Links)
	}
	return pp
}

// ResearchRecord closes a succeeded Research run with its result.
func (a *Research) ResearchRecord(ctx context.Context, in groundwork.ResearchRecordInput) error {
	o := in.Outcome
	result := groundwork.ResearchResult{
		Company: o.Company, Domain: o.Domain, Provider: o.Provider, Pages: o.Pages,
		Fetched: o.Fetched, Reused: o.Reused, Failed: o.Failed, ReportURL: "/v1/research/" + in.RunID,
	}
	if _, err := sqlc.New(a.Pool).ResearchReportGet(ctx, in.RunID); db.IsNotFound(err) {
		return temporal.NewNonRetryableApplicationError("the research report is gone", groundwork.ErrTypeNotFound, err)
	} else if err != nil {
		return fmt.Errorf("load report: %w", err)
	}
	return finishSucceededRun(ctx, sqlc.New(a.Pool), in.RunID, result, in.Progress)
}

// ResearchDiscard closes a failed or canceled Research run. Its report goes
// and so does its page list; the pages themselves stay in the owner's
// cache, since they are complete fetches another research may reuse.
func (a *Research) ResearchDiscard(ctx context.Context, in groundwork.RunDiscardInput) error {
	return db.InTx(ctx, a.Pool, func(tx pgx.Tx) error {
		q := sqlc.New(tx)
		if err := q.ResearchReportDelete(ctx, in.RunID); err != nil {
			return fmt.Errorf("delete report: %w", err)
		}
		if err := q.GenerationDelete(ctx, in.RunID); err != nil {
			return fmt.Errorf("delete summary: %w", err)
		}
		if err := q.ResearchRunPagesUnlink(ctx, in.RunID); err != nil {
			return fmt.Errorf("delete run pages: %w", err)
		}
		return finishFailedRun(ctx, q, in)
	})
}

// researchNotesChars bounds the page text sent to the LLM: about 5k
// tokens, so that one research's prompt and answer fit in the default
// 10,000 tokens/min budget with room for other users' generations.
const researchNotesChars = 18_000
