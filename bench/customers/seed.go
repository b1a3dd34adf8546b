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

	"golang.org/x/sync/errgroup"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/bench/internal/phase"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/internal/config"
)

// apiSeedClients is how many requests seeding sends through the API at once.
const apiSeedClients = 8

// seed builds the workspace: customers, the assessment definition and
// milestones through the API, some manual milestones completed, the
// events straight into Postgres, and some assessments through the API.
func (b *bench) seed(ctx context.Context) error {
	s := &b.rep.Seed
	b.ds = newDataset(rand.New(rand.NewPCG(b.o.seed, 1)), b.o.customers, time.Now().UTC())

	logf("creating %d customers through POST /v1/customers…", len(b.ds.customers))
	start := time.Now()
	if err := b.createCustomers(ctx); err != nil {
		return err
	}
	s.Customers, s.CustomersSeconds = len(b.ds.customers), phase.Secs(time.Since(start))
	for _, c := range b.ds.customers {
		s.Stages[c.Stage]++
		if c.Stalled {
			s.Stalled++
		}
	}

	b.definition = maturityDefinition()
	if err := b.c.call(ctx, http.MethodPost, "/v1/assessment-definitions", b.definition, http.StatusCreated, nil); err != nil {
		return fmt.Errorf("publish the assessment definition: %w", err)
	}
	kickoff, err := b.createMilestones(ctx)
	if err != nil {
		return err
	}
	if s.ManualCompleted, err = b.completeKickoffs(ctx, kickoff); err != nil {
		return err
	}

	if !b.o.skipReads {
		// The AnalyticsRollup schedules of a fresh deployment run before
		// any event arrives: so does the bench, so that the check after
		// seeding is the same every time (see readBench).
		if err := b.rollup(ctx, "before the events"); err != nil {
			return err
		}
	}
	if b.o.events > 0 {
		if err := b.seedEvents(ctx); err != nil {
			return err
		}
	}
	if b.o.assessments > 0 {
		logf("seeding %d assessments through POST /v1/assessments (32 in flight)…", b.o.assessments)
		start := time.Now()
		outs := b.runAssessments(ctx, b.o.assessments, 32, 200*time.Millisecond, b.o.seed+100)
		s.AssessmentsSeconds = phase.Secs(time.Since(start))
		for _, o := range outs {
			if o.Status == "succeeded" {
				s.Assessments++
			} else {
				s.AssessmentsFailed++
				if len(s.AssessmentErrors) < 5 {
					s.AssessmentErrors = append(s.AssessmentErrors, o.Err)
				}
			}
		}
		logf("seeded %d assessments in %.1f s (%d failed)", s.Assessments, s.AssessmentsSeconds, s.AssessmentsFailed)
		if ctx.Err() != nil {
			return fmt.Errorf("seed assessments: %w", ctx.Err())
		}
	}
	if b.o.vacuum {
		// A year of events would have been vacuumed and analyzed by
		// autovacuum long before: measure that steady state, not the
		// minute after a bulk load, when the planner has no statistics
		// and no page is all-visible for index-only scans.
		logf("VACUUM (ANALYZE)…")
		start := time.Now()
		if _, err := b.pool.Exec(ctx, "VACUUM (ANALYZE)"); err != nil {
			return fmt.Errorf("vacuum after seeding: %w", err)
		}
		s.VacuumSeconds = phase.Secs(time.Since(start))
	}
	return nil
}

// createCustomers posts every customer and keeps its ID.
func (b *bench) createCustomers(ctx context.Context) error {
	var next atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	for range apiSeedClients {
		g.Go(func() error {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(b.ds.customers) || gctx.Err() != nil {
					return nil
				}
				c := b.ds.customers[i]
				var out struct {
					ID string `json:"id"`
				}
				if err := b.c.call(gctx, http.MethodPost, "/v1/customers", c.body(), http.StatusCreated, &out); err != nil {
					return fmt.Errorf("create customer %d: %w", i, err)
				}
				c.ID = out.ID
			}
		})
	}
	return g.Wait()
}

// createMilestones defines the workspace's onboarding plan and returns the
// manual kickoff milestone's ID.
func (b *bench) createMilestones(ctx context.Context) (string, error) {
	due := func(d int) *int { return &d }
	score := 65.0
	specs := []groundwork.MilestoneSpec{
		{Name: "Kickoff call held", Position: 0, DueDays: due(14), Rule: groundwork.MilestoneRule{Kind: groundwork.RuleManual}},
		{Name: "Five features used", Position: 1, DueDays: due(30), Rule: groundwork.MilestoneRule{Kind: groundwork.RuleEvents, EventType: "feature_used", MinEvents: 5}},
		{Name: "First report exported", Position: 2, DueDays: due(45), Rule: groundwork.MilestoneRule{Kind: groundwork.RuleEvents, EventType: "report_exported", MinEvents: 1}},
		{Name: "Three meetings held", Position: 3, DueDays: due(60), Rule: groundwork.MilestoneRule{Kind: groundwork.RuleEvents, EventType: "meeting", MinEvents: 3}},
		{Name: "Team invited", Position: 4, DueDays: due(60), Rule: groundwork.MilestoneRule{Kind: groundwork.RuleEvents, EventType: "invite_sent", MinEvents: 5}},
		{Name: "Established maturity", Position: 5, DueDays: due(180), Rule: groundwork.MilestoneRule{Kind: groundwork.RuleAssessment, Definition: definitionSlug, MinScore: &score}},
	}
	var kickoff string
	for _, m := range specs {
		var out struct {
			ID string `json:"id"`
		}
		if err := b.c.call(ctx, http.MethodPost, "/v1/milestones", m, http.StatusCreated, &out); err != nil {
			return "", fmt.Errorf("create milestone %q: %w", m.Name, err)
		}
		if m.Rule.Kind == groundwork.RuleManual {
			kickoff = out.ID
		}
	}
	b.rep.Seed.Milestones = len(specs)
	return kickoff, nil
}

