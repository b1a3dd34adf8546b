package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/groundwork-dev/groundwork/bench/internal/benchstack"
	"github.com/groundwork-dev/groundwork/internal/testkit/testsite"
)

// The research scenario's bars. Rate off (issue 5): with this many tabs a
// research is at least researchBar times faster than with one. Rate on
// (issue 18): a research's time before its summary is at most
// researchFloorBar times what the per-domain rate alone needs (its
// domain requests ÷ the rate).
const (
	researchBarTabs  = 5
	researchBar      = 3.0
	researchFloorBar = 1.2
)

// researchPages is the size of the test site and of every research.
const researchPages = 20

// ResearchResult is the research scenario: the same 20-page
// JavaScript-rendered site researched with each tab count in turn.
type ResearchResult struct {
	Pages int `json:"pages"`
	// PageDelayMS is how long the site's content API takes to answer.
	PageDelayMS int64 `json:"page_delay_ms"`
	// RenderDelayMS is how long each page's script waits before fetching.
	RenderDelayMS int64 `json:"render_delay_ms"`
	// DomainRate is GROUNDWORK_RESEARCH_DOMAIN_RATE; 0 = off.
	DomainRate float64        `json:"domain_rate"`
	Iterations int            `json:"iterations"`
	CPUs       int            `json:"cpus"`
	Tabs       []ResearchTabs `json:"tabs"`
	// Speedup is the 1-tab median over the 5-tab median, when both ran.
	Speedup  float64 `json:"speedup_1_over_5,omitempty"`
	Criteria string  `json:"criteria"`
	Pass     bool    `json:"pass"`
	Note     string  `json:"note,omitempty"`
}

// ResearchTabs is one tab count: its researches and their summary.
type ResearchTabs struct {
	Tabs      int           `json:"tabs"`
	Runs      []ResearchRun `json:"runs"`
	Succeeded int           `json:"succeeded_all_checks"`
	MedianS   float64       `json:"median_s"`
	MinS      float64       `json:"min_s"`
	MaxS      float64       `json:"max_s"`
	// PagesPerS is the pages over the median wall time.
	PagesPerS float64 `json:"pages_per_s"`
	// PageP50MS and PageMaxMS are over every page's fetch_ms of every run.
	PageP50MS int `json:"page_fetch_p50_ms"`
	PageMaxMS int `json:"page_fetch_max_ms"`
	// ChromeRSS, ChromePSS and ChromeProc are peaks over the runs of
	// Chrome's summed RSS and PSS and its process count.
	ChromeRSS  float64 `json:"chrome_peak_rss_mib"`
	ChromePSS  float64 `json:"chrome_peak_pss_mib"`
	ChromeProc int     `json:"chrome_peak_processes"`
	WorkerRSS  float64 `json:"worker_peak_rss_mib"`
	// ChromeCores, WorkerCores, BenchCores and OtherCores are CPU seconds
	// over wall seconds, summed over the runs: the cores each kept busy on
	// average. Other is the machine's CPU used outside the benchmark:
	// another workload taking cores Chrome would have had.
	ChromeCores float64 `json:"chrome_cores"`
	WorkerCores float64 `json:"worker_cores"`
	BenchCores  float64 `json:"bench_cores"`
	OtherCores  float64 `json:"other_cores"`
	// HostBusy is the mean share of the machine's CPU time that was busy.
	HostBusy float64 `json:"host_cpu_busy"`
	// Medians over the runs of the domain requests, the summary's time
	// and, with the rate on, the time before the summary over the rate's
	// floor.
	Requests   float64 `json:"domain_requests_median"`
	SummaryS   float64 `json:"summary_median_s"`
	FloorRatio float64 `json:"floor_ratio_median,omitempty"`
	// Load1 is the machine's 1-minute load average when the tab count
	// started, others' work included.
	Load1 float64 `json:"load1_at_start"`
}

// researchServerEnv is what the scenario's worker needs on top of
// --server-env: the local site let through the SSRF guard, the per-domain
// rate as asked, and per-user limits the 100 ms polling stays under.
func researchServerEnv(o options) []string {
	return []string{
		"GROUNDWORK_RESEARCH_ALLOW_CIDRS=127.0.0.1/32",
		"GROUNDWORK_RESEARCH_DOMAIN_RATE=" + strconv.FormatFloat(o.domainRate, 'f', -1, 64),
		"GROUNDWORK_RATE_PER_SECOND=100000", "GROUNDWORK_RATE_PER_MINUTE=1000000",
	}
}

