package api

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/httprate"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db/sqlc"
)

// limitWindow is one fixed window of a rate limit.
type limitWindow struct {
	name  string
	limit int
	width time.Duration
}

// windowState is a window's count after a request.
type windowState struct {
	limitWindow
	hits  int
	reset int // seconds until the window ends
}

// hitWindows counts one request of key in each window, in Postgres, so
// every API process shares the counts: one statement per request.
func (s *Server) hitWindows(ctx context.Context, key string, windows []limitWindow) ([]windowState, error) {
	keys := make([]string, len(windows))
	widths := make([]int32, len(windows))
	for i, w := range windows {
		keys[i] = key + "/" + w.name
		widths[i] = int32(w.width / time.Second)
	}
	rows, err := s.q.RateWindowsHit(ctx, sqlc.RateWindowsHitParams{Keys: keys, Widths: widths})
	if err != nil {
		return nil, fmt.Errorf("count rate windows: %w", err)
	}
	out := make([]windowState, 0, len(windows))
	for i, w := range windows {
		j := slices.IndexFunc(rows, func(r sqlc.RateWindowsHitRow) bool { return r.Key == keys[i] })
		if j < 0 {
			return nil, fmt.Errorf("count rate windows: no count for %s", w.name)
		}
		r := rows[j]
		left := r.WindowStart.Add(w.width).Sub(r.DbNow)
		out = append(out, windowState{limitWindow: w, hits: int(r.Hits), reset: max(1, int((left+time.Second-1)/time.Second))})
	}
	return out, nil
}

// rateLimitHeaders writes the IETF draft's RateLimit-Policy and RateLimit
// (the window with the least left), and on a refusal Retry-After: the
// seconds until every exhausted window has ended.
func rateLimitHeaders(h http.Header, states []windowState) (allowed bool) {
	var policies []string
	tight := -1
	allowed, retry := true, 0
	for i, st := range states {
		policies = append(policies, fmt.Sprintf("%q;q=%d;w=%d", st.name, st.limit, int(st.width/time.Second)))
		if tight < 0 || st.limit-st.hits < states[tight].limit-states[tight].hits {
			tight = i
		}
		if st.hits > st.limit {
			allowed = false
			retry = max(retry, st.reset)
		}
	}
	if tight < 0 {
		return true
	}
	t := states[tight]
	h.Set("RateLimit-Policy", strings.Join(policies, ", "))
	h.Set("RateLimit", fmt.Sprintf("%q;r=%d;t=%d", t.name, max(0, t.limit-t.hits), t.reset))
	if !allowed {
		h.Set("Retry-After", strconv.Itoa(retry))
	}
	return allowed
}

