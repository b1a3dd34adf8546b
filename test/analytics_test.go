package test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/activities"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/internal/testkit/testenv"
	"github.com/groundwork-dev/groundwork/worker"
)

// rawEvents counts a workspace's events by type in [from, to) straight
// from the events table: what the rollups must agree with.
func rawEvents(t *testing.T, s *stack, workspace string, from, to time.Time) map[string]int64 {
	t.Helper()
	rows, err := s.App.Pool.Query(context.Background(),
		`SELECT type, count(*) FROM events WHERE workspace_id = $1 AND occurred_at >= $2 AND occurred_at < $3 GROUP BY type`, workspace, from, to)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var typ string
		var n int64
		if err := rows.Scan(&typ, &n); err != nil {
			t.Fatal(err)
		}
		out[typ] = n
	}
	return out
}

// rolledUp sums a workspace's rolled-up events by type over the buckets of
// granularity in [from, to).
func rolledUp(t *testing.T, s *stack, workspace, granularity string, from, to time.Time) map[string]int64 {
	t.Helper()
	rows, err := s.App.Pool.Query(context.Background(),
		`SELECT dim, sum(value)::bigint FROM analytics_rollups WHERE workspace_id = $1 AND granularity = $2 AND metric = 'events'
		 AND bucket >= $3 AND bucket < $4 GROUP BY dim`, workspace, granularity, from, to)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var typ string
		var n int64
		if err := rows.Scan(&typ, &n); err != nil {
			t.Fatal(err)
		}
		out[typ] = n
	}
	return out
}

