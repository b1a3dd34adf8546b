package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/groundwork-dev/groundwork/bench/internal/benchstack"
	"github.com/groundwork-dev/groundwork/bench/internal/phase"
)

// report is everything one run found, as --json writes it.
type report struct {
	At       time.Time       `json:"at"`
	Settings settings        `json:"settings"`
	Seed     seedFigures     `json:"seed"`
	Rollups  []rollupFigures `json:"rollups,omitempty"`
	Coverage []coverageCheck `json:"coverage,omitempty"`
	// Reads are the read endpoints' figures, in the order measured.
	Reads       []phase.Summary    `json:"reads,omitempty"`
	Ingest      []ingestFigures    `json:"ingest,omitempty"`
	Assessments *assessmentFigures `json:"assessments,omitempty"`
	// CPU is each measured phase's CPU use, to tell a quiet machine.
	CPU    []phase.CPUUse `json:"cpu"`
	Goals  []verdict      `json:"goals"`
	Checks []verdict      `json:"checks"`
	// AllGoalsMet is every goal met and every check passed.
	AllGoalsMet bool `json:"all_goals_met"`
}

// settings are what the figures depend on.
type settings struct {
	// Commit is the source the stack was built from ("+dirty" when files
	// outside bench/ differ from it).
	Commit        string   `json:"commit"`
	CPUs          int      `json:"cpus"`
	Go            string   `json:"go"`
	Args          []string `json:"args"`
	PostgresFsync bool     `json:"postgres_fsync"`
	ServerEnv     []string `json:"server_env"`
}

// seedFigures describe the seeded workspace and what seeding took.
type seedFigures struct {
	Customers        int            `json:"customers"`
	CustomersSeconds float64        `json:"customers_seconds"`
	Stages           map[string]int `json:"stages"`
	// Stalled counts the customers generated without activity in the
	// last 15 days or more (churned ones included).
	Stalled            int   `json:"stalled"`
	Milestones         int   `json:"milestones"`
	ManualCompleted    int   `json:"manual_completed"`
	MilestonesByEvents int64 `json:"milestones_achieved_by_events"`
	Events             int64 `json:"events"`
	// EventsSeconds and EventsPerSecond are the seeding's db.IngestEvents
	// calls (not HTTP).
	EventsSeconds   float64 `json:"events_seconds"`
	EventsPerSecond float64 `json:"events_per_second"`
	// EventsBytes is the events partitions and event_keys, indexes included.
	EventsBytes          int64    `json:"events_bytes"`
	EventsPerCustomerP50 int64    `json:"events_per_customer_p50"`
	EventsPerCustomerP99 int64    `json:"events_per_customer_p99"`
	EventsPerCustomerMax int64    `json:"events_per_customer_max"`
	StalledInPostgres    int64    `json:"stalled_in_postgres"`
	Assessments          int      `json:"assessments"`
	AssessmentsFailed    int      `json:"assessments_failed"`
	AssessmentsSeconds   float64  `json:"assessments_seconds"`
	AssessmentErrors     []string `json:"assessment_errors,omitempty"`
	// VacuumSeconds is the VACUUM (ANALYZE) after seeding (0: not run).
	VacuumSeconds float64 `json:"vacuum_seconds"`
}

// verdict is one goal of the issue or one correctness check.
type verdict struct {
	Name     string `json:"name"`
	Target   string `json:"target,omitempty"`
	Measured string `json:"measured"`
	OK       bool   `json:"ok"`
}

func newReport(o options, commit string) *report {
	return &report{At: time.Now().UTC(), Settings: settings{
		Commit: commit, CPUs: runtime.NumCPU(), Go: runtime.Version(), Args: os.Args[1:],
		PostgresFsync: !o.pgFast, ServerEnv: o.stackEnv(),
	}, Seed: seedFigures{Stages: map[string]int{}}}
}

// goal records one of the goals.
func (r *report) goal(name, target, measured string, ok bool) {
	r.Goals = append(r.Goals, verdict{Name: name, Target: target, Measured: measured, OK: ok})
}

// check records a correctness check of the bench.
func (r *report) check(name string, ok bool, measured string) {
	r.Checks = append(r.Checks, verdict{Name: name, Measured: measured, OK: ok})
}

func (r *report) finish() {
	r.AllGoalsMet = true
	for _, v := range append(append([]verdict{}, r.Goals...), r.Checks...) {
		r.AllGoalsMet = r.AllGoalsMet && v.OK
	}
}

