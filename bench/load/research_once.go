package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/groundwork-dev/groundwork/internal/testkit/testsite"
)

// researchTimeout bounds one research from POST to report: far above what
// 20 pages take even one at a time, well below Temporal's own timeouts,
// so a worker that never picks the run up fails the iteration instead of
// hanging the tool.
const researchTimeout = 5 * time.Minute

// researchPoll is how often a running research is polled: it sets the
// resolution of the wall time.
const researchPoll = 100 * time.Millisecond

// maxFailuresKept bounds the failed checks listed per research.
const maxFailuresKept = 10

// researchReport is the part of GET /v1/research/{id}?content=true the
// scenario checks.
type researchReport struct {
	Fetched int            `json:"fetched"`
	Reused  int            `json:"reused"`
	Failed  int            `json:"failed"`
	Pages   []researchPage `json:"pages"`
}

type researchPage struct {
	URL           string `json:"url"`
	FinalURL      string `json:"final_url"`
	Title         string `json:"title"`
	WordCount     int    `json:"word_count"`
	Reused        bool   `json:"reused"`
	TimedOut      bool   `json:"timed_out"`
	FetchMS       int    `json:"fetch_ms"`
	ScreenshotURL string `json:"screenshot_url"`
	Markdown      string `json:"markdown"`
	Error         *struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

// ResearchRun is one research of the scenario.
type ResearchRun struct {
	RunID string `json:"run_id,omitempty"`
	// Seconds is from sending the POST to the first poll answering
	// succeeded (100 ms poll resolution).
	Seconds float64 `json:"seconds"`
	// SummaryS is from the first poll that saw the run summarising to
	// the one that saw it succeeded: summary, report and bookkeeping,
	// which the per-domain rate does not bound.
	SummaryS float64 `json:"summary_s"`
	// DomainRequests is what the per-domain rate limits: page
	// navigations, robots.txt and sitemap reads the site received during
	// the research (not the pages' own scripts and assets).
	DomainRequests int `json:"domain_requests"`
	// FloorRatio is (Seconds − SummaryS) ÷ (DomainRequests ÷ rate): the
	// research's time before its summary against what the politeness
	// rate alone needs; set when the rate is on.
	FloorRatio float64 `json:"floor_ratio,omitempty"`
	Status     string  `json:"status"`
	Pages      int     `json:"pages"`
	// PagesOK counts pages that passed every check.
	PagesOK int `json:"pages_ok"`
	// FetchMS is each page's fetch_ms as the worker recorded it: the
	// page's time in its tab, from navigation to captured.
	FetchMS  []int    `json:"fetch_ms,omitempty"`
	Failures []string `json:"failures,omitempty"`
	// Chrome and worker usage while the research ran.
	ChromePeakRSSMiB float64 `json:"chrome_peak_rss_mib"`
	ChromePeakPSSMiB float64 `json:"chrome_peak_pss_mib"`
	ChromePeakProcs  int     `json:"chrome_peak_processes"`
	WorkerPeakRSSMiB float64 `json:"worker_peak_rss_mib"`
	ChromeCPUSeconds float64 `json:"chrome_cpu_seconds"`
	WorkerCPUSeconds float64 `json:"worker_cpu_seconds"`
	// BenchCPUSeconds is this tool's own: sampler, test site, polling.
	BenchCPUSeconds float64 `json:"bench_cpu_seconds"`
	// OtherCPUSeconds is CPU the machine spent outside the benchmark's
	// processes: other people's work skewing the figures.
	OtherCPUSeconds float64 `json:"other_cpu_seconds"`
	HostCPUBusy     float64 `json:"host_cpu_busy"`
}

// ok says the research succeeded with every page captured.
func (r ResearchRun) ok() bool { return r.Status == "succeeded" && len(r.Failures) == 0 }

func (r *ResearchRun) fail(format string, args ...any) {
	if len(r.Failures) < maxFailuresKept {
		r.Failures = append(r.Failures, fmt.Sprintf(format, args...))
	} else if len(r.Failures) == maxFailuresKept {
		r.Failures = append(r.Failures, "… (more failures not listed)")
	}
}

// researchOnce researches the site as u with nothing reused, timing it
// from POST to succeeded while sampling the worker's processes, then
// checks every page of the report.
func researchOnce(ctx context.Context, api string, worker int, ours []int, u user, site *testsite.Site, pages int) ResearchRun {
	ctx, cancel := context.WithTimeout(ctx, researchTimeout)
	defer cancel()
	var r ResearchRun
	body, _ := json.Marshal(map[string]any{
		"company": testsite.DefaultCompany, "domain": site.URL, "max_pages": pages,
		// Nothing from an earlier research may be reused: every page is
		// rendered again.
		"max_age": "0s",
	})
	before := domainRequests(site)
	sampler := startSampler(worker, ours)
	start := time.Now()
	status, id, summarizing, err := startAndWait(ctx, api, u, body)
	end := time.Now()
	r.Seconds = round2(end.Sub(start).Seconds())
	if !summarizing.IsZero() {
		r.SummaryS = round2(end.Sub(summarizing).Seconds())
	}
	r.DomainRequests = domainRequests(site) - before
	usage := sampler.stop()
	r.RunID, r.Status = id, status
	r.ChromePeakRSSMiB, r.ChromePeakPSSMiB = mib(usage.ChromeRSSKiB), mib(usage.ChromePSSKiB)
	r.ChromePeakProcs, r.WorkerPeakRSSMiB = usage.ChromeProcs, mib(usage.WorkerRSSKiB)
	r.ChromeCPUSeconds, r.WorkerCPUSeconds = round2(usage.ChromeCPU), round2(usage.WorkerCPU)
	r.BenchCPUSeconds, r.OtherCPUSeconds = round2(usage.BenchCPU), round2(usage.OtherCPU)
	r.HostCPUBusy = round2(usage.HostBusy)
	if usage.Err != nil {
		logf("sampling /proc: %v", usage.Err)
	}
	if err != nil {
		r.fail("%v", err)
		return r
	}
	b, err := callAPI(ctx, http.MethodGet, api+"/v1/research/"+url.PathEscape(id)+"?content=true", u.Token, nil)
	if err != nil {
		r.fail("get report: %v", err)
		return r
	}
	var rep researchReport
	if err := json.Unmarshal(b, &rep); err != nil {
		r.fail("decode report: %v", err)
		return r
	}
	checkReport(ctx, &r, rep, site, pages)
	return r
}

// domainRequests counts the site's requests the per-domain rate limits:
// every page path, robots.txt and the sitemap.
func domainRequests(site *testsite.Site) int {
	n := site.Hits(testsite.RobotsPath) + site.Hits(testsite.SitemapPath)
	for _, p := range site.Pages() {
		n += site.Hits(p.Path)
	}
	return n
}

// startAndWait POSTs the research and polls its run until it ends; it
// returns the final status, the run ID and when a poll first saw the run
// summarising (zero if none did).
func startAndWait(ctx context.Context, api string, u user, body []byte) (status, id string, summarizing time.Time, err error) {
	b, err := callAPI(ctx, http.MethodPost, api+"/v1/research", u.Token, body)
	if err != nil {
		return "", "", summarizing, err
	}
	if id, err = runID(b); err != nil {
		return "", "", summarizing, err
	}
	for {
		b, err := callAPI(ctx, http.MethodGet, api+"/v1/runs/"+url.PathEscape(id), u.Token, nil)
		if err != nil {
			return "", id, summarizing, err
		}
		var run struct {
			Status   string `json:"status"`
			Progress struct {
				Stage string `json:"stage"`
			} `json:"progress"`
			Error *struct {
				Type    string `json:"type"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(b, &run); err != nil {
			return "", id, summarizing, fmt.Errorf("decode run %s: %w", id, err)
		}
		if summarizing.IsZero() && (run.Progress.Stage == "summarizing" || run.Progress.Stage == "done" || run.Status == "succeeded") {
			summarizing = time.Now()
		}
		switch run.Status {
		case "succeeded":
			return run.Status, id, summarizing, nil
		case "failed", "canceled", "timed_out":
			if run.Error != nil {
				return run.Status, id, summarizing, fmt.Errorf("run %s %s: %s: %s", id, run.Status, run.Error.Type, run.Error.Message)
			}
			return run.Status, id, summarizing, fmt.Errorf("run %s %s", id, run.Status)
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return run.Status, id, summarizing, fmt.Errorf("run %s still %s after %s", id, run.Status, researchTimeout)
			}
			return run.Status, id, summarizing, ctx.Err()
		case <-time.After(researchPoll):
		}
	}
}

// checkReport holds the report to the bar: the expected number of pages,
// every public page of the site among them, each fetched afresh without
// error, with a title, words, its script-rendered marker (proof that
// JavaScript ran) and a screenshot that downloads and decodes as a PNG.
func checkReport(ctx context.Context, r *ResearchRun, rep researchReport, site *testsite.Site, want int) {
	r.Pages = len(rep.Pages)
	if len(rep.Pages) != want {
		r.fail("%d pages in the report, want %d", len(rep.Pages), want)
	}
	byPath := map[string]researchPage{}
	for _, p := range rep.Pages {
		r.FetchMS = append(r.FetchMS, p.FetchMS)
		u, err := url.Parse(p.FinalURL)
		if p.FinalURL == "" || err != nil {
			u, _ = url.Parse(p.URL)
		}
		if u != nil {
			byPath[u.Path] = p
		}
	}
	for _, spec := range site.Pages() {
		if spec.Disallowed {
			continue
		}
		p, ok := byPath[spec.Path]
		if !ok {
			r.fail("%s: not in the report", spec.Path)
			continue
		}
		if problems := checkPage(ctx, p, spec); len(problems) > 0 {
			r.fail("%s: %s", spec.Path, strings.Join(problems, "; "))
			continue
		}
		r.PagesOK++
	}
}

// checkPage lists what is wrong with one page.
func checkPage(ctx context.Context, p researchPage, spec testsite.PageSpec) []string {
	var bad []string
	if p.Error != nil {
		bad = append(bad, fmt.Sprintf("error %s: %s", p.Error.Type, p.Error.Message))
	}
	if p.Reused {
		bad = append(bad, "reused from the page cache despite max_age 0s")
	}
	if p.TimedOut {
		bad = append(bad, "timed out before it settled")
	}
	if strings.TrimSpace(p.Title) == "" {
		bad = append(bad, "no title")
	}
	if p.WordCount <= 0 {
		bad = append(bad, "word_count 0")
	}
	if !strings.Contains(p.Markdown, spec.Marker) {
		bad = append(bad, "the script-rendered marker is missing (JavaScript did not run or was not waited for)")
	}
	if p.ScreenshotURL == "" {
		return append(bad, "no screenshot_url")
	}
	// The signed link works without a token, as an <img> would use it.
	b, err := callAPI(ctx, http.MethodGet, p.ScreenshotURL, "", nil)
	if err != nil {
		return append(bad, "screenshot: "+err.Error())
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return append(bad, fmt.Sprintf("screenshot (%d bytes) is not a PNG: %v", len(b), err))
	}
	if sz := img.Bounds().Size(); sz.X < 100 || sz.Y < 100 {
		bad = append(bad, fmt.Sprintf("screenshot is only %dx%d", sz.X, sz.Y))
	}
	return bad
}

func mib(kib uint64) float64 { return round2(float64(kib) / 1024) }
