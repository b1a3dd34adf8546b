package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Activity names the Research workflow calls.
const (
	// ActivityResearchPrepare loads and checks the stored request (local activity).
	ActivityResearchPrepare = "ResearchPrepare"
	// ActivityResearchFetch renders one page in Chrome and stores it (browser queue).
	ActivityResearchFetch = "ResearchFetch"
	// ActivityResearchDiscover reads robots.txt and sitemaps and plans the pages (browser queue).
	ActivityResearchDiscover = "ResearchDiscover"
	// ActivityResearchSummarize asks the LLM chain for the company profile (llm queue).
	ActivityResearchSummarize = "ResearchSummarize"
	// ActivityResearchReport builds and stores the report (default queue).
	ActivityResearchReport = "ResearchReport"
	// ActivityResearchRecord closes the run with its report (local activity).
	ActivityResearchRecord = "ResearchRecord"
	// ActivityResearchDiscard closes a failed or canceled run (local activity).
	ActivityResearchDiscard = "ResearchDiscard"
)

// Stages of a Research run.
const (
	// StageDiscovering fetches the home page, robots.txt and sitemaps.
	StageDiscovering = "discovering"
	// StageFetching renders the planned pages.
	StageFetching = "fetching"
	// StageSummarizing turns the pages into a company profile.
	StageSummarizing = "summarizing"
)

// maxPagesInFlight bounds the fetches a run schedules at once: enough to
// keep every browser tab of a couple of workers busy, few enough that one
// large research does not crowd out everyone else's pages.
const maxPagesInFlight = 10

// ResearchInput starts a Research run; the request itself stays in Postgres.
type ResearchInput struct {
	RunID   string `json:"run_id"`
	OwnerID string `json:"owner_id"`
}

// ResearchPlan is the checked request: what to fetch and how fresh a
// cached page must be to be reused.
type ResearchPlan struct {
	Company string `json:"company"`
	// Domain is the site's host (and port), for display and search.
	Domain string `json:"domain"`
	// Root is the home page to discover from; empty when URLs are given.
	Root string `json:"root,omitempty"`
	// URLs are the explicit pages to fetch instead of discovering them.
	URLs     []string `json:"urls,omitempty"`
	MaxPages int      `json:"max_pages"`
	// MaxAgeSeconds is how old a cached page may be and still be reused.
	MaxAgeSeconds int64 `json:"max_age_seconds"`
}

// PlannedPage is one page a run will fetch.
type PlannedPage struct {
	URL      string `json:"url"`
	Category string `json:"category"`
	// LinkText is the anchor text the page was found with.
	LinkText string `json:"link_text,omitempty"`
}

// ResearchFetchInput asks for one page of a run.
type ResearchFetchInput struct {
	RunID    string      `json:"run_id"`
	OwnerID  string      `json:"owner_id"`
	Page     PlannedPage `json:"page"`
	Position int         `json:"position"`
	// MaxAgeSeconds allows reusing the owner's copy of the page fetched
	// this recently.
	MaxAgeSeconds int64 `json:"max_age_seconds"`
	// WantLinks asks for the page's same-site links (the home page).
	WantLinks bool `json:"want_links,omitempty"`
}

// ResearchFetchOutput is what the workflow needs to know of a fetched page;
// the page itself is in Postgres.
type ResearchFetchOutput struct {
	URL      string `json:"url"`
	FinalURL string `json:"final_url,omitempty"`
	Status   int    `json:"status"`
	Title    string `json:"title,omitempty"`
	Reused   bool   `json:"reused"`
	// ErrorType is set when the page could not be used (robots_disallowed,
	// blocked, unreachable, tls, redirect_loop, http_error, not_html…).
	ErrorType string `json:"error_type,omitempty"`
	Error     string `json:"error,omitempty"`
	// Links are the page's same-site links, when asked for.
	Links []PlannedPage `json:"links,omitempty"`
}

// PageHeartbeat is a browser activity's heartbeat detail: the API shows
// the pages being fetched right now in the run's progress.
type PageHeartbeat struct {
	URL string `json:"url"`
	// Phase is "fetching", "waiting" (for the domain's rate) or "discovering".
	Phase string `json:"phase"`
}

// ResearchDiscoverInput plans a run's pages from its home page.
type ResearchDiscoverInput struct {
	RunID string `json:"run_id"`
	// Root is the home page as it was finally served.
	Root      string        `json:"root"`
	MaxPages  int           `json:"max_pages"`
	HomeLinks []PlannedPage `json:"home_links,omitempty"`
}

