package main

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/groundwork-dev/groundwork/internal/testkit/airtablefake"
)

// syncFigures are one sync's measurements.
type syncFigures struct {
	Name   string `json:"name"`
	RunID  string `json:"run_id"`
	DryRun bool   `json:"dry_run"`
	Status string `json:"status"`
	// Failure says why a run did not succeed; empty when it did.
	Failure string `json:"failure,omitempty"`
	// From the run's result.
	ScannedAirtable int            `json:"scanned_airtable"`
	ScannedPostgres int            `json:"scanned_postgres"`
	Applied         int            `json:"applied"`
	Failed          int            `json:"failed"`
	Counts          map[string]int `json:"counts"`
	// Planned is the decisions the plan stored (the run's progress total).
	Planned int `json:"planned"`
	// From the fake and the classifying proxy.
	Requests         int            `json:"requests"`
	ByKind           map[string]int `json:"by_kind"`
	RateLimited      int            `json:"rate_limited"`
	MaxPerWindowBase int            `json:"max_per_window_base"`
	MaxWriteBatch    int            `json:"max_write_batch"`
	// MaxPerWindowSent is MaxPerWindowBase by the times the requests
	// reached the bench's proxy, one hop before the fake: a window over
	// the limit here too means the worker sent them that close.
	MaxPerWindowSent int `json:"max_per_window_sent"`
	// WallSeconds is POST to the poll that saw the run closed.
	WallSeconds float64 `json:"wall_seconds"`
	// FloorSeconds is requests ÷ the per-base rate.
	FloorSeconds float64   `json:"floor_seconds"`
	Ratio        float64   `json:"ratio"`
	Within       bool      `json:"within"`
	Time         timeSplit `json:"time_split"`
	// Activities are the sync's activities from its workflow history;
	// OutsideSeconds is the wall time none of them ran or waited in a
	// task queue: workflow tasks, local activities, the API and polling.
	Activities []activityTime `json:"activities"`
	// Breaches describe the requests that started a lockout: the spacing
	// of the arrivals that filled the window before them.
	Breaches       []string `json:"breaches,omitempty"`
	OutsideSeconds float64  `json:"outside_activities_seconds"`
}

// timeSplit divides a sync's wall time by what the request log shows:
// before the first Airtable request, the spacing the limiter imposes, the
// part of each gap between requests beyond that spacing (by the kinds of
// requests around it), and after the last request.
type timeSplit struct {
	// LeadSeconds is from the POST to the first Airtable request: the API,
	// the workflow's start and its first activity.
	LeadSeconds float64 `json:"lead_seconds"`
	// PacedSeconds is the part of the gaps the rate limit explains: at
	// most 1/rate per gap.
	PacedSeconds float64 `json:"paced_seconds"`
	// PacingSlackSeconds is the excess of gaps under 2/rate: the limiter's
	// own overhead (its Postgres round trips, timer granularity).
	PacingSlackSeconds float64 `json:"pacing_slack_seconds"`
	// WorkSeconds is the excess of gaps of 2/rate or more, by the kinds of
	// the requests around them ("list→list", "list→meta", …): work done
	// between two requests that the limiter did not ask for.
	WorkSeconds map[string]float64 `json:"work_seconds"`
	// TailSeconds is from the last request to the run seen closed.
	TailSeconds float64 `json:"tail_seconds"`
	// MedianGapMs is the median gap between consecutive requests.
	MedianGapMs float64 `json:"median_gap_ms"`
}

// measure fills a sync's figures from its run, the fake's counters and the
// proxy's log of its requests.
func measure(name string, r runView, took time.Duration, start time.Time, st airtablefake.Stats, reqs []proxied, rate int, maxRatio float64) syncFigures {
	f := syncFigures{
		Name: name, RunID: r.ID, Status: r.Status, Counts: map[string]int{}, ByKind: map[string]int{},
		Requests: st.Requests, RateLimited: st.RateLimited, MaxPerWindowBase: st.MaxPerWindowBase, MaxWriteBatch: st.MaxWriteBatch,
		WallSeconds: took.Seconds(),
	}
	f.DryRun, _ = r.Result["dry_run"].(bool)
	f.ScannedAirtable = intOf(r.Result["scanned_airtable"])
	f.ScannedPostgres = intOf(r.Result["scanned_postgres"])
	f.Applied, f.Failed = intOf(r.Result["applied"]), intOf(r.Result["failed"])
	f.Planned = r.Progress.Total
	if c, ok := r.Result["counts"].(map[string]any); ok {
		for k, v := range c {
			f.Counts[k] = intOf(v)
		}
	}
	for _, q := range reqs {
		f.ByKind[q.Kind]++
	}
	f.MaxPerWindowSent = maxPerSecond(reqs)
	f.FloorSeconds = float64(f.Requests) / float64(rate)
	if f.FloorSeconds > 0 {
		f.Ratio = f.WallSeconds / f.FloorSeconds
	}
	f.Within = f.Ratio <= maxRatio
	f.Time = split(reqs, start, start.Add(took), rate)
	return f
}

