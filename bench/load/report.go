package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Results is everything one run measured; --json writes it as is.
type Results struct {
	Scenario string          `json:"scenario"`
	At       time.Time       `json:"at"`
	Host     HostInfo        `json:"host"`
	Stack    StackInfo       `json:"stack"`
	Users    *UsersResult    `json:"users,omitempty"`
	Ramp     *RampResult     `json:"ramp,omitempty"`
	Report   *ReportResult   `json:"report,omitempty"`
	Generate *GenerateResult `json:"generate,omitempty"`
	Research *ResearchResult `json:"research,omitempty"`
	Latency  *LatencyResult  `json:"latency,omitempty"`
}

// HostInfo is the machine the figures come from.
type HostInfo struct {
	CPUs int    `json:"cpus"`
	OS   string `json:"os"`
	Go   string `json:"go"`
}

// StackInfo is what was attacked.
type StackInfo struct {
	Mode       string   `json:"mode"`
	APIURL     string   `json:"api_url"`
	PGFast     bool     `json:"pg_fast"`
	TemporalDB string   `json:"temporal_db,omitempty"`
	ServerEnv  []string `json:"server_env,omitempty"`
}

// UsersResult is the users scenario.
type UsersResult struct {
	Users     int      `json:"users"`
	Duration  string   `json:"duration"`
	StartRate float64  `json:"start_rate_per_s"`
	PollRate  float64  `json:"poll_rate_per_s"`
	Starts    Summary  `json:"starts"`
	Polls     Summary  `json:"polls"`
	Raw       *Summary `json:"raw,omitempty"`
	// Ratio is API / raw for the start path.
	Ratio      *Ratio      `json:"ratio_api_raw,omitempty"`
	Completion *Completion `json:"completion,omitempty"`
	// BadBodies counts 2xx answers the bench could not read.
	BadBodies int `json:"bad_bodies,omitempty"`
	// Soak is the per-interval view against a dev-cluster (--cluster,
	// --cluster-json).
	Soak *SoakResult `json:"soak,omitempty"`
}

// RampResult is the ramp scenario.
type RampResult struct {
	Step     string     `json:"step"`
	Criteria string     `json:"criteria"`
	Steps    []RampStep `json:"steps"`
	// Best is the highest rate whose step passed Criteria; nil if none did.
	Best *float64 `json:"best_rate_per_s"`
}

// RampStep is one rate of the ramp.
type RampStep struct {
	Rate  float64  `json:"rate_per_s"`
	Users int      `json:"users"`
	API   Summary  `json:"api"`
	Raw   *Summary `json:"raw,omitempty"`
	Ratio *Ratio   `json:"ratio_api_raw,omitempty"`
	Pass  bool     `json:"pass"`
}

// hostInfo describes this machine.
func hostInfo() HostInfo {
	return HostInfo{CPUs: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH, Go: runtime.Version()}
}

func printResults(w io.Writer, r *Results) {
	fmt.Fprintf(w, "\n%s scenario — %s at %s, %d CPUs", r.Scenario, r.Stack.Mode, r.Stack.APIURL, r.Host.CPUs)
	if r.Stack.TemporalDB != "" {
		fmt.Fprintf(w, "; Postgres fast=%v, Temporal db=%s", r.Stack.PGFast, r.Stack.TemporalDB)
	}
	if len(r.Stack.ServerEnv) > 0 {
		fmt.Fprintf(w, "; server env %s", strings.Join(r.Stack.ServerEnv, " "))
	}
	fmt.Fprintln(w)
	switch {
	case r.Users != nil:
		printUsers(w, r.Users)
	case r.Ramp != nil:
		printRamp(w, r.Ramp)
	case r.Report != nil:
		printReport(w, r.Report)
	case r.Generate != nil:
		printGenerate(w, r.Generate)
	case r.Research != nil:
		printResearch(w, r.Research)
	case r.Latency != nil:
		printLatency(w, r.Latency)
	}
}

func printReport(w io.Writer, r *ReportResult) {
	fmt.Fprintf(w, "the %d-page report (%d bytes as PDF), %d iterations\n\n", r.Pages, r.PDFBytes, r.Iterations)
	tw := table(w, "what")
	row(tw, "render PDF (in process)", r.RenderPDF)
	row(tw, "render DOCX (in process)", r.RenderDOCX)
	row(tw, "POST → PDF downloaded", r.EndToEnd)
	if r.Chromium != nil {
		row(tw, "HTML → PDF, headless Chromium", *r.Chromium)
	}
	_ = tw.Flush()
	if r.ChromiumOverRender > 0 {
		fmt.Fprintf(w, "\nChromium --print-to-pdf p50 / Groundwork PDF render p50: ×%.1f\n", r.ChromiumOverRender)
	}
	if r.ChromiumNote != "" {
		fmt.Fprintf(w, "(%s)\n", r.ChromiumNote)
	}
}

