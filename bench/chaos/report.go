package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// windowStats are the requests of one time window.
type windowStats struct {
	Requests int `json:"requests"`
	// Errors counts attempts answered other than 2xx (or not at all,
	// "conn"), by status.
	Errors map[string]int `json:"errors"`
	// FailedAfterRetry are starts and tracking batches whose retry failed
	// too.
	FailedAfterRetry int `json:"failed_after_retry"`
}

// faultResult is one row of the table.
type faultResult struct {
	Fault  string  `json:"fault"`
	Detail string  `json:"detail,omitempty"`
	Error  string  `json:"error,omitempty"`
	At     float64 `json:"at_seconds"`
	Window float64 `json:"window_seconds"`
	windowStats
	// RunsStarted were created in the window; RunsInFlight were open when
	// the fault hit; RunsBad are those of both that did not succeed.
	RunsStarted  int `json:"runs_started"`
	RunsInFlight int `json:"runs_in_flight"`
	RunsBad      int `json:"runs_not_succeeded"`
	// HealedAfter: the process restarted, or Postgres started again.
	HealedAfter float64 `json:"healed_after_seconds,omitempty"`
	// APIRecovered: the first 2xx sent after the window's last error
	// (0: no error).
	APIRecovered float64 `json:"api_recovered_after_seconds"`
	// RunsRecovered: every run in flight at the fault, or started before
	// it healed, had closed.
	RunsRecovered float64 `json:"runs_recovered_after_seconds"`
	// RunP50 is the median duration of the runs started in the window.
	RunP50 float64 `json:"run_p50_seconds"`
}

// stats counts the attempts that ended (answered or failed) in [from, to).
// By their end, not their start: a request in flight on an API when it is
// SIGKILLed fails at the kill, and counted by its start it showed up as an
// unexplained 502 in the window of the fault before.
func stats(attempts []attempt, from, to time.Time) windowStats {
	w := windowStats{Errors: map[string]int{}}
	for _, a := range attempts {
		if a.Done.Before(from) || !a.Done.Before(to) {
			continue
		}
		w.Requests++
		if a.Status < 200 || a.Status >= 300 {
			w.Errors[statusName(a.Status)]++
			if a.Retry && (a.Status == 0 || a.Status >= 500) {
				w.FailedAfterRetry++
			}
		}
	}
	return w
}

func statusName(s int) string {
	if s == 0 {
		return "conn"
	}
	return fmt.Sprint(s)
}

// analyse computes a row per fault, plus the baseline before the first.
func analyse(l *load, faults []*fault, runs map[string]*runRow, loadStart time.Time) []faultResult {
	var out []faultResult
	type window struct {
		name, detail, err string
		at, healed, end   time.Time
	}
	var windows []window
	if len(faults) > 0 {
		windows = append(windows, window{"none (baseline)", "load before the first fault", "", loadStart, loadStart, faults[0].At})
	}
	for _, f := range faults {
		windows = append(windows, window{f.Name, f.Detail, f.Err, f.At, f.Healed, f.End})
	}
	for _, w := range windows {
		r := faultResult{Fault: w.name, Detail: w.detail, Error: w.err,
			At: secs(w.at.Sub(loadStart)), Window: secs(w.end.Sub(w.at))}
		r.windowStats = stats(l.attempts, w.at, w.end)
		if !w.healed.IsZero() && w.healed.After(w.at) {
			r.HealedAfter = secs(w.healed.Sub(w.at))
		}
		// API recovery: the first success sent after the last error.
		var lastErr time.Time
		for _, a := range l.attempts {
			if !a.Done.Before(w.at) && a.Done.Before(w.end) && (a.Status < 200 || a.Status >= 300) && a.Done.After(lastErr) {
				lastErr = a.Done
			}
		}
		if !lastErr.IsZero() {
			first := time.Time{}
			for _, a := range l.attempts {
				if a.At.After(lastErr) && a.Status >= 200 && a.Status < 300 && (first.IsZero() || a.Done.Before(first)) {
					first = a.Done
				}
			}
			if !first.IsZero() {
				r.APIRecovered = secs(first.Sub(w.at))
			} else {
				r.APIRecovered = -1
			}
		}
		healed := w.healed
		if healed.IsZero() || healed.Before(w.at) {
			healed = w.at
		}
		var durations []float64
		var lastClose time.Time
		unclosed := false
		for _, run := range runs {
			started := !run.Created.Before(w.at) && run.Created.Before(w.end)
			inFlight := run.Created.Before(w.at) && (run.Closed == nil || run.Closed.After(w.at))
			if started {
				r.RunsStarted++
				if run.Closed != nil {
					durations = append(durations, run.Closed.Sub(run.Created).Seconds())
				}
			}
			if inFlight {
				r.RunsInFlight++
			}
			if (started || inFlight) && run.Status != "succeeded" {
				r.RunsBad++
			}
			if w.name != "none (baseline)" && (inFlight || (started && run.Created.Before(healed.Add(time.Second)))) {
				if run.Closed == nil {
					unclosed = true
				} else if run.Closed.After(lastClose) {
					lastClose = *run.Closed
				}
			}
		}
		switch {
		case unclosed:
			r.RunsRecovered = -1
		case !lastClose.IsZero():
			r.RunsRecovered = secs(lastClose.Sub(w.at))
		}
		sort.Float64s(durations)
		if n := len(durations); n > 0 {
			r.RunP50 = float64(int(durations[n/2]*10)) / 10
		}
		out = append(out, r)
	}
	return out
}