// ResearchDiscoverOutput is the plan, home page first.
type ResearchDiscoverOutput struct {
	Pages []PlannedPage `json:"pages"`
	// SitemapPages counts the pages the sitemaps listed.
	SitemapPages int `json:"sitemap_pages"`
	// Disallowed counts candidates robots.txt ruled out.
	Disallowed int `json:"disallowed"`
}

// ResearchSummarizeInput asks for a run's company profile.
type ResearchSummarizeInput struct {
	RunID   string `json:"run_id"`
	OwnerID string `json:"owner_id"`
	Company string `json:"company"`
	Domain  string `json:"domain"`
}

// ResearchReportInput builds a run's report from its pages and summary.
type ResearchReportInput struct {
	RunID   string `json:"run_id"`
	OwnerID string `json:"owner_id"`
	Company string `json:"company"`
	Domain  string `json:"domain"`
	// SummaryError says why the LLM summary is missing, when it failed;
	// the report then falls back to the extractive profile.
	SummaryError string `json:"summary_error,omitempty"`
}

// ResearchOutcome summarises a stored report.
type ResearchOutcome struct {
	Company  string `json:"company"`
	Domain   string `json:"domain"`
	Provider string `json:"provider"`
	Pages    int    `json:"pages"`
	Fetched  int    `json:"fetched"`
	Reused   int    `json:"reused"`
	Failed   int    `json:"failed"`
}

// ResearchRecordInput closes a succeeded Research run.
type ResearchRecordInput struct {
	RunID    string          `json:"run_id"`
	Outcome  ResearchOutcome `json:"outcome"`
	Progress Progress        `json:"progress"`
}

// browserActivityOptions suit one page: a tab may be busy for a while
// (the worker runs 5 at once) and the domain's rate limit may make the
// page wait its turn; the heartbeat notices a dead worker long before.
var browserActivityOptions = workflow.ActivityOptions{
	TaskQueue: TaskQueueBrowser,
	// A page waits for a free tab and its domain's turn, then loads for
	// at most the page timeout (30 s by default).
	ScheduleToStartTimeout: 30 * time.Minute,
	StartToCloseTimeout:    5 * time.Minute,
	HeartbeatTimeout:       20 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:        time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        30 * time.Second,
		MaximumAttempts:        5,
		NonRetryableErrorTypes: []string{ErrTypeInvalidInput, ErrTypeNotFound},
	},
}

// Research discovers the pages of a company's website that matter, renders
// them in Chrome, and summarises them into a company profile that cites
// its sources. Pages are kept per owner and reused while fresh.
func Research(ctx workflow.Context, in ResearchInput) (ResearchOutcome, error) {
	prog, err := newProgressTracker(ctx)
	if err != nil {
		return ResearchOutcome{}, err
	}
	out, err := research(ctx, prog, in)
	if err != nil {
		return ResearchOutcome{}, closeFailedRun(ctx, prog, in.RunID, err, ActivityResearchDiscard)
	}
	return out, nil
}

