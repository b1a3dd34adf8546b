package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/activities"
	"github.com/groundwork-dev/groundwork/bench/internal/phase"
)

// Issue 14's read goal.
const goalProgressP95ms = 20.0

// readWarmup requests of each endpoint are sent, unmeasured, before its
// measured ones.
const readWarmup = 10

// rollupFigures is one AnalyticsRollup call.
type rollupFigures struct {
	When        string  `json:"when"`
	Granularity string  `json:"granularity"`
	From        string  `json:"from"`
	Through     string  `json:"through"`
	Rows        int64   `json:"rows"`
	Seconds     float64 `json:"seconds"`
}

// coverageCheck compares the events the overview counts over 90 days
// with the events table.
type coverageCheck struct {
	When           string `json:"when"`
	From           string `json:"from"`
	To             string `json:"to"`
	OverviewEvents int64  `json:"overview_events"`
	TableEvents    int64  `json:"table_events"`
	OK             bool   `json:"ok"`
}

// rollup runs the hourly and then the daily rollup once, in process, as
// the AnalyticsRollup schedules' activity would.
func (b *bench) rollup(ctx context.Context, when string) error {
	an := &activities.Analytics{Pool: b.pool}
	for _, g := range []string{groundwork.GranularityHour, groundwork.GranularityDay} {
		start := time.Now()
		res, err := an.AnalyticsRollup(ctx, groundwork.RollupInput{Granularity: g})
		if err != nil {
			return fmt.Errorf("%s rollup (%s): %w", g, when, err)
		}
		f := rollupFigures{When: when, Granularity: g, From: res.From, Through: res.Through, Rows: res.Rows, Seconds: phase.Secs(time.Since(start))}
		b.rep.Rollups = append(b.rep.Rollups, f)
		logf("%s rollup (%s): %d rows for [%s, %s) in %.2f s", g, when, f.Rows, f.From, f.Through, f.Seconds)
	}
	return nil
}

// coverage asks the overview for the last 90 days by week and counts the
// same range in the events table.
func (b *bench) coverage(ctx context.Context, when string) (coverageCheck, error) {
	now := time.Now().UTC()
	var ov struct {
		From   time.Time `json:"from"`
		To     time.Time `json:"to"`
		Totals struct {
			Events int64 `json:"events"`
		} `json:"totals"`
	}
	if err := b.c.call(ctx, http.MethodGet, overviewPath("week", now.Add(-90*day), now), nil, http.StatusOK, &ov); err != nil {
		return coverageCheck{}, fmt.Errorf("coverage check: %w", err)
	}
	c := coverageCheck{When: when, From: ov.From.Format(time.RFC3339), To: ov.To.Format(time.RFC3339), OverviewEvents: ov.Totals.Events}
	err := b.pool.QueryRow(ctx, `SELECT count(*) FROM events WHERE workspace_id = $1 AND occurred_at >= $2 AND occurred_at < $3`,
		benchWorkspace, ov.From, ov.To).Scan(&c.TableEvents)
	if err != nil {
		return c, fmt.Errorf("coverage check: count events: %w", err)
	}
	c.OK = c.OverviewEvents == c.TableEvents
	b.rep.Coverage = append(b.rep.Coverage, c)
	logf("coverage (%s): the overview counts %d events in [%s, %s), the table holds %d", when, c.OverviewEvents, c.From, c.To, c.TableEvents)
	return c, nil
}

