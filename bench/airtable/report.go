package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/groundwork-dev/groundwork/bench/internal/benchstack"
)

// report is everything one run of the bench found, as --json writes it.
type report struct {
	At       time.Time     `json:"at"`
	Settings settings      `json:"settings"`
	Edits    editSummary   `json:"edits"`
	Syncs    []syncFigures `json:"syncs"`
	Checks   []check       `json:"checks"`
	// Explains are the big scenario's key lookups under EXPLAIN ANALYZE.
	Explains []explained `json:"explains,omitempty"`
	Pass     bool        `json:"pass"`
}

// settings are the knobs the figures depend on.
type settings struct {
	// Commit is the source the stack was built from ("+dirty" when files
	// outside bench/ differ from it).
	Commit         string  `json:"commit"`
	Rate           int     `json:"rate_per_base"`
	RatePerToken   int     `json:"rate_per_token"`
	Lockout        string  `json:"lockout"`
	Records        int     `json:"records_per_side"`
	Overlap        int     `json:"overlap"`
	EditsPerSide   int     `json:"edits_per_side"`
	Conflicts      int     `json:"conflicts"`
	MaxRatio       float64 `json:"max_ratio"`
	PostgresFsync  bool    `json:"postgres_fsync"`
	PollIntervalMs int64   `json:"poll_interval_ms"`
	// PostgresRows > 0 is the big scenario's table size, Changes its
	// edited keys (Records is then the other records the fake holds).
	PostgresRows int `json:"postgres_rows,omitempty"`
	Changes      int `json:"changes,omitempty"`
}

// editSummary counts the edits made between sync 1 and sync 2.
type editSummary struct {
	Airtable           int `json:"airtable"`
	Postgres           int `json:"postgres"`
	ConflictKeys       int `json:"conflict_keys"`
	AirtableLater      int `json:"conflicts_airtable_later"`
	BlockedByDirection int `json:"blocked_by_direction"`
}

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "\nAirtable sync bench (%s): %d records per side (%d overlapping), %d edits per side (%d conflicting), %d req/s per base, %d per token, Postgres fsync %v\n\n",
		r.Settings.Commit, r.Settings.Records, r.Settings.Overlap, r.Settings.EditsPerSide, r.Settings.Conflicts, r.Settings.Rate, r.Settings.RatePerToken, r.Settings.PostgresFsync)
	if r.Settings.PostgresRows > 0 {
		fmt.Fprintf(w, "big scenario: %d Postgres rows (bigint key, in sync), %d changed keys (%d edited in Airtable, %d in Postgres)\n\n",
			r.Settings.PostgresRows, r.Settings.Changes, r.Edits.Airtable, r.Edits.Postgres)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "sync\tscanned AT\tscanned PG\tapplied\tfailed\tconflicts\tlist\tcreate\tupdate\tdelete\tmeta\t429s\twall s\tfloor s\tratio\t"+fmt.Sprintf("≤%.2g×", r.Settings.MaxRatio)+"\t")
	for _, s := range r.Syncs {
		verdict := "yes"
		if !s.Within {
			verdict = "NO"
		}
		if s.DryRun {
			verdict = "n/a"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%.2f\t%.2f\t%.2f\t%s\t\n",
			s.Name, s.ScannedAirtable, s.ScannedPostgres, s.Applied, s.Failed, s.Counts["conflicts"],
			s.ByKind[kindList], s.ByKind[kindCreate], s.ByKind[kindUpdate], s.ByKind[kindDelete], s.ByKind[kindMeta],
			s.RateLimited, s.WallSeconds, s.FloorSeconds, s.Ratio, verdict)
	}
	_ = tw.Flush()

	fmt.Fprintf(w, "\nwhere the wall time went (gaps between Airtable requests beyond 1/rate = %.0f ms):\n\n", 1000/float64(r.Settings.Rate))
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "sync\tlead s\tpaced s\tslack s\twork s\tlargest work gaps\ttail s\tmedian gap ms")
	for _, s := range r.Syncs {
		work := 0.0
		for _, v := range s.Time.WorkSeconds {
			work += v
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.2f\t%.2f\t%s\t%.2f\t%.1f\n", s.Name, s.Time.LeadSeconds, s.Time.PacedSeconds,
			s.Time.PacingSlackSeconds, work, s.Time.workString(), s.Time.TailSeconds, s.Time.MedianGapMs)
	}
	_ = tw.Flush()

	fmt.Fprintf(w, "\nactivities (from the workflow history; requests made while each ran, the time beyond requests ÷ rate):\n\n")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "sync\tactivity\truns\trun s\tqueued s\trequests\tfloor s\tover s")
	for _, s := range r.Syncs {
		for _, a := range s.Activities {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%.2f\t%.2f\t%d\t%.2f\t%.2f\n", s.Name, a.Name, a.Count, a.RunSeconds, a.QueueSeconds, a.Requests, a.FloorSeconds, a.OverSeconds)
		}
		fmt.Fprintf(tw, "%s\t(outside activities)\t\t%.2f\t\t\t\t\n", s.Name, s.OutsideSeconds)
	}
	_ = tw.Flush()

	fmt.Fprintf(w, "\nedits before sync 2: %d in Airtable, %d in Postgres, %d keys edited on both (%d with Airtable later), %d blocked by direction\n\n",
		r.Edits.Airtable, r.Edits.Postgres, r.Edits.ConflictKeys, r.Edits.AirtableLater, r.Edits.BlockedByDirection)
	for _, e := range r.Explains {
		fmt.Fprintf(w, "EXPLAIN ANALYZE: %s\n  %s\n", e.Name, strings.ReplaceAll(e.Plan, "\n", "\n  "))
	}
	if len(r.Explains) > 0 {
		fmt.Fprintln(w)
	}
	for _, c := range r.Checks {
		mark := "PASS"
		if !c.OK {
			mark = "FAIL"
			if !c.Bar {
				mark = "FAIL*"
			}
		}
		fmt.Fprintf(w, "%s  %s: %s\n", mark, c.Name, c.Detail)
		for _, e := range c.Examples {
			fmt.Fprintf(w, "        %s\n", e)
		}
	}
	fmt.Fprintln(w, "\n(FAIL* is not one of the issue's bars and leaves the exit status alone)")
	if r.Pass {
		fmt.Fprintln(w, "all bars met")
	} else {
		fmt.Fprintln(w, "A BAR FAILED")
	}
}

func (r *report) writeJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("marshal report: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// sourceVersion names the commit the stack is built from, so figures can
// be tied to the code they measured.
func sourceVersion() string {
	root, err := benchstack.RepoRoot()
	if err != nil {
		return "unknown"
	}
	out, err := exec.Command("git", "-C", root, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	v := strings.TrimSpace(string(out))
	dirty, err := exec.Command("git", "-C", root, "status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench").Output()
	if err == nil && len(bytes.TrimSpace(dirty)) > 0 {
		v += "+dirty"
	}
	return v
}