// rateLimit enforces the per-caller limits, shared by every API process:
// per user once authenticated, per signed link for a link's requests (a
// larger limit: a report's fifty screenshots load at once), per client IP
// otherwise.
func (s *Server) rateLimit() func(http.Handler) http.Handler {
	user := limitWindows(s.d.RatePerSecond, s.d.RatePerMinute)
	signed := limitWindows(s.d.SignedRatePerSecond, s.d.SignedRatePerMinute)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			key, windows := "ip:"+s.clientKey(r), user
			if p, ok := PrincipalFrom(ctx); ok {
				key = "u:" + p.UserID
			} else if signedExportID(ctx) != "" {
				key, windows = "link:"+r.URL.Path, signed
			}
			if len(windows) == 0 {
				next.ServeHTTP(w, r)
				return
			}
			states, err := s.hitWindows(ctx, key, windows)
			if err != nil {
				s.d.Log.ErrorContext(ctx, "rate limit", "error", err)
				writeProblem(w, dependencyError("postgres", err))
				return
			}
			if !rateLimitHeaders(w.Header(), states) {
				s.metrics.rateLimited.Inc()
				writeProblem(w, problem(http.StatusTooManyRequests, groundwork.SlugRateLimited,
					"too many requests; retry after the number of seconds in Retry-After"))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// limitWindows are the windows of a per-second and a per-minute limit;
// a zero limit has none.
func limitWindows(perSecond, perMinute int) []limitWindow {
	var out []limitWindow
	if perSecond > 0 {
		out = append(out, limitWindow{name: "second", limit: perSecond, width: time.Second})
	}
	if perMinute > 0 {
		out = append(out, limitWindow{name: "minute", limit: perMinute, width: time.Minute})
	}
	return out
}

// preLimit is a cheap, per-process limit by client IP before any
// authentication work, and the gate that refuses an IP after many failed
// authentications, before any key lookup or signature check.
type preLimit struct {
	perIP    *httprate.RateLimiter
	maxFails int

	mu    sync.Mutex
	fails map[string]*failWindow
	// good are tokens that authenticated lately: an address refused for
	// its failures (a NAT, a proxy) still lets them through.
	good map[[sha256.Size]byte]time.Time
}

// goodFor is how long a token that authenticated passes the failure gate.
const goodFor = 10 * time.Minute

// succeeded remembers that token authenticated.
func (p *preLimit) succeeded(token string, now time.Time) {
	h := sha256.Sum256([]byte(token))
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.good) > 100_000 {
		clear(p.good)
	}
	p.good[h] = now
}

// knownGood reports whether token authenticated within goodFor.
func (p *preLimit) knownGood(token string, now time.Time) bool {
	h := sha256.Sum256([]byte(token))
	p.mu.Lock()
	defer p.mu.Unlock()
	at, ok := p.good[h]
	return ok && now.Sub(at) < goodFor
}

type failWindow struct {
	start time.Time
	n     int
}

// authFailWindow is the window failed authentications are counted in.
const authFailWindow = time.Minute

func newPreLimit(perSecond, maxFails int, key func(*http.Request) string, onLimit http.HandlerFunc) *preLimit {
	p := &preLimit{maxFails: maxFails, fails: map[string]*failWindow{}, good: map[[sha256.Size]byte]time.Time{}}
	if perSecond > 0 {
		p.perIP = httprate.NewRateLimiter(perSecond, time.Second,
			httprate.WithKeyFuncs(func(r *http.Request) (string, error) { return key(r), nil }),
			httprate.WithLimitHandler(onLimit))
	}
	return p
}

// failed counts a failed authentication of ip.
func (p *preLimit) failed(ip string, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.fails[ip]
	if f == nil || now.Sub(f.start) >= authFailWindow {
		if len(p.fails) > 100_000 {
			clear(p.fails) // a flood of addresses: forget rather than grow
		}
		f = &failWindow{start: now}
		p.fails[ip] = f
	}
	f.n++
}

// blocked reports whether ip failed too often in the current window, and
// for how many more seconds.
func (p *preLimit) blocked(ip string, now time.Time) (bool, int) {
	if p.maxFails <= 0 {
		return false, 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.fails[ip]
	if f == nil || now.Sub(f.start) >= authFailWindow || f.n < p.maxFails {
		return false, 0
	}
	return true, max(1, int((authFailWindow-now.Sub(f.start)+time.Second-1)/time.Second))
}

// clientKey is the client's address as limits count it: IPv6 by its /64,
// since one host may rotate through all of its network's addresses.
func (s *Server) clientKey(r *http.Request) string {
	return httprate.CanonicalizeIP(s.clientIP(r))
}

// clientIP is the request's client: the connection's address, or, when
// that is a trusted proxy, the nearest address in X-Forwarded-For that is
// not one.
func (s *Server) clientIP(r *http.Request) string {
	ip := remoteIP(r)
	if !s.trusted(ip) {
		return ip
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		h := strings.TrimSpace(hops[i])
		a, err := netip.ParseAddr(h)
		if err != nil {
			break
		}
		if !s.trusted(a.Unmap().String()) {
			return a.Unmap().String()
		}
	}
	return ip
}

func (s *Server) trusted(ip string) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	for _, p := range s.d.TrustedProxies {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// remoteIP is the address of the connection's other end.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
