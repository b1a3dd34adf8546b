package main

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/groundwork-dev/groundwork/bench/internal/phase"
)

// assessmentFigures are the assessment benchmark's results.
type assessmentFigures struct {
	Runs        int     `json:"runs"`
	Concurrency int     `json:"concurrency"`
	PollMs      float64 `json:"poll_ms"`
	Succeeded   int     `json:"succeeded"`
	Failed      int     `json:"failed"`
	// Seconds is from the first POST to the last run seen closed.
	Seconds    float64 `json:"seconds"`
	RunsPerSec float64 `json:"runs_per_second"`
	// Post is the POST's own latency; Completion is POST sent → the poll
	// that saw the run succeeded (rounded up by up to one poll interval);
	// Server is the run's created_at → closed_at in Postgres.
	Post       phase.Summary `json:"post"`
	Completion phase.Summary `json:"completion"`
	Server     phase.Summary `json:"server_completion"`
	Polls      int           `json:"polls"`
	Errors     []string      `json:"error_samples,omitempty"`
	// Slowest are the runs that took longest to be seen closed, for a
	// look at their workflow history (with --keep).
	Slowest []slowRun `json:"slowest"`
}

// slowRun is one of the slowest assessments.
type slowRun struct {
	RunID   string  `json:"run_id"`
	Seconds float64 `json:"seconds"`
	Status  string  `json:"status"`
}

// assessmentBench posts --assessments-bench assessments with at most
// --assessment-concurrency in flight and waits for each.
func (b *bench) assessmentBench(ctx context.Context) error {
	o := b.o
	logf("assessment benchmark: %d assessments, %d in flight, polling every %s…", o.assessBench, o.assessConcurrency, o.poll)
	b.timer.WaitQuiet(ctx, "assessments")
	cpuDone := b.timer.Start("assessments")
	start := time.Now()
	outs := b.runAssessments(ctx, o.assessBench, o.assessConcurrency, o.poll, o.seed+200)
	cpuDone()
	f := &assessmentFigures{Runs: len(outs), Concurrency: o.assessConcurrency, PollMs: float64(o.poll) / float64(time.Millisecond)}
	b.rep.Assessments = f
	post := phase.NewSample("POST /v1/assessments")
	var done []time.Duration
	var last time.Time
	for _, a := range outs {
		post.Add(a.Post, a.PostStatus, a.PostStatus == 202, a.Err)
		f.Polls += a.Polls
		if a.Status == "succeeded" {
			f.Succeeded++
			done = append(done, a.Done)
		} else {
			f.Failed++
			if len(f.Errors) < 5 {
				f.Errors = append(f.Errors, a.Err)
			}
		}
		if end := a.Sent.Add(a.Done); end.After(last) {
			last = end
		}
	}
	wall := last.Sub(start)
	if wall <= 0 {
		wall = time.Since(start)
	}
	slices.SortFunc(outs, func(a, b assessOutcome) int { return cmp.Compare(b.Done, a.Done) })
	for _, a := range outs[:min(5, len(outs))] {
		f.Slowest = append(f.Slowest, slowRun{RunID: a.RunID, Seconds: phase.Secs(a.Done), Status: a.Status})
	}
	f.Seconds = phase.Secs(wall)
	f.RunsPerSec = phase.Round1(float64(f.Succeeded) / wall.Seconds())
	f.Post = post.Summary(0)
	f.Completion = phase.DurationSummary("POST → seen succeeded", done, wall)
	server, err := b.serverTimes(ctx, outs)
	f.Server = phase.DurationSummary("created_at → closed_at", server, 0)
	logf("assessments: %d succeeded, %d failed in %.1f s = %.1f runs/s; POST → succeeded p50 %.0f ms, p95 %.0f ms",
		f.Succeeded, f.Failed, f.Seconds, f.RunsPerSec, f.Completion.P50ms, f.Completion.P95ms)
	b.rep.check("every assessment succeeded", f.Failed == 0, fmt.Sprintf("%d of %d", f.Succeeded, f.Runs))
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("assessment benchmark: %w", ctx.Err())
	}
	return nil
}