func research(ctx workflow.Context, prog *progressTracker, in ResearchInput) (ResearchOutcome, error) {
	lctx := workflow.WithLocalActivityOptions(ctx, localActivityOptions)
	var plan ResearchPlan
	if err := workflow.ExecuteLocalActivity(lctx, ActivityResearchPrepare, in).Get(ctx, &plan); err != nil {
		return ResearchOutcome{}, err
	}
	bctx := workflow.WithActivityOptions(ctx, browserActivityOptions)
	c := &pageCounter{prog: prog}

	var pages []PlannedPage
	if len(plan.URLs) > 0 {
		for _, u := range plan.URLs {
			pages = append(pages, PlannedPage{URL: u})
		}
	} else {
		prog.set(ctx, StageDiscovering, 0, 0, "fetching the home page "+plan.Root)
		var home ResearchFetchOutput
		err := workflow.ExecuteActivity(bctx, ActivityResearchFetch, ResearchFetchInput{
			RunID: in.RunID, OwnerID: in.OwnerID, Page: PlannedPage{URL: plan.Root, Category: "home"},
			MaxAgeSeconds: plan.MaxAgeSeconds, WantLinks: true,
		}).Get(ctx, &home)
		if err != nil {
			return ResearchOutcome{}, err
		}
		c.settled(home)
		root := plan.Root
		if home.ErrorType == "" && home.FinalURL != "" {
			root = home.FinalURL
		}
		prog.set(ctx, StageDiscovering, c.done, 0, "reading robots.txt and the sitemap")
		var disc ResearchDiscoverOutput
		err = workflow.ExecuteActivity(bctx, ActivityResearchDiscover, ResearchDiscoverInput{
			RunID: in.RunID, Root: root, MaxPages: plan.MaxPages, HomeLinks: home.Links,
		}).Get(ctx, &disc)
		if err != nil {
			return ResearchOutcome{}, err
		}
		for _, p := range disc.Pages {
			if p.URL != plan.Root && p.URL != home.FinalURL && len(pages) < plan.MaxPages-1 {
				pages = append(pages, p)
			}
		}
		c.offset = 1
	}

	total := int64(len(pages) + c.offset)
	c.total = total
	prog.set(ctx, StageFetching, c.done, total, c.message(""))
	if err := fetchAll(ctx, bctx, in, plan, pages, c); err != nil {
		return ResearchOutcome{}, err
	}

	prog.set(ctx, StageSummarizing, c.done, total, c.message("")+"; summarising")
	sctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           TaskQueueLLM,
		StartToCloseTimeout: 10 * time.Minute,
		HeartbeatTimeout:    10 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    2 * time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
			// Fewer tries than a generation: the extractive profile is a
			// good answer too, so a long outage should not hold the report.
			MaximumAttempts:        4,
			NonRetryableErrorTypes: generateRetryPolicy.NonRetryableErrorTypes,
		},
	})
	summarize := ResearchSummarizeInput{RunID: in.RunID, OwnerID: in.OwnerID, Company: plan.Company, Domain: plan.Domain}
	report := ResearchReportInput{RunID: in.RunID, OwnerID: in.OwnerID, Company: plan.Company, Domain: plan.Domain}
	var gen GenerateOutcome
	if err := workflow.ExecuteActivity(sctx, ActivityResearchSummarize, summarize).Get(ctx, &gen); err != nil {
		var canceled *temporal.CanceledError
		if errors.As(err, &canceled) {
			return ResearchOutcome{}, err
		}
		report.SummaryError = errorMessage(runErrorOf(err), StageFailed)
	}

	rctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second, MaximumAttempts: 10,
			NonRetryableErrorTypes: []string{ErrTypeInvalidInput, ErrTypeNotFound},
		},
	})
	var out ResearchOutcome
	if err := workflow.ExecuteActivity(rctx, ActivityResearchReport, report).Get(ctx, &out); err != nil {
		return ResearchOutcome{}, err
	}
	summarizing := prog.p
	prog.set(ctx, StageDone, c.done, total, fmt.Sprintf("%d pages (%d fetched, %d reused, %d failed); profile by %s",
		out.Pages, out.Fetched, out.Reused, out.Failed, out.Provider))
	err := workflow.ExecuteLocalActivity(lctx, ActivityResearchRecord, ResearchRecordInput{RunID: in.RunID, Outcome: out, Progress: prog.p}).Get(ctx, nil)
	if err != nil {
		prog.p = summarizing
		return ResearchOutcome{}, err
	}
	return out, nil
}

// fetchAll fetches the planned pages with at most maxPagesInFlight
// scheduled at once; a page's own failure is recorded on the page, so
// only an activity that failed for good fails the run.
func fetchAll(ctx, bctx workflow.Context, in ResearchInput, plan ResearchPlan, pages []PlannedPage, c *pageCounter) error {
	sel := workflow.NewSelector(ctx)
	var firstErr error
	inFlight := 0
	for i := 0; i < len(pages) || inFlight > 0; {
		for i < len(pages) && inFlight < maxPagesInFlight && firstErr == nil {
			p := pages[i]
			f := workflow.ExecuteActivity(bctx, ActivityResearchFetch, ResearchFetchInput{
				RunID: in.RunID, OwnerID: in.OwnerID, Page: p, Position: i + c.offset, MaxAgeSeconds: plan.MaxAgeSeconds,
			})
			sel.AddFuture(f, func(f workflow.Future) {
				inFlight--
				var out ResearchFetchOutput
				if err := f.Get(ctx, &out); err != nil {
					if firstErr == nil {
						firstErr = err
					}
					return
				}
				c.settled(out)
				c.prog.set(ctx, StageFetching, c.done, c.total, c.message(out.URL))
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

func (c *pageCounter) settled(o ResearchFetchOutput) {
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
