package browser

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// upstreamErrorHeader marks a 502 that the SSRF proxy made itself because it
// could not reach the target (DNS, connection refused…). Chrome would
// otherwise render it as an ordinary page, and Fetch could not tell a dead
// site from a site that answers 502.
const upstreamErrorHeader = "X-Groundwork-Upstream-Error"

// recentWindow bounds how long a CONNECT refusal or failure is remembered
// for attribution to a tab; Chrome reports the failed tunnel within
// milliseconds, so a minute is generous.
const recentWindow = time.Minute

// recentLog remembers proxy outcomes for CONNECT targets (host:port). A
// tunnel failure reaches Chrome only as net::ERR_TUNNEL_CONNECTION_FAILED,
// without our headers, so the tab looks the target up here.
type recentLog struct {
	mu sync.Mutex
	m  map[string]recentEntry
}

type recentEntry struct {
	at      time.Time
	reason  string
	blocked bool
}

func (l *recentLog) add(target, reason string, blocked bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if l.m == nil {
		l.m = make(map[string]recentEntry)
	}
	for k, e := range l.m {
		if now.Sub(e.at) > recentWindow {
			delete(l.m, k)
		}
	}
	l.m[target] = recentEntry{at: now, reason: reason, blocked: blocked}
}

func (l *recentLog) get(target string) (recentEntry, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.m[target]
	if !ok || time.Since(e.at) > recentWindow {
		return recentEntry{}, false
	}
	return e, true
}

// markingHandler wraps the SSRF proxy to label the answers the proxy made
// itself, so that the browser side can classify them exactly per request.
type markingHandler struct {
	next    http.Handler
	tunnels *recentLog
}

func (h markingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	mw := &markWriter{ResponseWriter: w, connect: r.Method == http.MethodConnect}
	h.next.ServeHTTP(mw, r)
	mw.flushPending()
	if mw.connect && mw.status >= 400 {
		// The proxy's refusal/failure body is the reason (ssrf uses http.Error).
		reason := strings.TrimSpace(mw.body.String())
		h.tunnels.add(r.Host, reason, mw.blocked)
	}
}

// markWriter delays a 502 until its body is known: the ssrf proxy answers
// its own dial failures with http.Error("upstream: …"), which is the only
// way to tell them from an upstream server's 502.
type markWriter struct {
	http.ResponseWriter
	connect bool
	status  int
	blocked bool
	pending bool
	body    bytes.Buffer
}

func (m *markWriter) WriteHeader(code int) {
	m.status = code
	h := m.Header()
	m.blocked = h.Get("X-Groundwork-Blocked") == "1" && code == http.StatusForbidden
	// An upstream server must not be able to forge our marker.
	h.Del(upstreamErrorHeader)
	if code == http.StatusBadGateway || m.connect && code >= 400 {
		m.pending = true
		return
	}
	m.ResponseWriter.WriteHeader(code)
}

func (m *markWriter) Write(p []byte) (int, error) {
	if m.status == 0 {
		m.WriteHeader(http.StatusOK)
	}
	if m.pending {
		m.body.Write(p)
		if m.body.Len() < 4096 {
			return len(p), nil
		}
		m.flushPending()
		return len(p), nil
	}
	if m.connect && m.status >= 400 {
		m.body.Write(p)
	}
	n, err := m.ResponseWriter.Write(p)
	// The ssrf proxy copies upstream bodies without flushing, so a page
	// that streams (or never ends) would sit in the 4 KiB response buffer
	// and Chrome would never commit the navigation.
	_ = http.NewResponseController(m.ResponseWriter).Flush()
	return n, err
}

func (m *markWriter) flushPending() {
	if !m.pending {
		return
	}
	m.pending = false
	h := m.Header()
	body := m.body.Bytes()
	if m.status == http.StatusBadGateway && h.Get("X-Content-Type-Options") == "nosniff" && bytes.HasPrefix(body, []byte("upstream: ")) {
		h.Set(upstreamErrorHeader, strings.TrimSpace(strings.ReplaceAll(string(body), "\n", " ")))
	}
	m.ResponseWriter.WriteHeader(m.status)
	_, _ = m.ResponseWriter.Write(body)
}

// Hijack keeps CONNECT tunnels working through the wrapper.
func (m *markWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(m.ResponseWriter).Hijack()
}

// Flush lets streamed upstream bodies through without buffering.
func (m *markWriter) Flush() {
	if m.pending {
		return
	}
	_ = http.NewResponseController(m.ResponseWriter).Flush()
}
