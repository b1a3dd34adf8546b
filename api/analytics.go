package api

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/health"
)

// Figures are a workspace's analytics for one bucket or a whole range.
type Figures struct {
	ActiveCustomers    int64            `json:"active_customers" doc:"Distinct customers with an event (per UTC day for day and week buckets and totals)."`
	Events             int64            `json:"events"`
	EventsByType       map[string]int64 `json:"events_by_type"`
	MilestonesAchieved int64            `json:"milestones_achieved"`
	Assessments        int64            `json:"assessments"`
	AverageScore       *float64         `json:"average_score,omitempty" doc:"Mean overall score of the assessments; absent without any."`
	Runs               map[string]int64 `json:"runs" doc:"Runs started, by \"kind/status\"."`
	LLMTokens          int64            `json:"llm_tokens"`
	LLMCostUSD         float64          `json:"llm_cost_usd"`
	scoreSum           float64
}

// Bucket is the figures of one time bucket.
type Bucket struct {
	Start time.Time `json:"start"`
	Figures
}

// Overview is a workspace's analytics over a range.
type Overview struct {
	From        time.Time `json:"from"`
	To          time.Time `json:"to"`
	Granularity string    `json:"granularity"`
	Totals      Figures   `json:"totals"`
	Series      []Bucket  `json:"series" doc:"Buckets with any figure, oldest first."`
}

type overviewInput struct {
	From        time.Time `query:"from" doc:"Start (RFC 3339), rounded down to its bucket; default: 7 days (hour: 24 h) before to."`
	To          time.Time `query:"to" doc:"End (RFC 3339), rounded up to its bucket; default: now."`
	Granularity string    `query:"granularity" enum:"hour,day,week" default:"day"`
}

type overviewOutput struct {
	Body Overview
}

type timeseriesInput struct {
	ID          string    `path:"id" maxLength:"64" doc:"Customer ID."`
	From        time.Time `query:"from" doc:"Start (RFC 3339), rounded down to its bucket; default: 7 days (hour: 24 h) before to."`
	To          time.Time `query:"to" doc:"End (RFC 3339), rounded up to its bucket; default: now."`
	Granularity string    `query:"granularity" enum:"hour,day,week" default:"day"`
}

// CustomerBucket is one bucket of a customer's activity.
type CustomerBucket struct {
	Start        time.Time        `json:"start"`
	Events       int64            `json:"events"`
	Weighted     float64          `json:"weighted" doc:"Events weighted by type, as the engagement score weighs them."`
	EventsByType map[string]int64 `json:"events_by_type"`
}

type timeseriesOutput struct {
	Body struct {
		CustomerID  string           `json:"customer_id"`
		From        time.Time        `json:"from"`
		To          time.Time        `json:"to"`
		Granularity string           `json:"granularity"`
		Series      []CustomerBucket `json:"series"`
	}
}

// maxBuckets bounds one answer's buckets.
const maxBuckets = 1000

// analyticsRange rounds a range out to whole buckets and checks its size.
func (s *Server) analyticsRange(in overviewInput) (time.Time, time.Time, error) {
	g := in.Granularity
	if g == "" {
		g = "day"
	}
	to := in.To
	if to.IsZero() {
		to = s.d.Now()
	}
	from := in.From
	if from.IsZero() {
		from = to.AddDate(0, 0, -7)
		if g == groundwork.GranularityHour {
			from = to.Add(-24 * time.Hour)
		}
	}
	from = groundwork.BucketStart(from, g)
	if end := groundwork.BucketStart(to, g); end.Before(to) {
		to = bucketNext(end, g) // round up: the bucket holding to is included
	} else {
		to = end
	}
	if !to.After(from) {
		return from, to, problem(http.StatusUnprocessableEntity, groundwork.SlugValidation, "the range is empty",
			groundwork.FieldError{Field: "to", Message: "must be after from"})
	}
	n := 0
	for t := from; t.Before(to) && n <= maxBuckets; t = bucketNext(t, g) {
		n++
	}
	if n > maxBuckets {
		return from, to, problem(http.StatusUnprocessableEntity, groundwork.SlugValidation, "the range is too long",
			groundwork.FieldError{Field: "from", Message: fmt.Sprintf("at most %d %s buckets at once; use a coarser granularity", maxBuckets, g)})
	}
	return from, to, nil
}

