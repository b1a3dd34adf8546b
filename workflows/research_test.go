package workflows

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/groundwork-dev/groundwork"
)

// Stand-ins for the Research workflow's activities.
func researchPrepare(context.Context, groundwork.ResearchInput) (groundwork.ResearchPlan, error) {
	return groundwork.ResearchPlan{}, nil
}
func researchFetch(context.Context, groundwork.ResearchFetchInput) (groundwork.ResearchFetchOutput, error) {
	return groundwork.ResearchFetchOutput{}, nil
}
func researchDiscover(context.Context, groundwork.ResearchDiscoverInput) (groundwork.ResearchDiscoverOutput, error) {
	return groundwork.ResearchDiscoverOutput{}, nil
}
func researchSummarize(context.Context, groundwork.ResearchSummarizeInput) (groundwork.GenerateOutcome, error) {
	return groundwork.GenerateOutcome{}, nil
}
func researchReport(context.Context, groundwork.ResearchReportInput) (groundwork.ResearchOutcome, error) {
	return groundwork.ResearchOutcome{}, nil
}
func researchRecord(context.Context, groundwork.ResearchRecordInput) error { return nil }

const researchRunID = "research-01JD4X7Q2W6ZC5D3V9N8K1M2P3"

func newResearchEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(Research, workflow.RegisterOptions{Name: "Research"})
	for name, fn := range map[string]any{
		groundwork.ActivityResearchPrepare: researchPrepare, groundwork.ActivityResearchFetch: researchFetch,
		groundwork.ActivityResearchDiscover: researchDiscover, groundwork.ActivityResearchSummarize: researchSummarize,
		groundwork.ActivityResearchReport: researchReport, groundwork.ActivityResearchRecord: researchRecord,
		groundwork.ActivityResearchDiscard: discard,
	} {
		env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
	return env
}

// fakeSite answers fetches like a site with a home page and n more pages,
// failing the ones in failing with a page error.
type fakeSite struct {
	mu      sync.Mutex
	fetched []string
	failing map[string]bool
}

func (f *fakeSite) fetch(_ context.Context, in groundwork.ResearchFetchInput) (groundwork.ResearchFetchOutput, error) {
	f.mu.Lock()
	f.fetched = append(f.fetched, in.Page.URL)
	f.mu.Unlock()
	out := groundwork.ResearchFetchOutput{URL: in.Page.URL, FinalURL: in.Page.URL, Status: 200}
	if f.failing[in.Page.URL] {
		out.Status, out.ErrorType = 404, "http_error"
	}
	if in.WantLinks {
		for i := 1; i <= 30; i++ {
			out.Links = append(out.Links, groundwork.PlannedPage{URL: fmt.Sprintf("https://acme.example/p%d", i)})
		}
	}
	return out, nil
}

