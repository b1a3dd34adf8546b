package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/groundwork-dev/groundwork/internal/testkit/testsite"
)

// researchPages is max_pages of every research of the load: a small share
// of the test site, so that a few researches a minute stay within what two
// workers' Chromium can render on a shared 2-core machine.
const researchPages = 4

// findChrome fails early when the workers would find no Chromium: they
// would then not poll the browser queue and every research would wait.
func findChrome() error {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if _, err := exec.LookPath(name); err == nil {
			return nil
		}
	}
	return fmt.Errorf("research in the load needs Chromium (Debian's chromium package); or pass --research-every 0")
}

// newResearchSite starts the local JavaScript company site the load
// researches, on 127.0.0.1 (let through the SSRF guard by the dev role's
// GROUNDWORK_RESEARCH_ALLOW_CIDRS=127.0.0.1/32).
func newResearchSite() *testsite.Site {
	return testsite.New(testsite.Options{RenderDelay: 100 * time.Millisecond, APIDelay: 100 * time.Millisecond})
}

// researcher starts one research of the test site every `every` until ctx
// ends, through the load balancer with an Idempotency-Key like every
// other start; max_age 0s makes every page render again, screenshot and
// all.
func (l *load) researcher(ctx context.Context, site *testsite.Site, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for seq := 0; ; seq++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		body, _ := json.Marshal(map[string]any{"company": testsite.DefaultCompany, "domain": site.URL,
			"max_pages": researchPages, "max_age": "0s"})
		l.start(ctx, "research", "/v1/research", body, fmt.Sprintf("chaos-%s-research-%d", l.tag, seq), "")
	}
}

// ResearchReconciliation is what Postgres holds of the load's researches.
type ResearchReconciliation struct {
	// Runs and Succeeded count the research runs; Reports the succeeded
	// ones with a research_reports row (it must be all of them).
	Runs      int `json:"runs"`
	Succeeded int `json:"succeeded"`
	Reports   int `json:"reports"`
	// Pages are research_run_pages rows of the succeeded runs; PagesFailed
	// those whose page has an error_type; Screenshots those with a file.
	Pages       int            `json:"pages"`
	PagesFailed map[string]int `json:"pages_failed_by_type,omitempty"`
	Screenshots int            `json:"pages_with_screenshot"`
	// SitePageHits is how many page loads (HTML) the test site served.
	SiteRequests int `json:"site_requests"`
}

// reconcileResearch checks every succeeded research has its report and
// its pages.
func reconcileResearch(ctx context.Context, conn *pgx.Conn, runs map[string]*runRow, site *testsite.Site, problem func(string, ...any)) (*ResearchReconciliation, error) {
	r := &ResearchReconciliation{PagesFailed: map[string]int{}}
	var ids []string
	for _, run := range runs {
		if run.Kind != "research" {
			continue
		}
		r.Runs++
		if run.Status == "succeeded" {
			r.Succeeded++
			ids = append(ids, run.ID)
		}
	}
	if site != nil {
		r.SiteRequests = site.Requests()
	}
	if len(ids) == 0 {
		return r, nil
	}
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM research_reports WHERE run_id = ANY($1)`, ids).Scan(&r.Reports); err != nil {
		return nil, fmt.Errorf("count research reports: %w", err)
	}
	rows, err := conn.Query(ctx, `SELECT coalesce(p.error_type, ''), p.screenshot_key IS NOT NULL, count(*)
		FROM research_run_pages rp JOIN research_pages p ON p.id = rp.page_id
		WHERE rp.run_id = ANY($1) GROUP BY 1, 2`, ids)
	if err != nil {
		return nil, fmt.Errorf("read research pages: %w", err)
	}
	for rows.Next() {
		var typ string
		var shot bool
		var n int
		if err := rows.Scan(&typ, &shot, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read research pages: %w", err)
		}
		r.Pages += n
		if typ != "" {
			r.PagesFailed[typ] += n
		}
		if shot {
			r.Screenshots += n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read research pages: %w", err)
	}
	if r.Reports != r.Succeeded {
		problem("research: %d succeeded runs, %d reports", r.Succeeded, r.Reports)
	}
	if want := r.Succeeded * researchPages; r.Pages != want {
		problem("research: %d pages in the succeeded runs' plans, want %d (%d each)", r.Pages, want, researchPages)
	}
	if n := len(r.PagesFailed); n > 0 {
		problem("research: pages failed %v", r.PagesFailed)
	}
	return r, nil
}