// completeKickoffs completes the manual milestone, as a CSM would, for
// most customers older than a week.
func (b *bench) completeKickoffs(ctx context.Context, milestone string) (int, error) {
	r := rand.New(rand.NewPCG(b.o.seed, 3))
	var ids []string
	for _, c := range b.ds.customers {
		if b.ds.now.Sub(c.StartedAt) > 7*day && r.Float64() < 0.8 {
			ids = append(ids, c.ID)
		}
	}
	var next atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	for range apiSeedClients {
		g.Go(func() error {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(ids) || gctx.Err() != nil {
					return nil
				}
				path := "/v1/customers/" + url.PathEscape(ids[i]) + "/milestones/" + url.PathEscape(milestone) + "/complete"
				if err := b.c.call(gctx, http.MethodPost, path, nil, http.StatusOK, nil); err != nil {
					return fmt.Errorf("complete kickoff: %w", err)
				}
			}
		})
	}
	return len(ids), g.Wait()
}

// seedEvents gives each customer its share of the events, generated one
// customer after another in random order and cut into batches that
// --seed-workers goroutines store with db.IngestEvents, the API's own
// ingest path without HTTP.
func (b *bench) seedEvents(ctx context.Context) error {
	s := &b.rep.Seed
	r := rand.New(rand.NewPCG(b.o.seed, 2))
	b.ds.assignEvents(r, b.o.events)
	order := r.Perm(len(b.ds.customers))
	logf("seeding %d events with db.IngestEvents (batches of %d, %d at once)…", b.o.events, b.o.seedBatch, b.o.seedWorkers)

	batches := make(chan []groundwork.TrackEvent, b.o.seedWorkers)
	g, gctx := errgroup.WithContext(ctx)
	start := time.Now()
	done := b.timer.Start("seeding events")
	defer done()
	g.Go(func() error {
		defer close(batches)
		gen := newEventGen(rand.New(rand.NewPCG(b.o.seed, 4)))
		batch := make([]groundwork.TrackEvent, 0, b.o.seedBatch)
		n := 0
		for _, i := range order {
			c := b.ds.customers[i]
			from, to := c.window(b.ds.now)
			for range c.Events {
				n++
				batch = append(batch, gen.event(fmt.Sprintf("seed-%08d", n), c.ID, from, to))
				if len(batch) == b.o.seedBatch {
					select {
					case batches <- batch:
					case <-gctx.Done():
						return gctx.Err()
					}
					batch = make([]groundwork.TrackEvent, 0, b.o.seedBatch)
				}
			}
		}
		if len(batch) > 0 {
			select {
			case batches <- batch:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	var (
		stored, achieved atomic.Int64
		mu               sync.Mutex
		lastLog          = time.Now()
	)
	for range b.o.seedWorkers {
		g.Go(func() error {
			for batch := range batches {
				got, err := db.IngestEvents(gctx, b.pool, benchWorkspace, config.DefaultEventRetention, batch)
				if err != nil {
					return fmt.Errorf("seed events: %w", err)
				}
				total := stored.Add(got.Stored)
				achieved.Add(int64(len(got.Achieved)))
				mu.Lock()
				if time.Since(lastLog) > 10*time.Second {
					lastLog = time.Now()
					logf("  %d events stored (%.0f/s)", total, float64(total)/time.Since(start).Seconds())
				}
				mu.Unlock()
			}
			return nil
		})
	}
	err := g.Wait()
	took := time.Since(start)
	s.Events, s.EventsSeconds = stored.Load(), phase.Secs(took)
	s.EventsPerSecond = phase.Round1(float64(s.Events) / took.Seconds())
	s.MilestonesByEvents = achieved.Load()
	if err != nil {
		return err
	}
	if s.Events != int64(b.o.events) {
		return fmt.Errorf("seed events: stored %d of %d (duplicate IDs?)", s.Events, b.o.events)
	}
	logf("seeded %d events in %.1f s: %.0f events/s; %d milestones achieved by them", s.Events, s.EventsSeconds, s.EventsPerSecond, s.MilestonesByEvents)
	return b.seedFacts(ctx)
}

// seedFacts records what the seeded data looks like in Postgres: the
// events table's size and how the activity is spread over customers.
func (b *bench) seedFacts(ctx context.Context) error {
	s := &b.rep.Seed
	err := b.pool.QueryRow(ctx, `SELECT pg_total_relation_size('event_keys') + coalesce(sum(pg_total_relation_size(c.oid)), 0)
		FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass`).Scan(&s.EventsBytes)
	if err != nil {
		return fmt.Errorf("measure the events table: %w", err)
	}
	err = b.pool.QueryRow(ctx, `SELECT
			coalesce(percentile_disc(0.5) WITHIN GROUP (ORDER BY events), 0),
			coalesce(percentile_disc(0.99) WITHIN GROUP (ORDER BY events), 0),
			coalesce(max(events), 0),
			count(*) FILTER (WHERE last_activity_at < now() - interval '14 days')
		FROM customer_activity`).Scan(&s.EventsPerCustomerP50, &s.EventsPerCustomerP99, &s.EventsPerCustomerMax, &s.StalledInPostgres)
	if err != nil {
		return fmt.Errorf("measure the activity spread: %w", err)
	}
	return nil
}
