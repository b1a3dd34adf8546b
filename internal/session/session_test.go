package session

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/testkit/testenv"
)

func newStore(tb testing.TB) *Store {
	tb.Helper()
	pool, _ := testenv.Pool(tb)
	if err := sqlc.New(pool).PrincipalEnsure(context.Background(), sqlc.PrincipalEnsureParams{WorkspaceID: "ws", UserID: "u"}); err != nil {
		tb.Fatal(err)
	}
	return &Store{Pool: pool, Idle: 30 * time.Minute, PerUser: 3}
}

func TestConcurrentNewSessionsKeepTheLimit(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	errs := make(chan error, 6)
	for i := range 6 {
		go func() { errs <- s.Check(ctx, Seen{UserID: "u", WorkspaceID: "ws", SessionID: fmt.Sprint("s", i)}) }()
	}
	for range 6 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	var live int
	if err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM sessions WHERE user_id = 'u' AND revoked_at IS NULL`).Scan(&live); err != nil || live != 3 {
		t.Fatalf("%d live sessions after six new ones at once, want 3 (%v)", live, err)
	}
}

func TestIdleUsesTheStoreClock(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	now := time.Now()
	s.Now = func() time.Time { return now }
	seen := Seen{UserID: "u", WorkspaceID: "ws", SessionID: "a"}
	if err := s.Check(ctx, seen); err != nil {
		t.Fatal(err)
	}
	now = now.Add(31 * time.Minute)
	if err := s.Check(ctx, seen); !errors.Is(err, ErrExpired) {
		t.Fatalf("after 31 idle minutes: %v", err)
	}
	now = now.Add(-31 * time.Minute)
	if err := s.Check(ctx, seen); !errors.Is(err, ErrExpired) {
		t.Fatalf("an expired session came back: %v", err)
	}
}

// BenchmarkCheckLiveSession is the per-request cost of the session check
// of a live session (one indexed read; the once-a-minute write is rare).
// Run: go test -run - -bench CheckLiveSession ./internal/session
func BenchmarkCheckLiveSession(b *testing.B) {
	s := newStore(b)
	ctx := context.Background()
	seen := Seen{UserID: "u", WorkspaceID: "ws", SessionID: "bench"}
	if err := s.Check(ctx, seen); err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		if err := s.Check(ctx, seen); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	if len(lat) > 0 {
		sortDurations(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds()), "p95-µs")
	}
}

func sortDurations(d []time.Duration) { slices.Sort(d) }
