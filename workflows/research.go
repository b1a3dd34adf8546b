package workflows

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/groundwork-dev/groundwork"
)

// Research discovers the pages of a company's website that matter, renders
// them in Chrome, and summarises them into a company profile that cites
// its sources. Pages are kept per owner and reused while fresh.
func Research(ctx workflow.Context, in groundwork.ResearchInput) (groundwork.ResearchOutcome, error) {
	prog, err := newProgressTracker(ctx)
	if err != nil {
		return groundwork.ResearchOutcome{}, err
	}
	out, err := research(ctx, prog, in)
	if err != nil {
		return groundwork.ResearchOutcome{}, closeFailedRun(ctx, prog, in.RunID, err, groundwork.ActivityResearchDiscard)
	}
	return out, nil
}

func research(ctx workflow.Context, prog *progressTracker, in groundwork.ResearchInput) (groundwork.ResearchOutcome, error) {
	lctx := withLocal(ctx)
	var plan groundwork.ResearchPlan
	if err := workflow.ExecuteLocalActivity(lctx, groundwork.ActivityResearchPrepare, in).Get(ctx, &plan); err != nil {
		return groundwork.ResearchOutcome{}, err
	}
	bctx := withActivity(ctx, groundwork.ActivityResearchFetch)
	c := &pageCounter{prog: prog}

	var pages []groundwork.PlannedPage
	streamed := false // discovery and fetching ran together (version 1)
	if len(plan.URLs) > 0 {
		for _, u := range plan.URLs {
			pages = append(pages, groundwork.PlannedPage{URL: u})
		}
	} else if workflow.GetVersion(ctx, researchDiscoverAlongsideHome, workflow.DefaultVersion, 1) == 1 {
		if err := discoverAndFetch(ctx, bctx, in, plan, c); err != nil {
			return groundwork.ResearchOutcome{}, err
		}
		streamed = true
	} else {
		prog.set(ctx, groundwork.StageDiscovering, 0, 0, "fetching the home page "+plan.Root)
		var home groundwork.ResearchFetchOutput
		err := workflow.ExecuteActivity(bctx, groundwork.ActivityResearchFetch, groundwork.ResearchFetchInput{
			RunID: in.RunID, OwnerID: in.OwnerID, Page: groundwork.PlannedPage{URL: plan.Root, Category: "home"},
			MaxAgeSeconds: plan.MaxAgeSeconds, WantLinks: true,
		}).Get(ctx, &home)
		if err != nil {
			return groundwork.ResearchOutcome{}, err
		}
		c.settled(home)
		root := plan.Root
		if home.ErrorType == "" && home.FinalURL != "" {
			root = home.FinalURL
		}
		prog.set(ctx, groundwork.StageDiscovering, c.done, 0, "reading robots.txt and the sitemap")
		var disc groundwork.ResearchDiscoverOutput
		err = workflow.ExecuteActivity(withActivity(ctx, groundwork.ActivityResearchDiscover), groundwork.ActivityResearchDiscover, groundwork.ResearchDiscoverInput{
			RunID: in.RunID, Root: root, MaxPages: plan.MaxPages, HomeLinks: home.Links,
		}).Get(ctx, &disc)
		if err != nil {
			return groundwork.ResearchOutcome{}, err
		}
		for _, p := range disc.Pages {
			if p.URL != plan.Root && p.URL != home.FinalURL && len(pages) < plan.MaxPages-1 {
				pages = append(pages, p)
			}
		}
		c.offset = 1
	}

	if !streamed {
		c.total = int64(len(pages) + c.offset)
		prog.set(ctx, groundwork.StageFetching, c.done, c.total, c.message(""))
		if err := fetchAll(ctx, bctx, in, plan, pages, c); err != nil {
			return groundwork.ResearchOutcome{}, err
		}
	}
	total := c.total

	prog.set(ctx, groundwork.StageSummarizing, c.done, total, c.message("")+"; summarising")
	sctx := withActivity(ctx, groundwork.ActivityResearchSummarize)
	summarize := groundwork.ResearchSummarizeInput{RunID: in.RunID, OwnerID: in.OwnerID, Company: plan.Company, Domain: plan.Domain}
	report := groundwork.ResearchReportInput{RunID: in.RunID, OwnerID: in.OwnerID, Company: plan.Company, Domain: plan.Domain}
	var gen groundwork.GenerateOutcome
	if err := workflow.ExecuteActivity(sctx, groundwork.ActivityResearchSummarize, summarize).Get(ctx, &gen); err != nil {
		var canceled *temporal.CanceledError
		if errors.As(err, &canceled) {
			return groundwork.ResearchOutcome{}, err
		}
		report.SummaryError = errorMessage(runErrorOf(err), groundwork.StageFailed)
	}

	rctx := withActivity(ctx, groundwork.ActivityResearchReport)
	var out groundwork.ResearchOutcome
	if err := workflow.ExecuteActivity(rctx, groundwork.ActivityResearchReport, report).Get(ctx, &out); err != nil {
		return groundwork.ResearchOutcome{}, err
	}
	summarizing := prog.p
	prog.set(ctx, groundwork.StageDone, c.done, total, fmt.Sprintf("%d pages (%d fetched, %d reused, %d failed); profile by %s",
		out.Pages, out.Fetched, out.Reused, out.Failed, out.Provider))
	err := workflow.ExecuteLocalActivity(lctx, groundwork.ActivityResearchRecord, groundwork.ResearchRecordInput{RunID: in.RunID, Outcome: out, Progress: prog.p}).Get(ctx, nil)
	if err != nil {
		prog.p = summarizing
		return groundwork.ResearchOutcome{}, err
	}
	return out, nil
}

