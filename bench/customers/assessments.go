package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/groundwork-dev/groundwork"
)

// assessmentDefinition is the definition the bench publishes.
type assessmentDefinition = groundwork.AssessmentDefinition

// definitionSlug names the bench's assessment definition.
const definitionSlug = "cs-maturity"

// maturityDefinition is a customer-success maturity questionnaire: four
// weighted categories, twelve questions (five-point scales and choices),
// four levels.
func maturityDefinition() assessmentDefinition {
	scale := func(key, cat, text string, w float64) groundwork.AssessmentQuestion {
		return groundwork.AssessmentQuestion{Key: key, Category: cat, Text: text, Weight: w, Scale: &groundwork.AnswerScale{Min: 1, Max: 5}}
	}
	choice := func(key, cat, text string, w float64, values ...string) groundwork.AssessmentQuestion {
		q := groundwork.AssessmentQuestion{Key: key, Category: cat, Text: text, Weight: w}
		for i, v := range values {
			q.Options = append(q.Options, groundwork.AnswerOption{Value: v, Score: float64(i) * 100 / float64(len(values)-1)})
		}
		return q
	}
	return assessmentDefinition{
		Slug: definitionSlug,
		Name: "Customer-success maturity",
		Categories: []groundwork.AssessmentCategory{
			{Key: "adoption", Name: "Product adoption", Weight: 3, Recommendation: "Run a feature workshop for the teams that log in least and set a weekly usage goal."},
			{Key: "value", Name: "Value realisation", Weight: 3, Recommendation: "Agree on two measurable outcomes with the sponsor and review them in the next QBR."},
			{Key: "relationship", Name: "Relationship", Weight: 2, Recommendation: "Find a second champion and meet the economic buyer before renewal."},
			{Key: "process", Name: "Process and data", Weight: 2, Recommendation: "Connect the CRM integration and clean up stale pipeline stages."},
		},
		Questions: []groundwork.AssessmentQuestion{
			scale("adopt-breadth", "adoption", "How many of the licensed teams use the product every week?", 2),
			scale("adopt-depth", "adoption", "How deeply do users rely on advanced features?", 1),
			choice("adopt-admin", "adoption", "Who administers the account?", 1, "nobody", "part_time", "dedicated_admin"),
			scale("value-goals", "value", "How clearly are the customer's goals written down?", 2),
			scale("value-roi", "value", "How well can the customer show a return on the investment?", 2),
			choice("value-reporting", "value", "How are results reported to leadership?", 1, "never", "ad_hoc", "quarterly", "monthly_dashboard"),
			scale("rel-champion", "relationship", "How strong is the internal champion?", 2),
			choice("rel-exec", "relationship", "Executive sponsor engagement?", 1, "none", "named", "engaged"),
			scale("rel-nps", "relationship", "How likely are they to recommend us (1–5)?", 1),
			scale("proc-crm", "process", "How complete is the CRM data?", 1),
			choice("proc-integration", "process", "Integrations connected?", 1, "none", "one", "several"),
			scale("proc-cadence", "process", "How regular is the operating cadence (pipeline reviews, forecasts)?", 1),
		},
		Levels: []groundwork.AssessmentLevel{
			{Name: "Starting", MinScore: 0}, {Name: "Developing", MinScore: 40}, {Name: "Established", MinScore: 65}, {Name: "Leading", MinScore: 85},
		},
	}
}

// answersFor draws valid answers around a customer's maturity, so scores
// spread as a real cohort's would.
func answersFor(r *rand.Rand, d assessmentDefinition, maturity float64) map[string]any {
	out := make(map[string]any, len(d.Questions))
	for _, q := range d.Questions {
		x := min(1, max(0, maturity+0.2*r.NormFloat64()))
		if q.Scale != nil {
			out[q.Key] = q.Scale.Min + int(math.Round(x*float64(q.Scale.Max-q.Scale.Min)))
			continue
		}
		out[q.Key] = q.Options[int(math.Round(x*float64(len(q.Options)-1)))].Value
	}
	return out
}