func split(reqs []proxied, start, end time.Time, rate int) timeSplit {
	t := timeSplit{WorkSeconds: map[string]float64{}}
	if len(reqs) == 0 {
		t.LeadSeconds = end.Sub(start).Seconds()
		return t
	}
	reqs = slices.SortedFunc(slices.Values(reqs), func(a, b proxied) int { return a.At.Compare(b.At) })
	ideal := time.Second / time.Duration(rate)
	t.LeadSeconds = reqs[0].At.Sub(start).Seconds()
	t.TailSeconds = end.Sub(reqs[len(reqs)-1].At).Seconds()
	var gaps []time.Duration
	for i := 1; i < len(reqs); i++ {
		g := reqs[i].At.Sub(reqs[i-1].At)
		gaps = append(gaps, g)
		t.PacedSeconds += min(g, ideal).Seconds()
		if g <= ideal {
			continue
		}
		excess := (g - ideal).Seconds()
		if g < 2*ideal {
			t.PacingSlackSeconds += excess
		} else {
			t.WorkSeconds[reqs[i-1].Kind+"→"+reqs[i].Kind] += excess
		}
	}
	if len(gaps) > 0 {
		slices.Sort(gaps)
		t.MedianGapMs = float64(gaps[len(gaps)/2]) / float64(time.Millisecond)
	}
	return t
}

func intOf(v any) int {
	switch x := v.(type) {
	case float64:
		return int(x)
	case int:
		return x
	}
	return 0
}

// workString lists the largest work items, for the report.
func (t timeSplit) workString() string {
	type kv struct {
		k string
		v float64
	}
	var all []kv
	for k, v := range t.WorkSeconds {
		all = append(all, kv{k, v})
	}
	slices.SortFunc(all, func(a, b kv) int {
		switch {
		case a.v > b.v:
			return -1
		case a.v < b.v:
			return 1
		}
		return 0
	})
	s := ""
	for i, x := range all {
		if i == 4 {
			break
		}
		if s != "" {
			s += ", "
		}
		s += fmt.Sprintf("%s %.1fs", x.k, x.v)
	}
	if s == "" {
		return "—"
	}
	return s
}

// breaches finds the 429s that started a lockout (the request before was
// admitted) and describes the window the fake counted: the rate arrivals
// before it and their gaps, which show how the spacing the limiter meant
// was compressed on the way to Airtable.
func breaches(log []airtablefake.RequestLog, rate int) []string {
	var out []string
	for i, r := range log {
		if r.Status != http.StatusTooManyRequests || (i > 0 && log[i-1].Status == http.StatusTooManyRequests) || i < rate {
			continue
		}
		win := log[i-rate : i+1]
		gaps := make([]string, 0, rate)
		for j := 1; j < len(win); j++ {
			gaps = append(gaps, strconv.FormatInt(win[j].At.Sub(win[j-1].At).Milliseconds(), 10))
		}
		out = append(out, fmt.Sprintf("%s %s at +%d: %d arrivals in %d ms, gaps %s ms",
			r.Method, r.Path, i, rate+1, win[len(win)-1].At.Sub(win[0].At).Milliseconds(), strings.Join(gaps[max(0, len(gaps)-12):], " ")))
		if len(out) == maxExamples {
			break
		}
	}
	return out
}

// maxPerSecond is the most requests that reached the proxy within any
// half-open second.
func maxPerSecond(reqs []proxied) int {
	at := make([]time.Time, len(reqs))
	for i, q := range reqs {
		at[i] = q.At
	}
	slices.SortFunc(at, time.Time.Compare)
	best, lo := 0, 0
	for hi := range at {
		for at[hi].Sub(at[lo]) >= time.Second {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}