func TestResearchDiscoversFetchesAndReports(t *testing.T) {
	env := newResearchEnv(t)
	in := groundwork.ResearchInput{RunID: researchRunID, OwnerID: "u1"}
	plan := groundwork.ResearchPlan{Company: "Acme", Domain: "acme.example", Root: "https://acme.example/", MaxPages: 8, MaxAgeSeconds: 3600}
	env.OnActivity(groundwork.ActivityResearchPrepare, ctxAny, in).Return(plan, nil)
	site := &fakeSite{failing: map[string]bool{"https://acme.example/p3": true}}
	env.OnActivity(groundwork.ActivityResearchFetch, ctxAny, anyArg).Return(site.fetch)
	var (
		mu         sync.Mutex
		discovered []groundwork.ResearchDiscoverInput
	)
	// The sitemap (alone, while the home page renders) names s1 and s2;
	// with the home page's links the plan is s1 and the first links.
	env.OnActivity(groundwork.ActivityResearchDiscover, ctxAny, anyArg).Return(func(_ context.Context, d groundwork.ResearchDiscoverInput) (groundwork.ResearchDiscoverOutput, error) {
		mu.Lock()
		discovered = append(discovered, d)
		mu.Unlock()
		// Discovery plans the home page too; the workflow must not fetch it twice.
		out := groundwork.ResearchDiscoverOutput{Pages: []groundwork.PlannedPage{{URL: plan.Root, Category: "home"}, {URL: "https://acme.example/s1"}}}
		if d.HomeLinks == nil {
			out.Pages = append(out.Pages, groundwork.PlannedPage{URL: "https://acme.example/s2"})
			return out, nil
		}
		out.Pages = append(out.Pages, d.HomeLinks[:d.MaxPages]...)
		return out, nil
	})
	var summarized groundwork.ResearchSummarizeInput
	env.OnActivity(groundwork.ActivityResearchSummarize, ctxAny, anyArg).Return(func(_ context.Context, s groundwork.ResearchSummarizeInput) (groundwork.GenerateOutcome, error) {
		summarized = s
		return groundwork.GenerateOutcome{Provider: "openai"}, nil
	})
	var report groundwork.ResearchReportInput
	env.OnActivity(groundwork.ActivityResearchReport, ctxAny, anyArg).Return(func(_ context.Context, r groundwork.ResearchReportInput) (groundwork.ResearchOutcome, error) {
		report = r
		return groundwork.ResearchOutcome{Company: "Acme", Domain: "acme.example", Provider: "openai", Pages: 8, Fetched: 7, Failed: 1}, nil
	})
	var recorded groundwork.ResearchRecordInput
	env.OnActivity(groundwork.ActivityResearchRecord, ctxAny, anyArg).Return(func(_ context.Context, r groundwork.ResearchRecordInput) error {
		recorded = r
		return nil
	})

	env.ExecuteWorkflow(Research, in)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	// Two discoveries: the sitemap's alone, then with the home page's links.
	if len(discovered) != 2 {
		t.Fatalf("%d discoveries, want 2: %+v", len(discovered), discovered)
	}
	byLinks := map[bool]groundwork.ResearchDiscoverInput{}
	for _, d := range discovered {
		byLinks[d.HomeLinks != nil] = d
	}
	if d := byLinks[false]; d.Root != plan.Root || d.MaxPages != 8 {
		t.Fatalf("early discover input %+v", d)
	}
	if d := byLinks[true]; d.Root != plan.Root || len(d.HomeLinks) != 30 || d.MaxPages != 8 {
		t.Fatalf("discover input %+v", d)
	}
	// Home plus max_pages-1 planned pages, each exactly once.
	if len(site.fetched) != 8 {
		t.Fatalf("fetched %d pages, want 8: %v", len(site.fetched), site.fetched)
	}
	seen := map[string]bool{}
	for _, u := range site.fetched {
		if seen[u] {
			t.Fatalf("%s fetched twice", u)
		}
		seen[u] = true
	}
	if !seen["https://acme.example/s1"] || !seen[plan.Root] {
		t.Fatalf("the planned sitemap page or the home page was not fetched: %v", site.fetched)
	}
	if summarized.Company != "Acme" || report.SummaryError != "" {
		t.Fatalf("summarize %+v, report %+v", summarized, report)
	}
	p := recorded.Progress
	if p.Stage != groundwork.StageDone || p.Done != 8 || p.Total != 8 {
		t.Fatalf("final progress %+v", p)
	}
}

func TestResearchExplicitURLsSkipDiscovery(t *testing.T) {
	env := newResearchEnv(t)
	in := groundwork.ResearchInput{RunID: researchRunID, OwnerID: "u1"}
	urls := []string{"https://a.example/x", "https://a.example/y", "https://b.example/"}
	env.OnActivity(groundwork.ActivityResearchPrepare, ctxAny, in).Return(groundwork.ResearchPlan{Company: "A", Domain: "a.example", URLs: urls, MaxPages: 3}, nil)
	site := &fakeSite{}
	env.OnActivity(groundwork.ActivityResearchFetch, ctxAny, anyArg).Return(site.fetch)
	env.OnActivity(groundwork.ActivityResearchSummarize, ctxAny, anyArg).Return(groundwork.GenerateOutcome{Provider: "extractive"}, nil)
	env.OnActivity(groundwork.ActivityResearchReport, ctxAny, anyArg).Return(groundwork.ResearchOutcome{Pages: 3}, nil)
	env.OnActivity(groundwork.ActivityResearchRecord, ctxAny, anyArg).Return(nil)
	env.ExecuteWorkflow(Research, in)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if len(site.fetched) != 3 {
		t.Fatalf("fetched %v", site.fetched)
	}
}