func printUsers(w io.Writer, u *UsersResult) {
	fmt.Fprintf(w, "%d users for %s: starts %.2f/s, polls %.2f/s once every user has a run\n\n",
		u.Users, u.Duration, u.StartRate, u.PollRate)
	sums := []Summary{u.Starts, u.Polls}
	if u.Raw != nil {
		sums = append(sums, *u.Raw)
	}
	tw := table(w, "endpoint")
	for _, s := range sums {
		row(tw, s.Endpoint, s)
	}
	tw.Flush()
	fmt.Fprintln(w)
	printRatio(w, "start path API/raw", u.Ratio)
	if c := u.Completion; c != nil {
		fmt.Fprintf(w, "export completion (POST sent → first poll answer saying succeeded; 2 s poll resolution):\n")
		fmt.Fprintf(w, "  %d started, %d seen succeeded, %d not seen ending", c.Started, c.Succeeded, c.Unseen)
		for _, k := range sortedKeys(c.Other) {
			fmt.Fprintf(w, ", %d %s", c.Other[k], k)
		}
		fmt.Fprintln(w)
		if c.Succeeded > 0 {
			fmt.Fprintf(w, "  p50 %s  p95 %s  max %s\n", fmtMs(c.P50ms), fmtMs(c.P95ms), fmtMs(c.MaxMs))
		}
	}
	if u.BadBodies > 0 {
		fmt.Fprintf(w, "WARNING: %d 2xx answers could not be read\n", u.BadBodies)
	}
	warnRateLimited(w, sums...)
	printSoak(w, u.Soak)
}

func printRamp(w io.Writer, rr *RampResult) {
	fmt.Fprintf(w, "POST /v1/exports for %s per step, then the raw baseline at the same rates\n\n", rr.Step)
	tw := table(w, "step/s\tusers\tendpoint")
	var all []Summary
	for _, st := range rr.Steps {
		row(tw, fmt.Sprintf("%g\t%d\t%s", st.Rate, st.Users, st.API.Endpoint), st.API)
		all = append(all, st.API)
		if st.Raw != nil {
			row(tw, fmt.Sprintf("%g\t\t%s", st.Rate, st.Raw.Endpoint), *st.Raw)
			all = append(all, *st.Raw)
		}
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "step/s\tAPI/raw p50\tAPI/raw p95\tverdict\t")
	for _, st := range rr.Steps {
		p50, p95 := "-", "-"
		if st.Ratio != nil {
			p50, p95 = fmt.Sprintf("×%.2f", st.Ratio.P50), fmt.Sprintf("×%.2f", st.Ratio.P95)
		}
		verdict := "fail"
		if st.Pass {
			verdict = "pass"
		}
		fmt.Fprintf(tw, "%g\t%s\t%s\t%s\t\n", st.Rate, p50, p95, verdict)
	}
	tw.Flush()
	if rr.Best != nil {
		fmt.Fprintf(w, "\nhighest step passing (verdict: %s): %g starts/s\n", rr.Criteria, *rr.Best)
	} else {
		fmt.Fprintf(w, "\nno step passed (verdict: %s)\n", rr.Criteria)
	}
	warnRateLimited(w, all...)
}

func table(w io.Writer, first string) *tabwriter.Writer {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, first+"\trequests\trate/s\tp50\tp95\tp99\tmax\terrors\tcodes")
	return tw
}

func row(tw *tabwriter.Writer, first string, s Summary) {
	fmt.Fprintf(tw, "%s\t%d\t%.2f\t%s\t%s\t%s\t%s\t%s\t%s\n", first, s.Requests, s.Rate,
		fmtMs(s.P50ms), fmtMs(s.P95ms), fmtMs(s.P99ms), fmtMs(s.MaxMs), fmtErrors(s), fmtCodes(s.Codes))
}

func printRatio(w io.Writer, label string, r *Ratio) {
	if r == nil {
		return
	}
	fmt.Fprintf(w, "%s: p50 ×%.2f, p95 ×%.2f\n\n", label, r.P50, r.P95)
}

// warnRateLimited calls out 429s: the schedules stay under the per-user
// limits, so one means the bench (or the limiter) misbehaves.
func warnRateLimited(w io.Writer, sums ...Summary) {
	n := 0
	for _, s := range sums {
		n += s.Codes["429"]
	}
	if n > 0 {
		fmt.Fprintf(w, "ERROR: %d answers were 429 although every user stays under 10/s and 100/min\n", n)
	}
	for _, s := range sums {
		for _, m := range sortedKeys(s.ErrorSamples) {
			fmt.Fprintf(w, "  %s: %d× %s\n", s.Endpoint, s.ErrorSamples[m], m)
		}
	}
}

func fmtMs(v float64) string {
	if v >= 1000 {
		return fmt.Sprintf("%.2fs", v/1000)
	}
	return fmt.Sprintf("%.1fms", v)
}

func fmtErrors(s Summary) string {
	if s.Requests == 0 {
		return "-"
	}
	return fmt.Sprintf("%d (%.2f%%)", s.Errors, s.ErrorRate*100)
}

func fmtCodes(codes map[string]int) string {
	var parts []string
	for _, k := range sortedKeys(codes) {
		parts = append(parts, fmt.Sprintf("%s×%d", k, codes[k]))
	}
	return strings.Join(parts, " ")
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

func writeJSON(path string, r *Results) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