func secs(d time.Duration) float64 {
	return float64(d.Round(100*time.Millisecond).Milliseconds()) / 1000
}

func errString(w windowStats) string {
	if len(w.Errors) == 0 {
		return "0"
	}
	keys := make([]string, 0, len(w.Errors))
	n := 0
	for k, v := range w.Errors {
		keys = append(keys, k)
		n += v
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s×%d", k, w.Errors[k])
	}
	s := fmt.Sprintf("%d (%s)", n, strings.Join(parts, " "))
	if w.FailedAfterRetry > 0 {
		s += fmt.Sprintf("; %d failed after retry", w.FailedAfterRetry)
	}
	return s
}

func recovered(r faultResult) string {
	api := "api: no errors"
	switch {
	case r.APIRecovered < 0:
		api = "api: never"
	case r.APIRecovered > 0:
		api = fmt.Sprintf("api %.1fs", r.APIRecovered)
	}
	runs := ""
	switch {
	case r.RunsRecovered < 0:
		runs = ", runs: some never closed"
	case r.RunsRecovered > 0:
		runs = fmt.Sprintf(", runs %.1fs", r.RunsRecovered)
	}
	healed := ""
	if r.HealedAfter > 0 {
		healed = fmt.Sprintf("healed %.1fs, ", r.HealedAfter)
	}
	return healed + api + runs
}