func TestResearchFallsBackWhenTheSummaryFails(t *testing.T) {
	env := newResearchEnv(t)
	in := groundwork.ResearchInput{RunID: researchRunID, OwnerID: "u1"}
	env.OnActivity(groundwork.ActivityResearchPrepare, ctxAny, in).Return(groundwork.ResearchPlan{Company: "A", Domain: "a.example", URLs: []string{"https://a.example/"}, MaxPages: 1}, nil)
	env.OnActivity(groundwork.ActivityResearchFetch, ctxAny, anyArg).Return((&fakeSite{}).fetch)
	env.OnActivity(groundwork.ActivityResearchSummarize, ctxAny, anyArg).Return(groundwork.GenerateOutcome{},
		temporal.NewNonRetryableApplicationError("over budget", groundwork.ErrTypeBudgetExceeded, nil))
	var report groundwork.ResearchReportInput
	env.OnActivity(groundwork.ActivityResearchReport, ctxAny, anyArg).Return(func(_ context.Context, r groundwork.ResearchReportInput) (groundwork.ResearchOutcome, error) {
		report = r
		return groundwork.ResearchOutcome{Provider: "extractive", Pages: 1}, nil
	})
	env.OnActivity(groundwork.ActivityResearchRecord, ctxAny, anyArg).Return(nil)
	env.ExecuteWorkflow(Research, in)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if report.SummaryError != "over budget" {
		t.Fatalf("summary error %q", report.SummaryError)
	}
}

func TestResearchFailsWhenAFetchFailsForGood(t *testing.T) {
	env := newResearchEnv(t)
	in := groundwork.ResearchInput{RunID: researchRunID, OwnerID: "u1"}
	env.OnActivity(groundwork.ActivityResearchPrepare, ctxAny, in).Return(groundwork.ResearchPlan{Company: "A", Domain: "a.example", URLs: []string{"https://a.example/", "https://a.example/b"}, MaxPages: 2}, nil)
	env.OnActivity(groundwork.ActivityResearchFetch, ctxAny, anyArg).Return(groundwork.ResearchFetchOutput{}, temporal.NewNonRetryableApplicationError("gone", groundwork.ErrTypeNotFound, nil))
	var discarded groundwork.RunDiscardInput
	env.OnActivity(groundwork.ActivityResearchDiscard, ctxAny, anyArg).Return(func(_ context.Context, d groundwork.RunDiscardInput) error {
		discarded = d
		return nil
	})
	env.ExecuteWorkflow(Research, in)
	if env.GetWorkflowError() == nil {
		t.Fatal("want the run to fail")
	}
	if discarded.Status != "failed" || discarded.Error == nil || discarded.Error.Type != groundwork.ErrTypeNotFound {
		t.Fatalf("discarded %+v", discarded)
	}
}