// fetchAll fetches the planned pages with at most maxPagesInFlight
// scheduled at once; a page's own failure is recorded on the page, so
// only an activity that failed for good fails the run.
func fetchAll(ctx, bctx workflow.Context, in groundwork.ResearchInput, plan groundwork.ResearchPlan, pages []groundwork.PlannedPage, c *pageCounter) error {
	sel := workflow.NewSelector(ctx)
	var firstErr error
	inFlight := 0
	for i := 0; i < len(pages) || inFlight > 0; {
		for i < len(pages) && inFlight < maxPagesInFlight && firstErr == nil {
			p := pages[i]
			f := workflow.ExecuteActivity(bctx, groundwork.ActivityResearchFetch, groundwork.ResearchFetchInput{
				RunID: in.RunID, OwnerID: in.OwnerID, Page: p, Position: i + c.offset, MaxAgeSeconds: plan.MaxAgeSeconds,
			})
			sel.AddFuture(f, func(f workflow.Future) {
				inFlight--
				var out groundwork.ResearchFetchOutput
				if err := f.Get(ctx, &out); err != nil {
					if firstErr == nil {
						firstErr = err
					}
					return
				}
				c.settled(out)
				c.prog.set(ctx, groundwork.StageFetching, c.done, c.total, c.message(out.URL))
			})
			inFlight++
			i++
		}
		if inFlight == 0 {
			break
		}
		sel.Select(ctx)
	}
	return firstErr
}

// pageCounter keeps a run's page counts for its progress.
type pageCounter struct {
	prog                    *progressTracker
	done, total             int64
	fetched, reused, failed int
	offset                  int
}

func (c *pageCounter) settled(o groundwork.ResearchFetchOutput) {
	c.done++
	switch {
	case o.ErrorType != "":
		c.failed++
	case o.Reused:
		c.reused++
	default:
		c.fetched++
	}
}

func (c *pageCounter) message(last string) string {
	msg := fmt.Sprintf("%d of %d pages: %d fetched, %d reused, %d failed", c.done, c.total, c.fetched, c.reused, c.failed)
	if last != "" {
		msg += "; last " + last
	}
	return msg
}