// readBench brings the rollups up to date, checks the overview against the
// events table, then measures the read endpoints one after the other.
func (b *bench) readBench(ctx context.Context) error {
	// What the schedules would do next after the seeding: a rollup from
	// their watermark, which the rollup before the events put at the hour
	// they were seeded in.
	if err := b.rollup(ctx, "after seeding, from the watermark"); err != nil {
		return err
	}
	if _, err := b.coverage(ctx, "incremental rollup after seeding"); err != nil {
		return err
	}
	// A backfill needs the rollups recomputed from the retention's start:
	// forget the watermarks, then roll up as on a fresh deployment.
	if _, err := b.pool.Exec(ctx, `DELETE FROM analytics_watermarks`); err != nil {
		return fmt.Errorf("reset the rollup watermarks: %w", err)
	}
	if err := b.rollup(ctx, "full, watermarks reset"); err != nil {
		return err
	}
	c, err := b.coverage(ctx, "full rollup")
	if err != nil {
		return err
	}
	b.rep.check("overview (week, 90 days) counts every event of the table after a full rollup", c.OK,
		fmt.Sprintf("%d of %d", c.OverviewEvents, c.TableEvents))

	custs := b.ds.customers
	customer := func(r *rand.Rand) string { return url.PathEscape(custs[r.IntN(len(custs))].ID) }
	endpoints := []struct {
		name string
		path func(r *rand.Rand) string
	}{
		{"GET /v1/customers/{id}/progress", func(r *rand.Rand) string { return "/v1/customers/" + customer(r) + "/progress" }},
		{"GET /v1/customers/{id}/insights", func(r *rand.Rand) string { return "/v1/customers/" + customer(r) + "/insights" }},
		{"GET /v1/analytics/overview day, 30 days", func(*rand.Rand) string {
			now := time.Now().UTC()
			return overviewPath("day", now.Add(-30*day), now)
		}},
		{"GET /v1/analytics/overview week, 90 days", func(*rand.Rand) string {
			now := time.Now().UTC()
			return overviewPath("week", now.Add(-90*day), now)
		}},
		{"GET /v1/customers?limit=50", func(*rand.Rand) string { return "/v1/customers?limit=50" }},
	}
	logf("read benchmark: %d requests per endpoint from %d clients…", b.o.reads, b.o.readClients)
	for i, ep := range endpoints {
		b.timer.WaitQuiet(ctx, ep.name)
		done := b.timer.Start(ep.name)
		s, wall := b.readOne(ctx, ep.name, ep.path, uint64(10+i))
		done()
		sum := s.Summary(wall)
		b.rep.Reads = append(b.rep.Reads, sum)
		logf("  %s: p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, %d errors", ep.name, sum.P50ms, sum.P95ms, sum.P99ms, sum.Errors)
		if i == 0 {
			b.rep.goal("reads: p95 of GET /v1/customers/{id}/progress at "+fmt.Sprint(b.rep.Seed.Events)+" events",
				fmt.Sprintf("< %.0f ms", goalProgressP95ms), phase.FmtMs(sum.P95ms), sum.P95ms < goalProgressP95ms && sum.Errors == 0)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("read benchmark: %w", ctx.Err())
		}
	}
	return nil
}

// readOne sends readWarmup unmeasured requests, then --reads measured
// ones from --read-clients clients back to back.
func (b *bench) readOne(ctx context.Context, name string, path func(*rand.Rand) string, stream uint64) (*phase.Sample, time.Duration) {
	s := phase.NewSample(name)
	r := rand.New(rand.NewPCG(b.o.seed, stream))
	for range readWarmup {
		_, _ = b.c.send(ctx, http.MethodGet, path(r), nil)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := range b.o.readClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(b.o.seed+stream, uint64(w)))
			for ctx.Err() == nil && next.Add(1) <= int64(b.o.reads) {
				a, err := b.c.send(ctx, http.MethodGet, path(r), nil)
				switch {
				case err != nil:
					s.Add(a.took, 0, false, err.Error())
				case a.status != http.StatusOK:
					s.Add(a.took, a.status, false, fmt.Sprintf("%d %.200s", a.status, a.body))
				default:
					s.Add(a.took, a.status, true, "")
				}
			}
		}()
	}
	wg.Wait()
	return s, time.Since(start)
}

// overviewPath is the overview's URL for [from, to) in granularity g.
func overviewPath(g string, from, to time.Time) string {
	q := url.Values{"granularity": {g}, "from": {from.Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}}
	return "/v1/analytics/overview?" + q.Encode()
}