// TestResearchFetchesSitemapPagesWhileTheHomePageRenders: the home page's
// render does not hold back the pages the sitemap already named. The home
// page here finishes only once a sitemap page has started (or fails the
// test after a while).
func TestResearchFetchesSitemapPagesWhileTheHomePageRenders(t *testing.T) {
	env := newResearchEnv(t)
	in := groundwork.ResearchInput{RunID: researchRunID, OwnerID: "u1"}
	plan := groundwork.ResearchPlan{Company: "Acme", Domain: "acme.example", Root: "https://acme.example/", MaxPages: 4}
	env.OnActivity(groundwork.ActivityResearchPrepare, ctxAny, in).Return(plan, nil)
	sitemapStarted := make(chan struct{})
	var once sync.Once
	site := &fakeSite{}
	env.OnActivity(groundwork.ActivityResearchFetch, ctxAny, anyArg).Return(func(ctx context.Context, f groundwork.ResearchFetchInput) (groundwork.ResearchFetchOutput, error) {
		if f.Page.URL == plan.Root {
			select {
			case <-sitemapStarted:
			case <-time.After(10 * time.Second):
				return groundwork.ResearchFetchOutput{}, temporal.NewNonRetryableApplicationError("no sitemap page started while the home page rendered", "test", nil)
			}
		} else {
			once.Do(func() { close(sitemapStarted) })
		}
		return site.fetch(ctx, f)
	})
	env.OnActivity(groundwork.ActivityResearchDiscover, ctxAny, anyArg).Return(func(_ context.Context, d groundwork.ResearchDiscoverInput) (groundwork.ResearchDiscoverOutput, error) {
		out := groundwork.ResearchDiscoverOutput{Pages: []groundwork.PlannedPage{{URL: "https://acme.example/s1"}, {URL: "https://acme.example/s2"}}}
		if d.HomeLinks != nil {
			// With the links, the plan puts a linked page before s2.
			out.Pages = []groundwork.PlannedPage{{URL: "https://acme.example/s1"}, d.HomeLinks[0], {URL: "https://acme.example/s2"}}
		}
		return out, nil
	})
	env.OnActivity(groundwork.ActivityResearchSummarize, ctxAny, anyArg).Return(groundwork.GenerateOutcome{Provider: "extractive"}, nil)
	env.OnActivity(groundwork.ActivityResearchReport, ctxAny, anyArg).Return(groundwork.ResearchOutcome{Pages: 4}, nil)
	var recorded groundwork.ResearchRecordInput
	env.OnActivity(groundwork.ActivityResearchRecord, ctxAny, anyArg).Return(func(_ context.Context, r groundwork.ResearchRecordInput) error {
		recorded = r
		return nil
	})
	env.ExecuteWorkflow(Research, in)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	// Home plus max_pages-1, each once, whatever started first.
	want := map[string]bool{plan.Root: true, "https://acme.example/s1": true, "https://acme.example/s2": true, "https://acme.example/p1": true}
	if len(site.fetched) != 4 {
		t.Fatalf("fetched %v, want the home page, s1, s2 and p1", site.fetched)
	}
	for _, u := range site.fetched {
		if !want[u] {
			t.Fatalf("fetched %v, want the home page, s1, s2 and p1", site.fetched)
		}
		delete(want, u)
	}
	if p := recorded.Progress; p.Done != 4 || p.Total != 4 {
		t.Fatalf("final progress %+v", p)
	}
}

// TestResearchFailsWhenTheHomePageFailsForGood: with discovery running
// beside it, a home page that fails for good still fails the run, after
// the early discovery's pages settled, and plans nothing more.
func TestResearchFailsWhenTheHomePageFailsForGood(t *testing.T) {
	env := newResearchEnv(t)
	in := groundwork.ResearchInput{RunID: researchRunID, OwnerID: "u1"}
	plan := groundwork.ResearchPlan{Company: "Acme", Domain: "acme.example", Root: "https://acme.example/", MaxPages: 4}
	env.OnActivity(groundwork.ActivityResearchPrepare, ctxAny, in).Return(plan, nil)
	site := &fakeSite{}
	env.OnActivity(groundwork.ActivityResearchFetch, ctxAny, anyArg).Return(func(ctx context.Context, f groundwork.ResearchFetchInput) (groundwork.ResearchFetchOutput, error) {
		if f.Page.URL == plan.Root {
			return groundwork.ResearchFetchOutput{}, temporal.NewNonRetryableApplicationError("chrome is gone", groundwork.ErrTypeNotFound, nil)
		}
		return site.fetch(ctx, f)
	})
	var mu sync.Mutex
	var withLinks int
	env.OnActivity(groundwork.ActivityResearchDiscover, ctxAny, anyArg).Return(func(_ context.Context, d groundwork.ResearchDiscoverInput) (groundwork.ResearchDiscoverOutput, error) {
		if d.HomeLinks != nil {
			mu.Lock()
			withLinks++
			mu.Unlock()
		}
		return groundwork.ResearchDiscoverOutput{Pages: []groundwork.PlannedPage{{URL: "https://acme.example/s1"}}}, nil
	})
	var discarded groundwork.RunDiscardInput
	env.OnActivity(groundwork.ActivityResearchDiscard, ctxAny, anyArg).Return(func(_ context.Context, d groundwork.RunDiscardInput) error {
		discarded = d
		return nil
	})
	env.ExecuteWorkflow(Research, in)
	if env.GetWorkflowError() == nil {
		t.Fatal("want the run to fail")
	}
	if discarded.Status != "failed" || discarded.Error == nil || discarded.Error.Type != groundwork.ErrTypeNotFound {
		t.Fatalf("discarded %+v", discarded)
	}
	if withLinks != 0 {
		t.Fatalf("planned again with links %d times after the home page failed", withLinks)
	}
}
