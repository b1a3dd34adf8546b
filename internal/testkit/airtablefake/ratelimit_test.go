package airtablefake

import (
	"net/http"
	"testing"
	"time"

	"github.com/groundwork-dev/groundwork/internal/testkit/testenv"
)

func TestLimiter(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	type step struct {
		at          int // ms after t0
		base, token string
		ok          bool
		wait        time.Duration
	}
	tests := []struct {
		name              string
		perBase, perToken int
		window, lockout   time.Duration
		steps             []step
	}{
		{
			name: "per base: window, lockout, recovery", perBase: 2, perToken: -1,
			window: 100 * time.Millisecond, lockout: 300 * time.Millisecond,
			steps: []step{
				{0, "A", "t", true, 0},
				{10, "A", "t", true, 0},
				{20, "B", "t", true, 0}, // other bases are not affected
				{30, "A", "t", false, 300 * time.Millisecond},
				{150, "A", "t", false, 180 * time.Millisecond}, // window is clear, lockout is not
				{329, "A", "t", false, time.Millisecond},
				{330, "A", "t", true, 0},
				{331, "A", "t", true, 0},
			},
		},
		{
			name: "sliding, not fixed, window", perBase: 2, perToken: -1,
			window: 100 * time.Millisecond, lockout: -1,
			steps: []step{
				{90, "A", "t", true, 0},
				{110, "A", "t", true, 0}, // a fixed window would reset at 100
				{150, "A", "t", false, 40 * time.Millisecond},
				{189, "A", "t", false, time.Millisecond},
				{190, "A", "t", true, 0}, // the hit at 90 left the window
			},
		},
		{
			name: "per token across bases", perBase: 5, perToken: 3,
			window: time.Second, lockout: 500 * time.Millisecond,
			steps: []step{
				{0, "A", "t", true, 0},
				{1, "B", "t", true, 0},
				{2, "C", "t", true, 0},
				{3, "D", "t", false, 500 * time.Millisecond},
				{4, "D", "u", true, 0}, // another token is not locked out
				{100, "A", "t", false, 403 * time.Millisecond},
				{300, "A", "t", false, 203 * time.Millisecond},
				// Knocking during the lockout was not counted, so once the
				// first three hits leave the window the token is free.
				{1002, "A", "t", true, 0},
			},
		},
		{
			name: "lockout shorter than the window", perBase: 1, perToken: -1,
			window: time.Second, lockout: 100 * time.Millisecond,
			steps: []step{
				{0, "A", "t", true, 0},
				{10, "A", "t", false, 100 * time.Millisecond},
				{200, "A", "t", false, 100 * time.Millisecond}, // lockout over, window still full
				{299, "A", "t", false, time.Millisecond},
				{1000, "A", "t", true, 0},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newLimiter(tc.perBase, tc.perToken, tc.window, tc.lockout)
			for i, st := range tc.steps {
				ok, wait := l.admit(st.base, st.token, ms(st.at))
				if ok != st.ok || wait != st.wait {
					t.Fatalf("step %d at %dms: got ok=%v wait=%v, want ok=%v wait=%v", i, st.at, ok, wait, st.ok, st.wait)
				}
			}
		})
	}
}

func TestPerBaseLimitLockoutAndRecovery(t *testing.T) {
	const lockout = 1200 * time.Millisecond
	s := newFake(t, Options{PerBase: 5, PerToken: -1, Window: time.Second, Lockout: lockout, RetryAfter: true})
	s.CreateTable("appOther", TableSpec{Name: "T", Fields: []FieldSpec{{Name: "Name", Type: TypeSingleLineText}}})
	for i := range 5 {
		if r := call(t, s, http.MethodGet, people, nil); r.status != http.StatusOK {
			t.Fatalf("request %d: %d %s", i+1, r.status, r.raw)
		}
	}
	limited := call(t, s, http.MethodGet, people, nil)
	limitedAt := time.Now()
	want := `{"errors":[{"error":"RATE_LIMIT_REACHED","message":"Rate limit exceeded. Please try again later"}]}`
	if limited.status != http.StatusTooManyRequests || limited.raw != want || limited.header.Get("Retry-After") != "2" {
		t.Fatalf("6th request: %d %s, Retry-After %q", limited.status, limited.raw, limited.header.Get("Retry-After"))
	}
	if r := call(t, s, http.MethodGet, people, nil); r.status != http.StatusTooManyRequests {
		t.Fatalf("during the lockout: %d %s", r.status, r.raw)
	}
	wantOK(t, call(t, s, http.MethodGet, "/v0/appOther/T", nil))

	var recovered time.Time
	testenv.Eventually(t, 10*time.Second, "the lockout to end", func() bool {
		if call(t, s, http.MethodGet, people, nil).status == http.StatusOK {
			recovered = time.Now()
			return true
		}
		return false
	})
	if d := recovered.Sub(limitedAt); d < lockout {
		t.Fatalf("recovered %v after the 429, before the %v lockout ended", d, lockout)
	}
	st := s.Stats()
	if st.RateLimited < 2 || st.MaxPerWindowBase < 6 {
		t.Fatalf("stats %+v", st)
	}
	var logged int
	for _, r := range s.Requests() {
		if r.Status == http.StatusTooManyRequests && r.Error == errRateLimited && r.Base == testBase {
			logged++
		}
	}
	if logged != st.RateLimited {
		t.Fatalf("%d 429s logged, %d counted", logged, st.RateLimited)
	}
}

func TestPerTokenLimitAcrossBases(t *testing.T) {
	s := newFake(t, Options{Tokens: []string{"pat-a", "pat-b"}, PerBase: 5, PerToken: 8, Window: 5 * time.Second, Lockout: 5 * time.Second})
	for _, b := range []string{"appB", "appC"} {
		s.CreateTable(b, TableSpec{Name: "T", Fields: []FieldSpec{{Name: "Name", Type: TypeSingleLineText}}})
	}
	for i := range 5 {
		if r := callAs(t, s, "pat-a", http.MethodGet, people, nil); r.status != http.StatusOK {
			t.Fatalf("base request %d: %d", i+1, r.status)
		}
	}
	for i := range 3 {
		if r := callAs(t, s, "pat-a", http.MethodGet, "/v0/appB/T", nil); r.status != http.StatusOK {
			t.Fatalf("second base request %d: %d", i+1, r.status)
		}
	}
	// appB has had 3 requests, far from its 5, but the token has had 8.
	if r := callAs(t, s, "pat-a", http.MethodGet, "/v0/appB/T", nil); r.status != http.StatusTooManyRequests {
		t.Fatalf("9th request of the token: %d %s", r.status, r.raw)
	}
	if r := callAs(t, s, "pat-a", http.MethodGet, "/v0/appC/T", nil); r.status != http.StatusTooManyRequests {
		t.Fatalf("a locked-out token reached a fresh base: %d", r.status)
	}
	wantOK(t, callAs(t, s, "pat-b", http.MethodGet, "/v0/appC/T", nil))
	if st := s.Stats(); st.MaxPerWindowToken != 10 || st.MaxPerWindowBase != 5 || st.RateLimited != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestDefaultLimitsAreAirtables(t *testing.T) {
	s := New(Options{})
	defer s.Close()
	l := s.limiter
	if l.perBase != 5 || l.perToken != 50 || l.window != time.Second || l.lockout != 30*time.Second {
		t.Fatalf("defaults %+v", l)
	}
}
