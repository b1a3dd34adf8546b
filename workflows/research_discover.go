package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/groundwork-dev/groundwork"
)

// researchDiscoverAlongsideHome versions discoverAndFetch: before it, the
// home page was rendered, then robots.txt and the sitemap read, then the
// pages fetched, each step waiting for the one before.
const researchDiscoverAlongsideHome = "research-discover-alongside-home"

// discoverAndFetch renders the home page while a first discovery reads
// robots.txt and the sitemap, and starts fetching the sitemap's best
// pages as soon as they are known, before the home page has rendered. At
// the default politeness of one request a second per domain the home
// page's render then overlaps the next requests instead of delaying them.
// When the home page is in, a second discovery plans again with its links
// (robots.txt and the sitemap are cached by the worker) and the pages not
// yet started are replaced by that plan's: the final plan decides the
// rest, though pages already started from the first one stay.
func discoverAndFetch(ctx, bctx workflow.Context, in groundwork.ResearchInput, plan groundwork.ResearchPlan, c *pageCounter) error {
	prog := c.prog
	budget := plan.MaxPages - 1 // pages besides the home page
	c.offset, c.total = 1, int64(plan.MaxPages)
	prog.set(ctx, groundwork.StageDiscovering, 0, c.total, "fetching the home page "+plan.Root+" while reading robots.txt and the sitemap")

	dctx := withActivity(ctx, groundwork.ActivityResearchDiscover)
	sel := workflow.NewSelector(ctx)
	var (
		firstErr        error
		inFlight        int
		pending         []groundwork.PlannedPage
		started         = map[string]bool{plan.Root: true}
		startedN        int
		homeURL         string
		homeDone, final bool
		outstanding     int // futures in the selector not yet settled
	)
	// queue replaces the pages not yet started with a plan's, skipping the
	// home page and what has started, within the budget.
	queue := func(planned []groundwork.PlannedPage) {
		pending = pending[:0]
		for _, p := range planned {
			if started[p.URL] || p.URL == homeURL || startedN+len(pending) >= budget {
				continue
			}
			pending = append(pending, p)
		}
	}
	finalize := func() {
		final = true
		c.total = int64(1 + startedN + len(pending))
		prog.set(ctx, groundwork.StageFetching, c.done, c.total, c.message(""))
	}

	home := workflow.ExecuteActivity(bctx, groundwork.ActivityResearchFetch, groundwork.ResearchFetchInput{
		RunID: in.RunID, OwnerID: in.OwnerID, Page: groundwork.PlannedPage{URL: plan.Root, Category: "home"},
		MaxAgeSeconds: plan.MaxAgeSeconds, WantLinks: true,
	})
	outstanding++
	sel.AddFuture(home, func(f workflow.Future) {
		outstanding--
		var out groundwork.ResearchFetchOutput
		if err := f.Get(ctx, &out); err != nil {
			firstErr = err
			return
		}
		homeDone = true
		c.settled(out)
		if firstErr != nil {
			return // a page failed for good: the run fails, plan nothing more
		}
		root := plan.Root
		if out.ErrorType == "" && out.FinalURL != "" {
			root, homeURL = out.FinalURL, out.FinalURL
		}
		prog.set(ctx, groundwork.StageDiscovering, c.done, c.total, c.message(plan.Root)+"; planning with the home page's links")
		full := workflow.ExecuteActivity(dctx, groundwork.ActivityResearchDiscover, groundwork.ResearchDiscoverInput{
			RunID: in.RunID, Root: root, MaxPages: plan.MaxPages, HomeLinks: out.Links,
		})
		outstanding++
		sel.AddFuture(full, func(f workflow.Future) {
			outstanding--
			var disc groundwork.ResearchDiscoverOutput
			if err := f.Get(ctx, &disc); err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			queue(disc.Pages)
			finalize()
		})
	})

	if budget > 0 {
		// The sitemap alone: enough to start on while the home page renders.
		early := workflow.ExecuteActivity(dctx, groundwork.ActivityResearchDiscover, groundwork.ResearchDiscoverInput{
			RunID: in.RunID, Root: plan.Root, MaxPages: plan.MaxPages,
		})
		outstanding++
		sel.AddFuture(early, func(f workflow.Future) {
			outstanding--
			var disc groundwork.ResearchDiscoverOutput
			if err := f.Get(ctx, &disc); err != nil {
				// Only a head start is lost: the plan with the home
				// page's links reads the same and decides.
				workflow.GetLogger(ctx).Warn("research: early discovery failed; waiting for the home page", "error", err)
				return
			}
			if !final {
				queue(disc.Pages)
			}
		})
	}

	for outstanding > 0 || len(pending) > 0 {
		for len(pending) > 0 && inFlight < maxPagesInFlight && firstErr == nil {
			p := pending[0]
			pending = pending[1:]
			started[p.URL] = true
			startedN++
			f := workflow.ExecuteActivity(bctx, groundwork.ActivityResearchFetch, groundwork.ResearchFetchInput{
				RunID: in.RunID, OwnerID: in.OwnerID, Page: p, Position: startedN, MaxAgeSeconds: plan.MaxAgeSeconds,
			})
			inFlight++
			outstanding++
			sel.AddFuture(f, func(f workflow.Future) {
				inFlight--
				outstanding--
				var out groundwork.ResearchFetchOutput
				if err := f.Get(ctx, &out); err != nil {
					if firstErr == nil {
						firstErr = err
					}
					return
				}
				c.settled(out)
				stage := groundwork.StageFetching
				if !homeDone || !final {
					stage = groundwork.StageDiscovering
				}
				prog.set(ctx, stage, c.done, c.total, c.message(out.URL))
			})
		}
		if firstErr != nil {
			pending = nil
		}
		if outstanding == 0 {
			break
		}
		sel.Select(ctx)
	}
	if firstErr != nil {
		return firstErr
	}
	if !final {
		finalize()
	}
	return nil
}