func sameCounts(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestRollupsEqualRawEvents spreads events over five days, rolls them up
// by hour and by day, and compares random windows of the rollups with the
// same counts taken from the raw events; a late event is folded in by the
// next rollup; the overview answers the raw figures, fresh.
func TestRollupsEqualRawEvents(t *testing.T) {
	s := sharedStack(t)
	c := s.client(t, "an-admin", "an-ws", "admin")
	ctx := context.Background()
	var customers []string
	for i := range 4 {
		customers = append(customers, c.createCustomer(map[string]any{"name": fmt.Sprint("Analytic ", i)}).ID)
	}
	rng := rand.New(rand.NewPCG(14, 1))
	types := []string{"login", "feature_used", "meeting", "page_view"}
	now := time.Now().UTC()
	var evs []event
	for i := range 600 {
		at := now.Add(-time.Duration(rng.Int64N(int64(5 * 24 * time.Hour))))
		evs = append(evs, ev(fmt.Sprint("an", i), customers[rng.IntN(len(customers))], types[rng.IntN(len(types))], at))
	}
	if _, r := c.track(evs, ""); r.Status != http.StatusOK {
		t.Fatalf("track: %d %s", r.Status, r.Body)
	}

	an := &activities.Analytics{Pool: s.App.Pool}
	rollup := func() {
		t.Helper()
		for _, g := range []string{groundwork.GranularityHour, groundwork.GranularityDay} {
			if _, err := an.AnalyticsRollup(ctx, groundwork.RollupInput{Granularity: g}); err != nil {
				t.Fatalf("rollup %s: %v", g, err)
			}
		}
	}
	check := func(what string) {
		t.Helper()
		hourEnd, dayEnd := now.Truncate(time.Hour), groundwork.BucketStart(now, groundwork.GranularityDay)
		start := now.Add(-6 * 24 * time.Hour).Truncate(time.Hour)
		for range 20 {
			a := start.Add(time.Duration(rng.IntN(int(hourEnd.Sub(start).Hours()))) * time.Hour)
			b := a.Add(time.Duration(1+rng.IntN(int(hourEnd.Sub(a).Hours()))) * time.Hour)
			if got, want := rolledUp(t, s, "an-ws", "hour", a, b), rawEvents(t, s, "an-ws", a, b); !sameCounts(got, want) {
				t.Errorf("%s: hourly rollups of [%s, %s) = %v, raw events %v", what, a, b, got, want)
			}
		}
		dayStart := groundwork.BucketStart(start, groundwork.GranularityDay)
		for range 5 {
			a := dayStart.AddDate(0, 0, rng.IntN(int(dayEnd.Sub(dayStart).Hours()/24)))
			b := a.AddDate(0, 0, 1+rng.IntN(int(dayEnd.Sub(a).Hours()/24)))
			if got, want := rolledUp(t, s, "an-ws", "day", a, b), rawEvents(t, s, "an-ws", a, b); !sameCounts(got, want) {
				t.Errorf("%s: daily rollups of [%s, %s) = %v, raw events %v", what, a, b, got, want)
			}
		}
	}
	// As on a first run: a scheduled rollup that ran before these events
	// were tracked would leave those older than its lateness window out.
	if _, err := s.App.Pool.Exec(ctx, `DELETE FROM analytics_watermarks`); err != nil {
		t.Fatal(err)
	}
	rollup()
	check("first rollup")
	rollup()
	check("the same windows rolled up again")

	// A late event, 30 hours old, arrives after its bucket was rolled up.
	if _, r := c.track([]event{ev("an-late", customers[0], "training", now.Add(-30*time.Hour))}, ""); r.Status != http.StatusOK {
		t.Fatalf("track late: %d %s", r.Status, r.Body)
	}
	rollup()
	check("after a late event")

	// The overview agrees with raw counts over its range, and an event
	// that arrived a moment ago is in it.
	overview := func(query string) (time.Time, time.Time, int64, map[string]int64, int64) {
		t.Helper()
		r := c.do(http.MethodGet, "/v1/analytics/overview"+query, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("overview: %d %s", r.Status, r.Body)
		}
		var o struct {
			From, To time.Time
			Totals   struct {
				Events          int64            `json:"events"`
				EventsByType    map[string]int64 `json:"events_by_type"`
				ActiveCustomers int64            `json:"active_customers"`
			} `json:"totals"`
			Series []struct {
				Events int64 `json:"events"`
			} `json:"series"`
		}
		r.json(t, &o)
		var sum int64
		for _, b := range o.Series {
			sum += b.Events
		}
		if sum != o.Totals.Events {
			t.Errorf("overview %s: series add up to %d, totals say %d", query, sum, o.Totals.Events)
		}
		return o.From, o.To, o.Totals.Events, o.Totals.EventsByType, o.Totals.ActiveCustomers
	}
	if _, r := c.track([]event{ev("an-fresh", customers[1], "login", time.Now())}, ""); r.Status != http.StatusOK {
		t.Fatalf("track fresh: %d %s", r.Status, r.Body)
	}
	for _, q := range []string{"?granularity=day", "?granularity=hour&from=" + now.Add(-30*time.Hour).Format(time.RFC3339), "?granularity=week&from=" + now.AddDate(0, 0, -20).Format(time.RFC3339)} {
		from, to, total, byType, active := overview(q)
		want := rawEvents(t, s, "an-ws", from, to)
		var wantTotal int64
		for _, n := range want {
			wantTotal += n
		}
		if total != wantTotal || !sameCounts(byType, want) || active != int64(len(customers)) {
			t.Errorf("overview %s: %d events %v, %d active; raw: %d %v, %d customers", q, total, byType, active, wantTotal, want, len(customers))
		}
	}
	if r := c.do(http.MethodGet, "/v1/analytics/overview?granularity=hour&from=2020-01-01T00:00:00Z", nil); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("a range of too many buckets: %d", r.Status)
	}

	// Every maintenance schedule exists once a worker ensured them.
	if err := worker.EnsureSchedules(ctx, s.App.Temporal, worker.Schedules{}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{groundwork.ScheduleAnalyticsRollup + "-hour", groundwork.ScheduleAnalyticsRollup + "-day", groundwork.ScheduleEventPartitions} {
		if _, err := s.App.Temporal.ScheduleClient().GetHandle(ctx, id).Describe(ctx); err != nil {
			t.Errorf("schedule %s: %v", id, err)
		}
	}
}

// TestAnalyticsStreamPushesChanges reads the stream's first overview,
// tracks an event and waits for the next overview to count it.
func TestAnalyticsStreamPushesChanges(t *testing.T) {
	s := sharedStack(t)
	c := s.client(t, "st-admin", "st-ws", "admin")
	cu := c.createCustomer(map[string]any{"name": "Streamed"})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/v1/analytics/stream?granularity=hour&window=24h", nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	next := func() int64 {
		t.Helper()
		event := ""
		for sc.Scan() {
			line := sc.Text()
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				event = v
			}
			if v, ok := strings.CutPrefix(line, "data: "); ok && event == "overview" {
				var o struct {
					Totals struct {
						Events int64 `json:"events"`
					} `json:"totals"`
				}
				if err := json.Unmarshal([]byte(v), &o); err != nil {
					t.Fatal(err)
				}
				return o.Totals.Events
			}
		}
		t.Fatalf("stream ended: %v", sc.Err())
		return 0
	}
	if n := next(); n != 0 {
		t.Fatalf("first overview counts %d events", n)
	}
	if _, r := c.track([]event{ev("st1", cu.ID, "login", time.Now()), ev("st2", cu.ID, "login", time.Now())}, ""); r.Status != http.StatusOK {
		t.Fatalf("track: %d %s", r.Status, r.Body)
	}
	if n := next(); n != 2 {
		t.Errorf("next overview counts %d events, want 2", n)
	}
}

