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
	"github.com/groundwork-dev/groundwork/internal/config"
)

// report is everything one run found, as --json writes it.
type report struct {
	At       time.Time         `json:"at"`
	Settings settings          `json:"settings"`
	Inbound  []inboundFigures  `json:"inbound,omitempty"`
	Outbound []outboundFigures `json:"outbound,omitempty"`
	// Receiver is the outbound receiver's counters over every run.
	Receiver receiverFigures `json:"receiver"`
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
	// DispatchEvery is how often the worker reads the outbox: groundwork
	// dev has no setting for it, so it is the default.
	DispatchEvery string `json:"outbox_dispatch_every"`
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
		PostgresFsync: !o.pgFast, ServerEnv: o.stackEnv(), DispatchEvery: config.DefaultWebhookDispatchEvery.String(),
	}}
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
	if len(r.Outbound) > 0 {
		f := r.Receiver
		r.check("outbound: each webhook-id received once, correctly signed", f.Duplicates == 0 && f.BadSignatures == 0 && f.Unreadable == 0,
			fmt.Sprintf("%d requests, %d webhook-ids, %d duplicates, %d bad signatures, %d unreadable", f.Requests, f.UniqueIDs, f.Duplicates, f.BadSignatures, f.Unreadable))
	}
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
	fmt.Fprintf(w, "\nwebhooks bench — %s, commit %s, %d CPUs, Postgres fsync %s, outbox read every %s\n",
		r.At.Format(time.RFC3339), r.Settings.Commit, r.Settings.CPUs, fsync, r.Settings.DispatchEvery)
	fmt.Fprintf(w, "command: go run ./bench/webhooks %s\n", strings.Join(r.Settings.Args, " "))

	for _, f := range r.Inbound {
		fmt.Fprintf(w, "\ninbound, %s: %d signed messages to POST /hooks/{source_id}, each tracking one event\n", f.Mode, f.Messages)
		printSummaries(w, []phase.Summary{f.Accept})
		fmt.Fprintf(w, "  %d accepted in %.1f s = %.1f messages/s; %d duplicates\n", f.Accepted, f.SendSeconds, f.AcceptedPerSecond, f.Duplicates)
		fmt.Fprintf(w, "  acted on: %d done, %d failed, the last %.1f s after the first message was sent = %.1f messages/s\n",
			f.Done, f.Failed, f.ActedSeconds, f.ActedPerSecond)
		fmt.Fprintf(w, "  %d acted on by the last answer, the other %d in the %.1f s after it = %.1f messages/s\n",
			f.ActedAtLastAnswer, f.Done+f.Failed-f.ActedAtLastAnswer, f.AfterLastAnswer, f.DrainPerSecond)
		fmt.Fprintf(w, "  %d events stored; from Postgres's clock:\n", f.Events)
		printSummaries(w, []phase.Summary{f.StartLag, f.IngestLag})
		for _, m := range f.FailSamples {
			fmt.Fprintf(w, "  failed %s\n", m)
		}
		fmt.Fprintf(w, "  Postgres backends while sending: %s\n", fmtWaits(f.SendWaits))
		fmt.Fprintf(w, "  Postgres backends until acted on: %s\n", fmtWaits(f.DrainWaits))
	}
	for _, f := range r.Outbound {
		fmt.Fprintf(w, "\noutbound, %s: %d run.succeeded events through db.EnqueueEvent, one transaction each, to one endpoint\n", f.Mode, f.Events)
		fmt.Fprintf(w, "  enqueued in %.2f s; the first received after %.2f s, all %d after %.1f s from the first enqueue = %.1f deliveries/s\n",
			f.EnqueueSeconds, f.FirstSeconds, f.Delivered, f.Seconds, f.DeliveriesPerSecond)
		printSummaries(w, []phase.Summary{f.Enqueue, f.Lag, f.Dispatch, f.Deliver})
		fmt.Fprintf(w, "  dispatched at %.1f/s (first created → last dispatched); messages by status %v; %d attempted more than once; %d rate-slot writes = %.2f per delivery\n",
			f.DispatchPerSecond, f.Statuses, f.Retried, f.SlotWrites, f.SlotWritesPerDelivery)
		fmt.Fprintf(w, "  Postgres backends: %s\n", fmtWaits(f.Waits))
	}
	if len(r.Outbound) > 0 {
		f := r.Receiver
		fmt.Fprintf(w, "  receiver: %d requests, %d webhook-ids, %d duplicates, %d bad signatures\n", f.Requests, f.UniqueIDs, f.Duplicates, f.BadSignatures)
	}

	if len(r.CPU) > 0 {
		fmt.Fprintln(w, "\nCPU during each phase, in cores (2 means two cores busy all along):")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  phase\tseconds\tmachine busy\tthe benchmark\toutside the benchmark")
		for _, u := range r.CPU {
			warn := ""
			if u.Outside >= phase.BusyWarning {
				warn = "  ← other work on the machine: figures skewed"
			}
			fmt.Fprintf(tw, "  %s\t%.1f\t%.2f\t%.2f\t%.2f%s\n", u.Phase, u.Seconds, u.Busy, u.Ours, u.Outside, warn)
		}
		_ = tw.Flush()
	}

	if len(r.Goals) > 0 {
		fmt.Fprintln(w, "\ngoals:")
		for _, g := range r.Goals {
			fmt.Fprintf(w, "  %s  %s: %s (goal %s)\n", mark(g.OK, "MET ", "MISSED"), g.Name, g.Measured, g.Target)
		}
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

// fmtWaits lists what Postgres's backends were doing, as the mean number
// of backends per sample.
func fmtWaits(ws []pgWait) string {
	if len(ws) == 0 {
		return "(no sample)"
	}
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = fmt.Sprintf("%s %.2f", w.Event, w.Backends)
	}
	return strings.Join(parts, ", ") + " (mean backends per sample)"
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
