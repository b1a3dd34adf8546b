package db_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/testkit/testenv"
)

func TestRateWindowsCountPerKeyAndWindow(t *testing.T) {
	pool, _ := testenv.Pool(t)
	q := sqlc.New(pool)
	ctx := context.Background()
	p := sqlc.RateWindowsHitParams{Keys: []string{"u:a/second", "u:a/minute"}, Widths: []int32{1, 60}}
	var minute int32
	for range 3 {
		rows, err := q.RateWindowsHit(ctx, p)
		if err != nil || len(rows) != 2 {
			t.Fatalf("%v %v", rows, err)
		}
		for _, r := range rows {
			if r.Key == "u:a/minute" {
				minute = r.Hits
				if left := r.WindowStart.Add(time.Minute).Sub(r.DbNow); left <= 0 || left > time.Minute {
					t.Fatalf("window %s ends in %s", r.WindowStart, left)
				}
			}
		}
	}
	if minute != 3 && time.Now().Second() > 1 {
		// Three hits a few milliseconds apart share a window unless they
		// straddled a minute, which the clock check above rules out.
		t.Fatalf("minute window counted %d of 3", minute)
	}
	other, err := q.RateWindowsHit(ctx, sqlc.RateWindowsHitParams{Keys: []string{"u:b/minute"}, Widths: []int32{60}})
	if err != nil || len(other) != 1 || other[0].Hits != 1 {
		t.Fatalf("another key: %v %v", other, err)
	}
}

// BenchmarkRateLimitCheck is the per-request cost of the shared rate
// limit: one statement counting a user's second and minute windows.
// Run: go test -run - -bench RateLimitCheck ./db
func BenchmarkRateLimitCheck(b *testing.B) {
	pool, _ := testenv.Pool(b)
	q := sqlc.New(pool)
	ctx := context.Background()
	p := sqlc.RateWindowsHitParams{Keys: []string{"u:bench/second", "u:bench/minute"}, Widths: []int32{1, 60}}
	lat := make([]time.Duration, 0, 4096)
	for b.Loop() {
		t0 := time.Now()
		if _, err := q.RateWindowsHit(ctx, p); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds()), "p95-µs")
	}
}