// checkChrome fails early when the worker would find no Chrome: it would
// then not poll the browser queue, and every research would just wait.
func checkChrome(o options) error {
	for _, kv := range o.serverEnv {
		if strings.HasPrefix(kv, "GROUNDWORK_CHROME_PATH=") {
			return nil
		}
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if _, err := exec.LookPath(name); err == nil {
			return nil
		}
	}
	return errors.New("--scenario research needs Chrome: install Debian's chromium package or pass --server-env GROUNDWORK_CHROME_PATH=…")
}

// runResearch researches the test site o.iterations times per tab count,
// one research at a time, restarting `groundwork dev` for each tab count
// so every count starts from a fresh worker and Chrome.
func runResearch(ctx context.Context, e *env, o options, st *benchstack.Stack) (*Results, error) {
	site := testsite.New(testsite.Options{Pages: researchPages, RenderDelay: o.renderDelay, APIDelay: o.pageDelay})
	defer site.Close()
	res := &ResearchResult{
		Pages: researchPages, PageDelayMS: o.pageDelay.Milliseconds(), RenderDelayMS: o.renderDelay.Milliseconds(),
		DomainRate: o.domainRate, Iterations: o.iterations, CPUs: runtime.NumCPU(),
		Criteria: fmt.Sprintf("%d tabs ≥ %g× faster than 1 tab (medians), every page of every research captured", researchBarTabs, researchBar),
	}
	if o.domainRate > 0 {
		res.Criteria = fmt.Sprintf("time before the summary ≤ %g × domain requests ÷ %g/s (median of every tab count), every page of every research captured", researchFloorBar, o.domainRate)
	}
	out := &Results{Scenario: "research", Research: res}
	logf("research: test site %s, %d pages, script delay %s, content API delay %s", site.URL, researchPages, o.renderDelay, o.pageDelay)
	for _, tabs := range o.tabs {
		if ctx.Err() != nil {
			break // interrupted: report what was measured
		}
		t, err := researchTabs(ctx, e, o, st, site, tabs)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			return nil, err
		}
		if len(t.Runs) > 0 {
			summarizeTabs(&t)
			res.Tabs = append(res.Tabs, t)
		}
	}
	judgeResearch(res)
	return out, nil
}

// researchTabs restarts the worker with this many tabs and runs the
// researches; on interrupt it returns the runs that completed.
func researchTabs(ctx context.Context, e *env, o options, st *benchstack.Stack, site *testsite.Site, tabs int) (ResearchTabs, error) {
	t := ResearchTabs{Tabs: tabs}
	if l, err := loadAvg1(); err == nil {
		t.Load1 = l
	}
	if err := st.RestartAPI(ctx, []string{fmt.Sprintf("GROUNDWORK_RESEARCH_TABS=%d", tabs)}); err != nil {
		return t, fmt.Errorf("restart the worker with %d tabs: %w", tabs, err)
	}
	e.api = st.APIURL
	users, err := e.createUsers(ctx, fmt.Sprintf("research-t%d", tabs), o.iterations)
	if err != nil {
		return t, err
	}
	// Every process of the benchmark is below this one, except Postgres,
	// which pg_ctl detaches.
	ours := []int{os.Getpid()}
	if pid := st.PostgresPID(); pid > 0 {
		ours = append(ours, pid)
	}
	for i, u := range users {
		r := researchOnce(ctx, e.api, st.APIPID(), ours, u, site, researchPages)
		if ctx.Err() != nil {
			break // interrupted: not a failure of the research
		}
		if o.domainRate > 0 && r.DomainRequests > 0 {
			r.FloorRatio = round2((r.Seconds - r.SummaryS) / (float64(r.DomainRequests) / o.domainRate))
		}
		logf("research: tabs=%d, run %d/%d: %s in %.2f s (summary %.2f s, %d domain requests), %d/%d pages ok, Chrome peak %.0f MiB RSS / %.0f MiB PSS in %d processes",
			tabs, i+1, o.iterations, r.Status, r.Seconds, r.SummaryS, r.DomainRequests, r.PagesOK, researchPages, r.ChromePeakRSSMiB, r.ChromePeakPSSMiB, r.ChromePeakProcs)
		for _, f := range r.Failures {
			logf("  FAILED: %s", f)
		}
		t.Runs = append(t.Runs, r)
	}
	return t, nil
}

