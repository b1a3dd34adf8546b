package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// printResearch writes the research scenario's figures: one row per tab
// count, where the CPU went, each research's time, every failed check and
// the verdict.
func printResearch(w io.Writer, r *ResearchResult) {
	fmt.Fprintf(w, "%d-page JavaScript-rendered test site: each page's script waits %s, then fetches its content from an API that answers after %s.\n",
		r.Pages, time.Duration(r.RenderDelayMS)*time.Millisecond, time.Duration(r.PageDelayMS)*time.Millisecond)
	fmt.Fprintf(w, "%d researches per tab count, one at a time, each as a new user with max_age 0s (every page rendered afresh).\n", r.Iterations)
	if r.DomainRate == 0 {
		fmt.Fprintln(w, "Per-domain rate limit OFF (GROUNDWORK_RESEARCH_DOMAIN_RATE=0): at the default 1 request/s per domain")
		fmt.Fprintln(w, "every tab count would be capped near 1 page/s and the tabs' effect would not show.")
	} else {
		fmt.Fprintf(w, "Per-domain rate limit %g requests/s (GROUNDWORK_RESEARCH_DOMAIN_RATE).\n", r.DomainRate)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "tabs\truns ok\tmedian\tmin\tmax\tpages/s\tpage p50\tpage max\tChrome peak RSS\tPSS\tprocs\tworker RSS")
	for _, t := range r.Tabs {
		fmt.Fprintf(tw, "%d\t%d/%d\t%.2fs\t%.2fs\t%.2fs\t%.2f\t%dms\t%dms\t%.0f MiB\t%.0f MiB\t%d\t%.0f MiB\n",
			t.Tabs, t.Succeeded, len(t.Runs), t.MedianS, t.MinS, t.MaxS, t.PagesPerS, t.PageP50MS, t.PageMaxMS,
			t.ChromeRSS, t.ChromePSS, t.ChromeProc, t.WorkerRSS)
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "(page = fetch_ms, one page's time in its tab; RSS sums count shared pages once per process, PSS splits them)")
	fmt.Fprintln(w, "\nAgainst the politeness floor (medians; floor = domain requests ÷ rate; summary = first poll that saw it summarising → succeeded):")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "tabs\tdomain requests\tsummary\tbefore summary\tfloor\tratio\tload1 at start")
	for _, t := range r.Tabs {
		floor, ratio := "-", "-"
		if r.DomainRate > 0 {
			floor = fmt.Sprintf("%.2fs", t.Requests/r.DomainRate)
			ratio = fmt.Sprintf("×%.2f", t.FloorRatio)
		}
		fmt.Fprintf(tw, "%d\t%.0f\t%.2fs\t%.2fs\t%s\t%s\t%.2f\n", t.Tabs, t.Requests, t.SummaryS, t.MedianS-t.SummaryS, floor, ratio, t.Load1)
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "\nCPU while the researches ran, in cores kept busy on average:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "tabs\tChrome\tworker+API\tthis tool\toutside the benchmark\tmachine busy")
	for _, t := range r.Tabs {
		fmt.Fprintf(tw, "%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.0f%% of %d CPUs\n", t.Tabs, t.ChromeCores, t.WorkerCores, t.BenchCores, t.OtherCores, t.HostBusy*100, r.CPUs)
	}
	_ = tw.Flush()
	for _, t := range r.Tabs {
		if t.OtherCores >= 0.2 {
			fmt.Fprintf(w, "WARNING: at tabs=%d, other work on this machine used %.2f cores: the figures are skewed; rerun on an idle machine\n", t.Tabs, t.OtherCores)
		}
	}
	fmt.Fprintln(w)
	for _, t := range r.Tabs {
		var s []string
		for _, run := range t.Runs {
			s = append(s, fmt.Sprintf("%.2fs", run.Seconds))
		}
		fmt.Fprintf(w, "  tabs=%d, each research: %s\n", t.Tabs, strings.Join(s, " "))
	}
	failed := false
	for _, t := range r.Tabs {
		for _, run := range t.Runs {
			for _, f := range run.Failures {
				if !failed {
					fmt.Fprintln(w, "\nFAILED CHECKS:")
					failed = true
				}
				fmt.Fprintf(w, "  tabs=%d, run %s: %s\n", t.Tabs, run.RunID, f)
			}
		}
	}
	fmt.Fprintln(w)
	verdict := "FAIL"
	if r.Pass {
		verdict = "PASS"
	}
	switch {
	case r.DomainRate > 0:
		fmt.Fprintf(w, "against the rate's floor — %s (%s)\n", verdict, r.Criteria)
	case r.Speedup > 0:
		fmt.Fprintf(w, "speed-up, 1-tab median / %d-tab median: ×%.2f — %s (%s)\n", researchBarTabs, r.Speedup, verdict, r.Criteria)
	default:
		fmt.Fprintf(w, "no speed-up figure — %s (%s)\n", verdict, r.Criteria)
	}
	if r.Note != "" {
		fmt.Fprintf(w, "note: %s\n", r.Note)
	}
}
