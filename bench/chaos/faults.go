package main

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"time"

	"github.com/groundwork-dev/groundwork/internal/devstack"
)

// fault is one injected failure and what the tool saw of it.
type fault struct {
	Name string `json:"name"`
	// At is when it was injected; Healed when the tool undid it (a
	// Postgres started again) or the supervisor had restarted the killed
	// process; End is the end of its window (the next fault, or the end of
	// the load).
	At     time.Time `json:"at"`
	Healed time.Time `json:"healed"`
	End    time.Time `json:"window_end"`
	// Detail names the process and its pids.
	Detail string `json:"detail"`
	Err    string `json:"error,omitempty"`
}

// busyWait is what a worker kill waits for, so that the worker is likely
// mid-activity: want of something (LLM calls, Airtable writes) in flight,
// for at most max.
type busyWait struct {
	what string
	n    func() int64
	want int64
	max  time.Duration
}

// killProcess SIGKILLs the named process of cluster.json and waits (up to
// 60 s) for the supervisor to have started another one. With busy set
// (workers), it first waits for busy.want of busy.what to be in flight.
func killProcess(ctx context.Context, c *cluster, name string, busy *busyWait, f *fault) {
	var calls int64
	if busy != nil {
		for deadline := time.Now().Add(busy.max); time.Now().Before(deadline) && ctx.Err() == nil; {
			if calls = busy.n(); calls >= busy.want {
				break
			}
			sleepCtx(ctx, 10*time.Millisecond)
		}
	}
	p, err := c.Process(name)
	if err != nil {
		f.Err = err.Error()
		return
	}
	f.At = time.Now()
	if err := syscall.Kill(p.PID, syscall.SIGKILL); err != nil {
		f.Err = fmt.Sprintf("kill %s pid %d: %v", name, p.PID, err)
		return
	}
	f.Detail = fmt.Sprintf("%s pid %d SIGKILL", name, p.PID)
	if busy != nil {
		f.Detail += fmt.Sprintf(" with %d %s in flight", calls, busy.what)
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if q, err := c.Process(name); err == nil && q.PID != p.PID && q.PID > 0 {
			f.Healed = time.Now()
			f.Detail += fmt.Sprintf(", restarted as pid %d", q.PID)
			return
		}
		sleepCtx(ctx, 100*time.Millisecond)
	}
	f.Err = name + " not restarted within 60 s"
}

// restartTemporal stops the Temporal dev server as Ctrl-C does (SIGINT, a
// graceful stop), which dev-cluster's supervisor answers by starting it
// again on the same ports and DB file (.data/temporal.db), and waits until
// the new server answers health checks: that is when it healed.
func restartTemporal(ctx context.Context, c *cluster, f *fault) {
	p, err := c.Process("temporal")
	if err != nil {
		f.Err = err.Error()
		return
	}
	f.At = time.Now()
	if err := syscall.Kill(p.PID, syscall.SIGINT); err != nil {
		f.Err = fmt.Sprintf("stop temporal pid %d: %v", p.PID, err)
		return
	}
	f.Detail = fmt.Sprintf("temporal pid %d SIGINT (graceful stop)", p.PID)
	// The old server answers until it is gone: wait for its successor first.
	var restarted time.Time
	for deadline := time.Now().Add(60 * time.Second); restarted.IsZero(); {
		if q, err := c.Process("temporal"); err == nil && q.PID != p.PID && q.PID > 0 {
			restarted = time.Now()
			f.Detail += fmt.Sprintf(", restarted by the supervisor as pid %d after %v", q.PID, restarted.Sub(f.At).Round(100*time.Millisecond))
			break
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			f.Err = "temporal not restarted within 60 s"
			return
		}
		sleepCtx(ctx, 50*time.Millisecond)
	}
	if err := devstack.WaitTemporal(ctx, c.State.TemporalAddress, 60*time.Second, nil); err != nil {
		f.Err = err.Error()
		return
	}
	f.Healed = time.Now()
	f.Detail += fmt.Sprintf(", frontend healthy %v after the stop", f.Healed.Sub(f.At).Round(100*time.Millisecond))
}