func (r *report) print(w io.Writer) {
	fsync := "on"
	if !r.Settings.PostgresFsync {
		fsync = "off"
	}
	fmt.Fprintf(w, "\ncustomer-success bench — %s, commit %s, %d CPUs, Postgres fsync %s\n", r.At.Format(time.RFC3339), r.Settings.Commit, r.Settings.CPUs, fsync)
	fmt.Fprintf(w, "command: go run ./bench/customers %s\n\n", strings.Join(r.Settings.Args, " "))

	s := r.Seed
	fmt.Fprintln(w, "seeding (not measured against a goal):")
	fmt.Fprintf(w, "  customers    %d through POST /v1/customers in %.1f s; stages %s; %d stalled or churned\n", s.Customers, s.CustomersSeconds, stages(s.Stages), s.Stalled)
	fmt.Fprintf(w, "  milestones   %d defined; kickoff completed by hand for %d customers; %d achieved by events while seeding\n", s.Milestones, s.ManualCompleted, s.MilestonesByEvents)
	if s.Events > 0 {
		fmt.Fprintf(w, "  events       %d with db.IngestEvents in %.1f s = %.0f events/s; %.0f MiB on disk with keys and indexes\n", s.Events, s.EventsSeconds, s.EventsPerSecond, float64(s.EventsBytes)/(1<<20))
		fmt.Fprintf(w, "               per customer p50 %d, p99 %d, max %d; %d customers without an event for 14 days\n", s.EventsPerCustomerP50, s.EventsPerCustomerP99, s.EventsPerCustomerMax, s.StalledInPostgres)
	}
	if s.Assessments+s.AssessmentsFailed > 0 {
		fmt.Fprintf(w, "  assessments  %d through POST /v1/assessments in %.1f s (%d failed)\n", s.Assessments, s.AssessmentsSeconds, s.AssessmentsFailed)
		for _, e := range s.AssessmentErrors {
			fmt.Fprintf(w, "               error: %s\n", e)
		}
	}

	if s.VacuumSeconds > 0 {
		fmt.Fprintf(w, "  vacuum       VACUUM (ANALYZE) of the database in %.1f s\n", s.VacuumSeconds)
	}

	if len(r.Rollups) > 0 {
		fmt.Fprintln(w, "\nanalytics rollups (activities.Analytics.AnalyticsRollup, in process):")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  when\tgranularity\tfrom\tthrough\trows\tseconds")
		for _, f := range r.Rollups {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d\t%.2f\n", f.When, f.Granularity, f.From, f.Through, f.Rows, f.Seconds)
		}
		_ = tw.Flush()
	}
	if len(r.Coverage) > 0 {
		fmt.Fprintln(w, "\noverview (week, last 90 days) against the events table:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  after\toverview events\ttable events\tmissing")
		for _, c := range r.Coverage {
			fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\n", c.When, c.OverviewEvents, c.TableEvents, c.TableEvents-c.OverviewEvents)
		}
		_ = tw.Flush()
	}

	if len(r.Reads) > 0 {
		fmt.Fprintf(w, "\nreads at %d events (after %d unmeasured requests per endpoint):\n", s.Events, readWarmup)
		printSummaries(w, r.Reads)
	}
	for _, f := range r.Ingest {
		fmt.Fprintf(w, "\ningest, %s: %d batches of %d events (%.0f KiB each as JSON)\n", f.Mode, f.Batches, f.BatchSize, float64(f.BodyBytes)/1024)
		printSummaries(w, []phase.Summary{f.Latency})
		fmt.Fprintf(w, "  %d events stored in %.1f s = %.0f events/s; %d duplicates; %d milestones achieved\n", f.Stored, f.Seconds, f.EventsPerSecond, f.Duplicates, f.MilestonesAchieved)
	}
	if f := r.Assessments; f != nil {
		fmt.Fprintf(w, "\nassessments: %d posted, %d in flight, each polled every %.0f ms until closed\n", f.Runs, f.Concurrency, f.PollMs)
		printSummaries(w, []phase.Summary{f.Post, f.Completion, f.Server})
		fmt.Fprintf(w, "  %d succeeded, %d failed in %.1f s = %.1f runs/s; %d polls\n", f.Succeeded, f.Failed, f.Seconds, f.RunsPerSec, f.Polls)
		for _, e := range f.Errors {
			fmt.Fprintf(w, "  error: %s\n", e)
		}
		if len(f.Slowest) > 0 && f.Slowest[0].Seconds > 10 {
			for _, s := range f.Slowest {
				fmt.Fprintf(w, "  slow: %s %s after %.1f s\n", s.RunID, s.Status, s.Seconds)
			}
		}
	}

	if len(r.CPU) > 0 {
		fmt.Fprintln(w, "\nCPU during each phase, in cores (2 means two cores busy all along):")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  phase	seconds	machine busy	the benchmark	outside the benchmark")
		for _, u := range r.CPU {
			warn := ""
			if u.Outside >= phase.BusyWarning {
				warn = "  ← other work on the machine: figures skewed"
			}
			fmt.Fprintf(tw, "  %s	%.1f	%.2f	%.2f	%.2f%s\n", u.Phase, u.Seconds, u.Busy, u.Ours, u.Outside, warn)
		}
		_ = tw.Flush()
	}

	fmt.Fprintln(w, "\ngoals (issue 14):")
	for _, g := range r.Goals {
		fmt.Fprintf(w, "  %s  %s: %s (goal %s)\n", mark(g.OK, "MET ", "MISSED"), g.Name, g.Measured, g.Target)
	}
	if len(r.Checks) > 0 {
		fmt.Fprintln(w, "checks:")
		for _, c := range r.Checks {
			fmt.Fprintf(w, "  %s  %s: %s\n", mark(c.OK, "PASS", "FAIL"), c.Name, c.Measured)
		}
	}
}

func printSummaries(w io.Writer, ss []phase.Summary) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tn\tper s\tp50\tp95\tp99\tmax\terrors\t")
	for _, s := range ss {
		rate := ""
		if s.PerSec > 0 {
			rate = fmt.Sprintf("%.1f", s.PerSec)
		}
		fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%s\t%s\t%s\t%d\t\n", s.Name, s.Count, rate, phase.FmtMs(s.P50ms), phase.FmtMs(s.P95ms), phase.FmtMs(s.P99ms), phase.FmtMs(s.MaxMs), s.Errors)
	}
	_ = tw.Flush()
	for _, s := range ss {
		msgs := make([]string, 0, len(s.ErrorSamples))
		for m := range s.ErrorSamples {
			msgs = append(msgs, m)
		}
		sort.Strings(msgs)
		for _, m := range msgs {
			fmt.Fprintf(w, "  %s error ×%d: %s\n", s.Name, s.ErrorSamples[m], m)
		}
	}
}

func stages(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func mark(ok bool, yes, no string) string {
	if ok {
		return yes
	}
	return no
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
