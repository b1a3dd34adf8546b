package test

import (
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/groundwork-dev/groundwork/internal/testkit/testenv"
)

// TestRateLimitsHoldAcrossReplicas: two API processes on one Postgres let
// a user through exactly the per-minute limit between them.
func TestRateLimitsHoldAcrossReplicas(t *testing.T) {
	temporal := testenv.StartTemporal(t).FrontendHostPort()
	dbURL := testenv.DatabaseURL(t)
	one := startStack(t, stackOptions{temporalHostPort: temporal, databaseURL: dbURL, workers: "none", ratePerSec: 1000, ratePerMin: 20}, true)
	two := startStack(t, stackOptions{temporalHostPort: temporal, databaseURL: dbURL, workers: "none", ratePerSec: 1000, ratePerMin: 20}, true)
	for attempt := 0; attempt < 3; attempt++ {
		user := "replicas-" + strconv.Itoa(attempt)
		a := one.newUser(t, user)
		b := &apiClient{t: t, base: two.URL, token: a.token}
		start := time.Now()
		ok := 0
		for i := range 40 {
			c := a
			if i%2 == 1 {
				c = b
			}
			switch r := c.do(http.MethodGet, "/v1/runs", nil); r.Status {
			case http.StatusOK:
				ok++
			case http.StatusTooManyRequests:
			default:
				t.Fatalf("request %d: %d %s", i, r.Status, r.Body)
			}
		}
		if start.Truncate(time.Minute) != time.Now().Truncate(time.Minute) {
			continue // the burst straddled two minute windows: again
		}
		if ok != 20 {
			t.Fatalf("two replicas let %d of 40 requests through a 20/min limit", ok)
		}
		return
	}
	t.Skip("every burst straddled a minute boundary")
}

// TestTrustedProxyNamesTheClient: behind a trusted proxy the client is the
// nearest untrusted X-Forwarded-For address, and anonymous limits are per
// client; an untrusted peer's X-Forwarded-For is ignored.
func TestTrustedProxyNamesTheClient(t *testing.T) {
	anonBurst := func(s *stack, xff string, n int) (limited bool) {
		for range n {
			req, _ := http.NewRequest(http.MethodGet, s.URL+"/v1/runs", nil)
			req.Header.Set("X-Forwarded-For", xff)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusTooManyRequests {
				return true
			}
		}
		return false
	}
	trusting := startStack(t, stackOptions{workers: "none", ratePerSec: 1000, ratePerMin: 10,
		trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}, true)
	untrusting := startStack(t, stackOptions{workers: "none", ratePerSec: 1000, ratePerMin: 10}, true)
	for attempt := 0; attempt < 3; attempt++ {
		// Fresh client addresses each attempt; an attempt that straddles a
		// minute window is run again.
		a, b := fmt.Sprintf("203.0.113.%d", 10+2*attempt), fmt.Sprintf("203.0.113.%d", 11+2*attempt)
		start := time.Now()
		firstLimited := anonBurst(trusting, a, 15)
		secondLimited := anonBurst(trusting, b, 5)
		anonBurst(untrusting, a, 15)
		untrustedLimited := anonBurst(untrusting, b, 5)
		if start.Truncate(time.Minute) != time.Now().Truncate(time.Minute) {
			continue
		}
		if !firstLimited {
			t.Fatal("15 anonymous requests of one client were never limited at 10/min")
		}
		if secondLimited {
			t.Fatal("another client behind the same proxy was limited by the first's burst")
		}
		if !untrustedLimited {
			t.Fatal("an untrusted peer's X-Forwarded-For chose the rate-limit key")
		}
		return
	}
	t.Skip("every attempt straddled a minute boundary")
}

// TestBogusKeysCostBoundedLookups: a thousand requests with bogus keys
// from one address check at most the failure limit's worth of tokens.
func TestBogusKeysCostBoundedLookups(t *testing.T) {
	s := startStack(t, stackOptions{workers: "none", ratePerSec: 100000, ratePerMin: 1000000, authFailures: 20}, true)
	checks := func() int { return int(metricValue(t, s, "groundwork_auth_checks_total")) }
	// A user behind the same address (a NAT, a proxy) whose key worked
	// before the flood keeps working during it.
	neighbour := s.newUser(t, "bogus-neighbour")
	if r := neighbour.do(http.MethodGet, "/v1/runs", nil); r.Status != http.StatusOK {
		t.Fatalf("neighbour before: %d", r.Status)
	}
	before := checks()
	limited := 0
	for i := range 1000 {
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/v1/runs", nil)
		req.Header.Set("Authorization", "Bearer gw_bogus"+strconv.Itoa(i))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			limited++
		}
	}
	// Each minute window allows 20 failures; the loop may straddle one
	// window boundary.
	if n := checks() - before; n > 40 || limited < 900 {
		t.Fatalf("1,000 bogus keys: %d token checks, %d refused with 429", n, limited)
	}
	if r := neighbour.do(http.MethodGet, "/v1/runs", nil); r.Status != http.StatusOK {
		t.Fatalf("a working key from the flooded address: %d %s", r.Status, r.Body)
	}
}
