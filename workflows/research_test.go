package workflows

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"

	"go.temporal.io/sdk/activity"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// Stand-ins for the Research workflow's activities.
func researchPrepare(context.Context, ResearchInput) (ResearchPlan, error) {
	return ResearchPlan{}, nil
}
func researchFetch(context.Context, ResearchFetchInput) (ResearchFetchOutput, error) {
	return ResearchFetchOutput{}, nil
}
func researchDiscover(context.Context, ResearchDiscoverInput) (ResearchDiscoverOutput, error) {
	return ResearchDiscoverOutput{}, nil
}
func researchSummarize(context.Context, ResearchSummarizeInput) (GenerateOutcome, error) {
	return GenerateOutcome{}, nil
}
func researchReport(context.Context, ResearchReportInput) (ResearchOutcome, error) {
	return ResearchOutcome{}, nil
}
func researchRecord(context.Context, ResearchRecordInput) error { return nil }

const researchRunID = "research-01JD4X7Q2W6ZC5D3V9N8K1M2P3"

func newResearchEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(Research, workflow.RegisterOptions{Name: "Research"})
	for name, fn := range map[string]any{
		ActivityResearchPrepare: researchPrepare, ActivityResearchFetch: researchFetch,
		ActivityResearchDiscover: researchDiscover, ActivityResearchSummarize: researchSummarize,
		ActivityResearchReport: researchReport, ActivityResearchRecord: researchRecord,
		ActivityResearchDiscard: discard,
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

func (f *fakeSite) fetch(_ context.Context, in ResearchFetchInput) (ResearchFetchOutput, error) {
	f.mu.Lock()
	f.fetched = append(f.fetched, in.Page.URL)
	f.mu.Unlock()
	out := ResearchFetchOutput{URL: in.Page.URL, FinalURL: in.Page.URL, Status: 200}
	if f.failing[in.Page.URL] {
		out.Status, out.ErrorType = 404, "http_error"
	}
	if in.WantLinks {
		for i := 1; i <= 30; i++ {
			out.Links = append(out.Links, PlannedPage{URL: fmt.Sprintf("https://acme.example/p%d", i)})
		}
	}
	return out, nil
}

func TestResearchDiscoversFetchesAndReports(t *testing.T) {
	env := newResearchEnv(t)
	in := ResearchInput{RunID: researchRunID, OwnerID: "u1"}
	plan := ResearchPlan{Company: "Acme", Domain: "acme.example", Root: "https://acme.example/", MaxPages: 8, MaxAgeSeconds: 3600}
	env.OnActivity(ActivityResearchPrepare, ctxAny, in).Return(plan, nil)
	site := &fakeSite{failing: map[string]bool{"https://acme.example/p3": true}}
	env.OnActivity(ActivityResearchFetch, ctxAny, anyArg).Return(site.fetch)
	var discovered ResearchDiscoverInput
	env.OnActivity(ActivityResearchDiscover, ctxAny, anyArg).Return(func(_ context.Context, d ResearchDiscoverInput) (ResearchDiscoverOutput, error) {
		discovered = d
		// Discovery plans the home page too; the workflow must not fetch it twice.
		out := ResearchDiscoverOutput{Pages: []PlannedPage{{URL: plan.Root, Category: "home"}}}
		out.Pages = append(out.Pages, d.HomeLinks[:d.MaxPages]...)
		return out, nil
	})
	var summarized ResearchSummarizeInput
	env.OnActivity(ActivityResearchSummarize, ctxAny, anyArg).Return(func(_ context.Context, s ResearchSummarizeInput) (GenerateOutcome, error) {
		summarized = s
		return GenerateOutcome{Provider: "openai"}, nil
	})
	var report ResearchReportInput
	env.OnActivity(ActivityResearchReport, ctxAny, anyArg).Return(func(_ context.Context, r ResearchReportInput) (ResearchOutcome, error) {
		report = r
		return ResearchOutcome{Company: "Acme", Domain: "acme.example", Provider: "openai", Pages: 8, Fetched: 7, Failed: 1}, nil
	})
	var recorded ResearchRecordInput
	env.OnActivity(ActivityResearchRecord, ctxAny, anyArg).Return(func(_ context.Context, r ResearchRecordInput) error {
		recorded = r
		return nil
	})

	env.ExecuteWorkflow(Research, in)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if discovered.Root != plan.Root || len(discovered.HomeLinks) != 30 || discovered.MaxPages != 8 {
		t.Fatalf("discover input %+v", discovered)
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
	if summarized.Company != "Acme" || report.SummaryError != "" {
		t.Fatalf("summarize %+v, report %+v", summarized, report)
	}
	p := recorded.Progress
	if p.Stage != StageDone || p.Done != 8 || p.Total != 8 {
		t.Fatalf("final progress %+v", p)
	}
}

func TestResearchExplicitURLsSkipDiscovery(t *testing.T) {
	env := newResearchEnv(t)
	in := ResearchInput{RunID: researchRunID, OwnerID: "u1"}
	urls := []string{"https://a.example/x", "https://a.example/y", "https://b.example/"}
	env.OnActivity(ActivityResearchPrepare, ctxAny, in).Return(ResearchPlan{Company: "A", Domain: "a.example", URLs: urls, MaxPages: 3}, nil)
	site := &fakeSite{}
	env.OnActivity(ActivityResearchFetch, ctxAny, anyArg).Return(site.fetch)
	env.OnActivity(ActivityResearchSummarize, ctxAny, anyArg).Return(GenerateOutcome{Provider: "extractive"}, nil)
	env.OnActivity(ActivityResearchReport, ctxAny, anyArg).Return(ResearchOutcome{Pages: 3}, nil)
	env.OnActivity(ActivityResearchRecord, ctxAny, anyArg).Return(nil)
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
	in := ResearchInput{RunID: researchRunID, OwnerID: "u1"}
	env.OnActivity(ActivityResearchPrepare, ctxAny, in).Return(ResearchPlan{Company: "A", Domain: "a.example", URLs: []string{"https://a.example/"}, MaxPages: 1}, nil)
	env.OnActivity(ActivityResearchFetch, ctxAny, anyArg).Return((&fakeSite{}).fetch)
	env.OnActivity(ActivityResearchSummarize, ctxAny, anyArg).Return(GenerateOutcome{},
		temporal.NewNonRetryableApplicationError("over budget", ErrTypeBudgetExceeded, nil))
	var report ResearchReportInput
	env.OnActivity(ActivityResearchReport, ctxAny, anyArg).Return(func(_ context.Context, r ResearchReportInput) (ResearchOutcome, error) {
		report = r
		return ResearchOutcome{Provider: "extractive", Pages: 1}, nil
	})
	env.OnActivity(ActivityResearchRecord, ctxAny, anyArg).Return(nil)
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
	in := ResearchInput{RunID: researchRunID, OwnerID: "u1"}
	env.OnActivity(ActivityResearchPrepare, ctxAny, in).Return(ResearchPlan{Company: "A", Domain: "a.example", URLs: []string{"https://a.example/", "https://a.example/b"}, MaxPages: 2}, nil)
	env.OnActivity(ActivityResearchFetch, ctxAny, anyArg).Return(ResearchFetchOutput{}, temporal.NewNonRetryableApplicationError("gone", ErrTypeNotFound, nil))
	var discarded RunDiscardInput
	env.OnActivity(ActivityResearchDiscard, ctxAny, anyArg).Return(func(_ context.Context, d RunDiscardInput) error {
		discarded = d
		return nil
	})
	env.ExecuteWorkflow(Research, in)
	if env.GetWorkflowError() == nil {
		t.Fatal("want the run to fail")
	}
	if discarded.Status != "failed" || discarded.Error == nil || discarded.Error.Type != ErrTypeNotFound {
		t.Fatalf("discarded %+v", discarded)
	}
}