// assessOutcome is one assessment: its POST and its wait.
type assessOutcome struct {
	RunID string `json:"run_id,omitempty"`
	// Sent is when the POST went out.
	Sent time.Time `json:"sent"`
	// Post is the POST's own latency and status.
	Post       time.Duration `json:"post_ns"`
	PostStatus int           `json:"post_status"`
	// Done is from sending the POST to the poll answer that saw the run
	// closed; Status is that answer's status.
	Done   time.Duration `json:"done_ns"`
	Status string        `json:"status"`
	Polls  int           `json:"polls"`
	Err    string        `json:"error,omitempty"`
}

// maxRunWait is how long one assessment is waited for before it counts
// as not finished.
const maxRunWait = 10 * time.Minute

// runAssessments posts n assessments for random customers from
// concurrency clients, each posting, polling its run every poll until it
// closed, then posting the next. It returns every outcome, in no order.
func (b *bench) runAssessments(ctx context.Context, n, concurrency int, poll time.Duration, seed uint64) []assessOutcome {
	var (
		next int64
		mu   sync.Mutex
		outs = make([]assessOutcome, 0, n)
		wg   sync.WaitGroup
	)
	custs := b.ds.customers
	for w := range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(w)))
			for ctx.Err() == nil {
				if atomic.AddInt64(&next, 1) > int64(n) {
					return
				}
				c := custs[r.IntN(len(custs))]
				body, _ := json.Marshal(groundwork.AssessmentRequest{CustomerID: c.ID, Definition: definitionSlug, Answers: answersFor(r, b.definition, c.Maturity)})
				o := b.assessOnce(ctx, body, poll)
				mu.Lock()
				outs = append(outs, o)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return outs
}

// assessOnce posts one assessment and waits for its run to close.
func (b *bench) assessOnce(ctx context.Context, body []byte, poll time.Duration) assessOutcome {
	o := assessOutcome{Sent: time.Now()}
	a, err := b.c.send(ctx, http.MethodPost, "/v1/assessments", body)
	o.Post, o.PostStatus = a.took, a.status
	if err != nil {
		o.Err = err.Error()
		return o
	}
	var run runView
	if err := a.decode(http.MethodPost, "/v1/assessments", http.StatusAccepted, &run); err != nil {
		o.Err = err.Error()
		return o
	}
	o.RunID = run.ID
	var lastErr error
	for !run.closed() {
		if time.Since(o.Sent) > maxRunWait {
			o.Err = fmt.Sprintf("still %s after %s (last poll error: %v)", run.Status, maxRunWait, lastErr)
			o.Status = run.Status
			return o
		}
		select {
		case <-ctx.Done():
			o.Err = ctx.Err().Error()
			return o
		case <-time.After(poll):
		}
		o.Polls++
		r, err := b.c.getRun(ctx, run.ID)
		if err != nil {
			// Keep polling: one failed poll is reported, not fatal.
			lastErr = err
			continue
		}
		run = r
	}
	o.Done, o.Status = time.Since(o.Sent), run.Status
	if run.Status != "succeeded" {
		msg := run.Status
		if run.Error != nil {
			msg += ": " + run.Error.Type + ": " + run.Error.Message
		}
		o.Err = msg
	}
	return o
}

// serverTimes reads each run's created_at → closed_at from Postgres: the
// completion time without the poll interval's rounding up, on the same
// machine's clock.
func (b *bench) serverTimes(ctx context.Context, outs []assessOutcome) ([]time.Duration, error) {
	ids := make([]string, 0, len(outs))
	for _, o := range outs {
		if o.Status == "succeeded" {
			ids = append(ids, o.RunID)
		}
	}
	rows, err := b.pool.Query(ctx, `SELECT extract(epoch FROM closed_at - created_at)::float8 FROM runs WHERE id = ANY($1) AND closed_at IS NOT NULL`, ids)
	if err != nil {
		return nil, fmt.Errorf("read run times: %w", err)
	}
	defer rows.Close()
	var out []time.Duration
	for rows.Next() {
		var secs float64
		if err := rows.Scan(&secs); err != nil {
			return nil, fmt.Errorf("read run times: %w", err)
		}
		out = append(out, time.Duration(secs*float64(time.Second)))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read run times: %w", err)
	}
	if len(out) != len(ids) {
		return out, errors.New("some succeeded runs have no closed_at in Postgres")
	}
	return out, nil
}