func printReport(w io.Writer, rep *Report) {
	rc := rep.Recon
	fmt.Fprintf(w, "\nchaos: %d users, %s; machine: %d cores, loadavg before %s, after %s, busy %.2f cores during the load\n\n",
		rep.Settings["users"], rep.Settings["gap"], rep.Host.Cores, rep.Host.LoadBefore, rep.Host.LoadAfter, rep.Host.BusyCores)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "fault\tat\trequests during\terrors\truns affected\ttime to recover\treconciliation")
	for i, r := range rep.Faults {
		recon := ""
		if i == 0 {
			recon = "see below"
		}
		if r.RunsBad > 0 {
			recon = fmt.Sprintf("%d runs not succeeded", r.RunsBad)
		} else if i > 0 {
			recon = "all runs succeeded"
		}
		name := r.Fault
		if r.Error != "" {
			name += " (FAILED: " + r.Error + ")"
		}
		fmt.Fprintf(tw, "%s\t%.0fs\t%d\t%s\t%d started (p50 %.1fs), %d in flight\t%s\t%s\n", name, r.At, r.Requests, errString(r.windowStats),
			r.RunsStarted, r.RunP50, r.RunsInFlight, recovered(r), recon)
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "\ntotal: %d requests, errors %s\n", rep.Totals.Requests, errString(rep.Totals))
	fmt.Fprintf(w, "\nreconciliation (settled %s after the load):\n", rc.SettledIn)
	kinds := make([]string, 0, len(rc.Runs))
	for k := range rc.Runs {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		fmt.Fprintf(w, "  runs %-11s %v\n", k, rc.Runs[k])
	}
	fmt.Fprintf(w, "  starts acknowledged %d; not acknowledged after the retry %d (of which %d have a run anyway)\n", rc.StartsAcked, rc.StartsUnknown, rc.RunsFromUnknown)
	fmt.Fprintf(w, "  exports: %d succeeded runs, %d without exactly one row, %d rows of other runs\n", rc.ExportRunsSucceeded, len(rc.ExportRowsWrong), len(rc.ExportRowsNotOK))
	fmt.Fprintf(w, "  blobs under exports/: %d files, %d orphans, %d rows without file, %d .tmp files (swept by exports-cleanup after 24 h)\n",
		rc.BlobFiles, len(rc.BlobOrphans), len(rc.BlobMissing), rc.BlobTmpFiles)
	fmt.Fprintf(w, "  llm_calls: %d rows %v (%d unsettled); fake provider saw %d requests (%d injected faults: %v); %d canceled/interrupted rows never sent\n",
		rc.LLMCallsRows, rc.LLMCallsOutcomes, rc.LLMCallsOpen, rc.LLMFakeRequests, rc.LLMFakeFaults, rc.LLMInjected, rc.LLMCallsUnsent)
	fmt.Fprintf(w, "  events: %d acknowledged, %d unknown (no 2xx after retry), %d rows stored, %d distinct; %d acknowledged missing, %d never sent\n",
		rc.EventsAcked, rc.EventsUnknown, rc.EventsStored, rc.EventsDistinct, rc.EventsAckedLost, rc.EventsExtra)
	if wh := rc.Webhooks; wh != nil {
		fmt.Fprintf(w, "  webhooks: %d closed runs, %d without a message; outbox %v (pending settled within %s), %d attempts beyond the first\n",
			wh.RunsClosed, len(wh.RunsWithout), wh.Messages, wh.DeliverIn, wh.AttemptsRetried)
		fmt.Fprintf(w, "    receiver: %d requests, %d webhook-ids, %d redeliveries of a seen webhook-id, %d events under two ids, %d bad signatures, %d messages not received, %d unknown ids\n",
			wh.Requests, wh.UniqueIDs, wh.Redeliveries, len(wh.EventsTwice), wh.BadSignatures, len(wh.NotReceived), len(wh.Unknown))
	}
	fmt.Fprintf(w, "  screenshots under research/: %d files, %d orphans, %d rows without file\n", rc.ScreenshotFiles, len(rc.ScreenshotOrphans), len(rc.ScreenshotMissing))
	if r := rc.Research; r != nil {
		fmt.Fprintf(w, "  research: %d runs, %d succeeded, %d reports; %d pages (%d with a screenshot), failed %v; the test site served %d requests\n",
			r.Runs, r.Succeeded, r.Reports, r.Pages, r.Screenshots, r.PagesFailed, r.SiteRequests)
	}
	if a := rc.Airtable; a != nil {
		fmt.Fprintf(w, "  airtable: syncs %v (%d skipped while the previous was open), final %s; edits: %d in Airtable, %d in Postgres (%d refused while it was down)\n",
			a.Syncs, a.SyncsSkipped, a.FinalSync, a.ATEdits, a.PGEdits, a.PGEditErrors)
		fmt.Fprintf(w, "    writes to Airtable: %d audited (run, key) = %d distinct record writes at the fake (+%d re-sent unchanged by a retried attempt; %d in all); write requests by status %v; %d requests, %d rate-limited\n",
			a.AuditWrites, a.FakeDistinct, a.FakeResent, a.FakeWrites, a.WriteRequests, a.FakeRequests, a.Fake429)
		fmt.Fprintf(w, "    %d keys audited but not written, %d written but not audited; %d audited writes to Postgres\n", len(a.Lost), len(a.Unrecorded), a.AuditToPostgres)
		fmt.Fprintf(w, "    after the final sync: %d Airtable records, %d Postgres rows; %d keys twice, %d only in Airtable, %d only in Postgres, %d different\n",
			a.ATRecords, a.PGRows, len(a.DupKeys), len(a.OnlyAT), len(a.OnlyPG), len(a.Mismatched))
	}
	for _, r := range rc.NotSucceeded {
		closed := "open"
		if r.Closed != nil {
			closed = r.Closed.Format("15:04:05")
		}
		fmt.Fprintf(w, "  not succeeded: %s %s %s (created %s, closed %s) %s\n", r.ID, r.Kind, r.Status, r.Created.Format("15:04:05"), closed, truncate([]byte(r.Error), 300))
	}
	if len(rc.Problems) == 0 {
		fmt.Fprintln(w, "\nreconciliation: OK")
	} else {
		fmt.Fprintln(w, "\nreconciliation problems:")
		for _, p := range rc.Problems {
			fmt.Fprintln(w, "  - "+p)
		}
	}
	if rep.Nginx != nil {
		printNginx(w, rep.Nginx)
	}
	for _, s := range rep.Skipped {
		fmt.Fprintln(w, "skipped: "+s)
	}
	fmt.Fprintf(w, "wall time %.0fs\n", rep.Seconds)
}