// TestEventPartitionsFollowRetention runs the partition maintenance on a
// database of its own: every month from retention ago to three ahead has
// a partition, older ones are dropped, and a second run changes nothing.
func TestEventPartitionsFollowRetention(t *testing.T) {
	testenv.SkipShort(t, "Postgres")
	pool, _ := testenv.Pool(t)
	ctx := context.Background()
	partitions := func() []string {
		t.Helper()
		rows, err := pool.Query(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
			WHERE i.inhparent = 'events'::regclass ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var n string
			_ = rows.Scan(&n)
			out = append(out, n)
		}
		return out
	}
	month := func(t time.Time) string { return "events_p" + t.UTC().Format("200601") }
	now := time.Now().UTC()
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	if got := partitions(); len(got) < 17 || got[0] != month(first.AddDate(0, -13, 0)) || got[len(got)-1] != month(first.AddDate(0, 3, 0)) {
		t.Fatalf("after migrating: %v", got)
	}
	r, err := db.EnsureEventPartitions(ctx, pool, 60*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	got := partitions()
	if got[0] != month(now.Add(-60*24*time.Hour)) || got[len(got)-1] != month(first.AddDate(0, 3, 0)) || int(r.Dropped) != 17-len(got) || r.Created != 0 {
		t.Errorf("with 60 days' retention: %v (created %d, dropped %d)", got, r.Created, r.Dropped)
	}
	if r, err := db.EnsureEventPartitions(ctx, pool, 60*24*time.Hour); err != nil || r.Created != 0 || r.Dropped != 0 {
		t.Errorf("again: %+v %v", r, err)
	}

	// Months are UTC months whatever the session's time zone.
	ahead := first.AddDate(0, 3, 0)
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	var bound string
	for _, sql := range []string{
		`DROP TABLE ` + month(ahead),
		`SET timezone = 'America/New_York'`,
		`SELECT event_partitions(3, interval '60 days')`,
		`SET timezone = 'UTC'`,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	if err := conn.QueryRow(ctx, `SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = $1`, month(ahead)).Scan(&bound); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("FOR VALUES FROM ('%s 00:00:00+00') TO ('%s 00:00:00+00')", ahead.Format("2006-01-02"), ahead.AddDate(0, 1, 0).Format("2006-01-02"))
	if bound != want {
		t.Errorf("recreated in New York time: %s, want %s", bound, want)
	}
}