// summarizeTabs fills the summary of one tab count from its runs.
func summarizeTabs(t *ResearchTabs) {
	var secs, reqs, summ, ratio []float64
	var fetch []int
	var chromeCPU, workerCPU, benchCPU, otherCPU, wall, busy float64
	for _, r := range t.Runs {
		if r.ok() {
			t.Succeeded++
		}
		secs = append(secs, r.Seconds)
		reqs, summ = append(reqs, float64(r.DomainRequests)), append(summ, r.SummaryS)
		if r.FloorRatio > 0 {
			ratio = append(ratio, r.FloorRatio)
		}
		fetch = append(fetch, r.FetchMS...)
		t.ChromeRSS, t.ChromePSS = max(t.ChromeRSS, r.ChromePeakRSSMiB), max(t.ChromePSS, r.ChromePeakPSSMiB)
		t.ChromeProc, t.WorkerRSS = max(t.ChromeProc, r.ChromePeakProcs), max(t.WorkerRSS, r.WorkerPeakRSSMiB)
		chromeCPU += r.ChromeCPUSeconds
		workerCPU += r.WorkerCPUSeconds
		benchCPU += r.BenchCPUSeconds
		otherCPU += r.OtherCPUSeconds
		wall += r.Seconds
		busy += r.HostCPUBusy * r.Seconds
	}
	if len(secs) == 0 {
		return
	}
	slices.Sort(secs)
	slices.Sort(fetch)
	slices.Sort(reqs)
	slices.Sort(summ)
	t.Requests, t.SummaryS = median(reqs), round2(median(summ))
	if len(ratio) > 0 {
		slices.Sort(ratio)
		t.FloorRatio = round2(median(ratio))
	}
	t.MedianS, t.MinS, t.MaxS = round2(median(secs)), secs[0], secs[len(secs)-1]
	if t.MedianS > 0 {
		t.PagesPerS = round2(researchPages / t.MedianS)
	}
	if len(fetch) > 0 {
		t.PageP50MS, t.PageMaxMS = fetch[(len(fetch)-1)/2], fetch[len(fetch)-1]
	}
	if wall > 0 {
		t.ChromeCores, t.WorkerCores, t.HostBusy = round2(chromeCPU/wall), round2(workerCPU/wall), round2(busy/wall)
		t.BenchCores, t.OtherCores = round2(benchCPU/wall), round2(otherCPU/wall)
	}
}

// median of sorted values; the mean of the middle two for an even count.
func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// judgeResearch sets the speed-up and the verdict. Rate off, it passes
// only when both 1 and 5 tabs ran, the ratio of their medians reaches the
// bar and no research anywhere failed a check; rate on, when every tab
// count's median floor ratio is within the floor bar and no research
// failed a check.
func judgeResearch(res *ResearchResult) {
	var one, five *ResearchTabs
	allOK := true
	for i := range res.Tabs {
		t := &res.Tabs[i]
		if t.Succeeded != len(t.Runs) || len(t.Runs) == 0 {
			allOK = false
		}
		switch t.Tabs {
		case 1:
			one = t
		case researchBarTabs:
			five = t
		}
	}
	if one != nil && five != nil && one.MedianS > 0 && five.MedianS > 0 {
		res.Speedup = round2(one.MedianS / five.MedianS)
	}
	if res.DomainRate > 0 {
		res.Pass = allOK && len(res.Tabs) > 0
		for _, t := range res.Tabs {
			res.Pass = res.Pass && t.FloorRatio > 0 && t.FloorRatio <= researchFloorBar
		}
		res.Note = fmt.Sprintf("with the per-domain rate at %g/s, the pages of one site cannot go faster than that whatever the tab count: the bar is the rate's floor", res.DomainRate)
		return
	}
	if res.Speedup == 0 {
		res.Note = fmt.Sprintf("the bar needs --tabs to include 1 and %d", researchBarTabs)
		return
	}
	res.Pass = allOK && res.Speedup >= researchBar
}