func bucketNext(t time.Time, g string) time.Time {
	switch g {
	case groundwork.GranularityHour:
		return t.Add(time.Hour)
	case groundwork.GranularityWeek:
		return t.AddDate(0, 0, 7)
	default:
		return t.AddDate(0, 0, 1)
	}
}

// beforeAll stands for "no rollup yet": earlier than any fact.
var beforeAll = time.Unix(0, 0).UTC()

// overviewTiers splits the time line for AnalyticsSeries: daily rollups
// before t1, hourly ones in [t1, t2), raw facts from t2. Each tier stops a
// bucket short of its watermark (a day, an hour), so a fact committed just
// after a rollup ran, with a time just before its watermark (a late
// event, a transaction that started earlier), is read raw instead of
// missing until the next rollup.
func overviewTiers(marks []sqlc.AnalyticsWatermark, g string) (t1, t2 time.Time) {
	t1, t2 = beforeAll, beforeAll
	for _, m := range marks {
		switch {
		case m.Granularity == groundwork.GranularityDay && g != groundwork.GranularityHour:
			t1 = maxTime(t1, m.Through.AddDate(0, 0, -1))
		case m.Granularity == groundwork.GranularityHour:
			t2 = m.Through.Add(-time.Hour)
		}
	}
	return t1, maxTime(t1, t2)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func newFigures() Figures {
	return Figures{EventsByType: map[string]int64{}, Runs: map[string]int64{}}
}

// add folds one rollup row into the figures.
func (f *Figures) add(metric, dim string, v float64) {
	switch metric {
	case "events":
		f.Events += int64(v)
		f.EventsByType[dim] += int64(v)
	case "active_customers":
		f.ActiveCustomers += int64(v)
	case "milestones":
		f.MilestonesAchieved += int64(v)
	case "assessments":
		f.Assessments += int64(v)
	case "assessment_score_sum":
		f.scoreSum += v
	case "runs":
		f.Runs[dim] += int64(v)
	case "llm_tokens":
		f.LLMTokens += int64(v)
	case "llm_cost_usd":
		f.LLMCostUSD += v
	}
}

func (f *Figures) finish() {
	if f.Assessments > 0 {
		avg := float64(int64(f.scoreSum/float64(f.Assessments)*100+0.5)) / 100
		f.AverageScore = &avg
	}
	f.LLMCostUSD = float64(int64(f.LLMCostUSD*1e6+0.5)) / 1e6
}

// overview computes a workspace's analytics from the rollups, and from raw
// rows for the buckets the rollups have not reached, on the read pool.
func (s *Server) overview(ctx context.Context, workspace string, from, to time.Time, g string) (Overview, error) {
	q := sqlc.New(s.d.ReadPool)
	marks, err := q.AnalyticsWatermarks(ctx)
	if err != nil {
		return Overview{}, dependencyError("postgres", err)
	}
	t1, t2 := overviewTiers(marks, g)
	rows, err := q.AnalyticsSeries(ctx, sqlc.AnalyticsSeriesParams{Granularity: g, WorkspaceID: workspace, FromAt: from, ToAt: to, T1: t1, T2: t2})
	if err != nil {
		return Overview{}, dependencyError("postgres", err)
	}
	out := Overview{From: from, To: to, Granularity: g, Totals: newFigures()}
	buckets := map[time.Time]*Bucket{}
	at := func(t time.Time) *Bucket {
		b := buckets[t]
		if b == nil {
			b = &Bucket{Start: t.UTC(), Figures: newFigures()}
			buckets[t] = b
		}
		return b
	}
	for _, r := range rows {
		at(r.Bucket).add(r.Metric, r.Dim, r.Value)
		if r.Metric != "active_customers" {
			out.Totals.add(r.Metric, r.Dim, r.Value)
		}
	}
	fromDay, toDay := groundwork.BucketStart(from, "day"), groundwork.BucketStart(to.Add(-time.Nanosecond), "day").AddDate(0, 0, 1)
	daily := g
	if g == groundwork.GranularityHour {
		daily = groundwork.GranularityDay // the buckets are not used, only the total
	}
	active, err := q.AnalyticsActive(ctx, sqlc.AnalyticsActiveParams{Granularity: daily, WorkspaceID: workspace, FromDay: fromDay, ToDay: toDay})
	if err != nil {
		return Overview{}, dependencyError("postgres", err)
	}
	for _, a := range active {
		switch {
		case a.Total:
			out.Totals.ActiveCustomers = a.Customers
		case g != groundwork.GranularityHour:
			at(a.Bucket).ActiveCustomers = a.Customers
		}
	}
	out.Series = make([]Bucket, 0, len(buckets))
	for _, b := range buckets {
		b.finish()
		out.Series = append(out.Series, *b)
	}
	sort.Slice(out.Series, func(i, j int) bool { return out.Series[i].Start.Before(out.Series[j].Start) })
	out.Totals.finish()
	return out, nil
}

func (s *Server) registerAnalytics() {
	huma.Register(s.api, huma.Operation{
		OperationID: "get-analytics-overview", Method: http.MethodGet, Path: "/v1/analytics/overview",
		Summary: "Your workspace's analytics", Tags: []string{"analytics"},
		Description: "Active customers, events by type, milestones achieved, assessments and their average score, runs by kind and status, LLM tokens and cost — in UTC hour, day or week buckets (at most 1,000). Complete buckets come from the hourly and daily rollups, the rest from raw rows, so figures are fresh within seconds. Served from the read replica when DATABASE_READ_URL is set.",
		Errors:      []int{401, 422, 429, 503},
	}, func(ctx context.Context, in *overviewInput) (*overviewOutput, error) {
		p, _ := PrincipalFrom(ctx)
		from, to, err := s.analyticsRange(*in)
		if err != nil {
			return nil, err
		}
		o, err := s.overview(ctx, p.WorkspaceID, from, to, cmp.Or(in.Granularity, "day"))
		if err != nil {
			return nil, err
		}
		return &overviewOutput{Body: o}, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "get-customer-timeseries", Method: http.MethodGet, Path: "/v1/analytics/customers/{id}/timeseries",
		Summary: "A customer's activity over time", Tags: []string{"analytics"},
		Description: "The customer's events per UTC hour, day or week bucket, by type and weighted as the engagement score weighs them.",
		Errors:      []int{401, 404, 422, 429, 503},
	}, func(ctx context.Context, in *timeseriesInput) (*timeseriesOutput, error) {
		c, err := s.workspaceCustomer(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		g := cmp.Or(in.Granularity, "day")
		from, to, err := s.analyticsRange(overviewInput{From: in.From, To: in.To, Granularity: g})
		if err != nil {
			return nil, err
		}
		q := sqlc.New(s.d.ReadPool)
		buckets := map[time.Time]*CustomerBucket{}
		add := func(t time.Time, typ string, n int64) {
			t = groundwork.BucketStart(t, g)
			if t.Before(from) || !t.Before(to) {
				return
			}
			b := buckets[t]
			if b == nil {
				b = &CustomerBucket{Start: t, EventsByType: map[string]int64{}}
				buckets[t] = b
			}
			b.Events += n
			b.EventsByType[typ] += n
			b.Weighted += health.Weight(typ) * float64(n)
		}
		if g == groundwork.GranularityHour {
			rows, err := q.CustomerEventsHourly(ctx, sqlc.CustomerEventsHourlyParams{CustomerID: c.ID, WorkspaceID: c.WorkspaceID, FromAt: from, ToAt: to})
			if err != nil {
				return nil, dependencyError("postgres", err)
			}
			for _, r := range rows {
				add(r.Bucket, r.Type, r.Events)
			}
		} else {
			rows, err := q.CustomerActivityDays(ctx, sqlc.CustomerActivityDaysParams{CustomerID: c.ID, Since: from})
			if err != nil {
				return nil, dependencyError("postgres", err)
			}
			for _, r := range rows {
				add(r.Day, r.Type, int64(r.Events))
			}
		}
		out := &timeseriesOutput{}
		out.Body.CustomerID, out.Body.From, out.Body.To, out.Body.Granularity = c.ID, from, to, g
		out.Body.Series = make([]CustomerBucket, 0, len(buckets))
		for _, b := range buckets {
			b.Weighted = float64(int64(b.Weighted*100+0.5)) / 100
			out.Body.Series = append(out.Body.Series, *b)
		}
		sort.Slice(out.Body.Series, func(i, j int) bool { return out.Body.Series[i].Start.Before(out.Body.Series[j].Start) })
		return out, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "analytics-stream", Method: http.MethodGet, Path: "/v1/analytics/stream",
		Summary: "Stream your workspace's analytics (Server-Sent Events)", Tags: []string{"analytics"},
		Description: "An `overview` event (data: the overview of the last `window`, default 7 days at day granularity) at once and whenever it changes, at most once every 2 s. Comments every 15 s keep proxies from closing the stream.",
		Errors:      []int{401, 422, 429, 503},
		Responses: s.eventStreamResponses(
			sseEvent{"overview", "The overview of the window, at most every 2 s while it changes.", reflect.TypeFor[Overview]()},
			sseEvent{"error", "The figures could not be read; the stream keeps retrying.", reflect.TypeFor[map[string]string]()}),
	}, func(ctx context.Context, in *streamInput) (*huma.StreamResponse, error) {
		p, _ := PrincipalFrom(ctx)
		g := cmp.Or(in.Granularity, "day")
		window := 7 * 24 * time.Hour
		if in.Window != "" {
			d, err := time.ParseDuration(in.Window)
			if err != nil || d <= 0 {
				return nil, problem(http.StatusUnprocessableEntity, groundwork.SlugValidation, "the window is invalid",
					groundwork.FieldError{Field: "window", Message: "a positive duration like 24h or 168h"})
			}
			window = d
		}
		now := s.d.Now()
		if _, _, err := s.analyticsRange(overviewInput{From: now.Add(-window), To: now, Granularity: g}); err != nil {
			return nil, err
		}
		if !s.openStream(p.UserID) {
			return nil, problem(http.StatusTooManyRequests, groundwork.SlugTooManyStreams,
				fmt.Sprintf("you have %d event streams open, the most one user may; close one, or poll GET /v1/analytics/overview", s.d.MaxStreamsPerUser))
		}
		return &huma.StreamResponse{Body: func(hctx huma.Context) {
			defer s.closeStream(p.UserID)
			r, w := humachi.Unwrap(hctx)
			s.streamOverview(r.Context(), w, p.WorkspaceID, window, g)
		}}, nil
	})
}

type streamInput struct {
	Granularity string `query:"granularity" enum:"hour,day,week" default:"day"`
	Window      string `query:"window" maxLength:"20" doc:"How far back the overview reaches, as a duration (default 168h)."`
}

// streamOverview sends the overview at once and then whenever it changed,
// checking every AnalyticsStreamEvery. Streams of one workspace and window
// share each computation.
func (s *Server) streamOverview(ctx context.Context, w http.ResponseWriter, workspace string, window time.Duration, g string) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	tick := time.NewTicker(s.d.AnalyticsStreamEvery)
	defer tick.Stop()
	beat := time.NewTicker(sseHeartbeat)
	defer beat.Stop()
	var last []byte
	key := strings.Join([]string{"overview", workspace, window.String(), g}, "\x00")
	for {
		v, err, _ := s.live1.Do(key, func() (any, error) {
			now := s.d.Now()
			from, to, err := s.analyticsRange(overviewInput{From: now.Add(-window), To: now, Granularity: g})
			if err != nil {
				return nil, err
			}
			// Not the first caller's context: the others share the answer.
			o, err := s.overview(context.WithoutCancel(ctx), workspace, from, to, g)
			if err != nil {
				return nil, err
			}
			// From and To move with the clock: only the figures tell a change.
			figures, err := json.Marshal(struct {
				Totals Figures  `json:"totals"`
				Series []Bucket `json:"series"`
			}{o.Totals, o.Series})
			return sharedOverview{o, figures}, err
		})
		if err != nil {
			if ctx.Err() == nil {
				writeEvent(w, "error", "", map[string]string{"message": "analytics are unavailable; retrying"})
				_ = rc.Flush()
			}
		} else if o := v.(sharedOverview); !bytes.Equal(o.figures, last) {
			last = o.figures
			writeEvent(w, "overview", "", o.Overview)
			_ = rc.Flush()
		}
		select {
		case <-ctx.Done():
			return
		case <-beat.C:
			_, _ = fmt.Fprint(w, ": keep-alive\n\n")
			_ = rc.Flush()
		case <-tick.C:
		}
	}
}

// sharedOverview is one overview computation shared by a workspace's
// streams, with the figures that tell a change.
type sharedOverview struct {
	Overview
	figures []byte
}