// stopPostgres stops one of the cluster's Postgres servers (fast mode),
// keeps it down for down, then starts it again the same way.
func stopPostgres(ctx context.Context, c *cluster, name, dir string, down time.Duration, f *fault) {
	pg, err := newPGServer(name, dir)
	if err != nil {
		f.Err = err.Error()
		return
	}
	f.At = time.Now()
	f.Detail = fmt.Sprintf("pg_ctl stop -m fast -D %s; %v down; pg_ctl start", filepath.Base(dir), down)
	if err := pg.stopFast(ctx); err != nil {
		f.Err = err.Error()
		return
	}
	stopped := time.Since(f.At)
	sleepCtx(ctx, down)
	// Started even if ctx ended: never leave the cluster without it.
	sctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := pg.start(sctx); err != nil {
		f.Err = err.Error()
		return
	}
	f.Healed = time.Now()
	f.Detail += fmt.Sprintf(" (stop took %v, started again after %v)", stopped.Round(time.Millisecond), f.Healed.Sub(f.At).Round(time.Millisecond))
}

// runFaults injects the faults in order, gap apart, after lead; each
// fault's window ends when the next begins.
//
// worker-1 dies with two LLM calls in flight; worker-2 with an Airtable
// write of its own in flight when the load syncs (airtableWritesFrom
// non-nil: the writes a process has in flight), else like worker-1.
func runFaults(ctx context.Context, c *cluster, llmCalls func() int64, airtableWritesFrom func(pid int) int64, lead, gap, pgDown time.Duration) []*fault {
	llmBusy := &busyWait{what: "LLM calls", n: llmCalls, want: 2, max: 10 * time.Second}
	second := llmBusy
	if airtableWritesFrom != nil {
		// Syncs start every --sync-every, each on either worker: wait
		// (a few syncs at most) for one whose writes worker-2 sends.
		second = &busyWait{what: "Airtable write requests of its own", want: 1, max: 45 * time.Second, n: func() int64 {
			p, err := c.Process("worker-2")
			if err != nil {
				return 0
			}
			return airtableWritesFrom(p.PID)
		}}
	}
	steps := []struct {
		name string
		do   func(*fault)
	}{
		{"SIGKILL worker-1", func(f *fault) { killProcess(ctx, c, "worker-1", llmBusy, f) }},
		{"SIGKILL worker-2", func(f *fault) { killProcess(ctx, c, "worker-2", second, f) }},
		{"SIGKILL api-1", func(f *fault) { killProcess(ctx, c, "api-1", nil, f) }},
		{"restart Temporal dev server", func(f *fault) { restartTemporal(ctx, c, f) }},
		{"stop Postgres primary", func(f *fault) {
			stopPostgres(ctx, c, "primary", filepath.Join(c.Data, "pg"), pgDown, f)
		}},
		{"stop replica", func(f *fault) {
			stopPostgres(ctx, c, "replica", filepath.Join(c.Data, "cluster", "pg-replica"), pgDown, f)
		}},
	}
	var out []*fault
	if !sleepCtx(ctx, lead) {
		return out
	}
	for i, s := range steps {
		f := &fault{Name: s.name}
		logf("fault %d: %s…", i+1, s.name)
		s.do(f)
		if f.At.IsZero() {
			f.At = time.Now()
		}
		if f.Err != "" {
			logf("fault %d: %s", i+1, f.Err)
		} else {
			logf("fault %d: %s", i+1, f.Detail)
		}
		if len(out) > 0 {
			out[len(out)-1].End = f.At
		}
		out = append(out, f)
		if ctx.Err() != nil {
			break
		}
		// The gap counts from the injection (a Postgres outage is part of it).
		if rest := gap - time.Since(f.At); rest > 0 && !sleepCtx(ctx, rest) {
			break
		}
	}
	return out
}
