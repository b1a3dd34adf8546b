package browser

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/groundwork-dev/groundwork/internal/ssrf"
)

const chromium = "/usr/bin/chromium"

var pngMagic = []byte("\x89PNG\r\n\x1a\n")

func needChrome(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts Chrome; skipped under -short")
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("no %s: %v", chromium, err)
	}
}

// serveOn starts an httptest server on ip (127.0.0.2 is how the tests get
// an address that the policy treats differently from 127.0.0.1).
func serveOn(t *testing.T, ip string, h http.Handler) *httptest.Server {
	t.Helper()
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Skipf("cannot listen on %s: %v", ip, err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// allowOnly is a policy under which only 127.0.0.2 of loopback is reachable.
func allowOnly(cidr string) ssrf.Policy {
	return ssrf.Policy{Allow: []netip.Prefix{netip.MustParsePrefix(cidr)}}
}

func newBrowser(t *testing.T, o Options) *Browser {
	t.Helper()
	o.ExecPath = chromium
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	b := New(o)
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestJavaScriptRenderedPage(t *testing.T) {
	needChrome(t)
	srv := serveOn(t, "127.0.0.2", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html><head><title>before</title></head><body>
<script>setTimeout(() => {
  document.title = "Rendered";
  document.body.insertAdjacentHTML("beforeend", "<p id=x>hello from javascript</p>");
}, 200)</script></body></html>`)
	}))
	b := newBrowser(t, Options{Policy: allowOnly("127.0.0.2/32")})

	start := time.Now()
	res, err := b.Fetch(ctxFor(t, time.Minute), srv.URL+"/js")
	t.Logf("fetch took %s", time.Since(start))
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if !bytes.Contains(res.HTML, []byte("hello from javascript")) {
		t.Errorf("HTML lacks the rendered content:\n%s", res.HTML)
	}
	if res.Title != "Rendered" {
		t.Errorf("Title = %q, want Rendered", res.Title)
	}
	if !bytes.HasPrefix(res.Screenshot, pngMagic) {
		t.Errorf("Screenshot is not a PNG (%d bytes)", len(res.Screenshot))
	}
	if res.Status != 200 || !strings.HasPrefix(res.ContentType, "text/html") || res.FinalURL != srv.URL+"/js" {
		t.Errorf("Status %d, ContentType %q, FinalURL %q", res.Status, res.ContentType, res.FinalURL)
	}
	if res.TimedOut || len(res.Blocked) != 0 {
		t.Errorf("TimedOut %v, Blocked %v", res.TimedOut, res.Blocked)
	}
}

func TestBlockedSubresource(t *testing.T) {
	needChrome(t)
	var forbiddenHits atomic.Int32
	forbidden := serveOn(t, "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		forbiddenHits.Add(1)
		w.Header().Set("Content-Type", "image/gif")
		_, _ = w.Write([]byte("GIF89a"))
	}))
	imgURL := forbidden.URL + "/secret.gif"
	srv := serveOn(t, "127.0.0.2", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<html><head><title>img</title></head><body><p>page</p><img src=%q></body></html>`, imgURL)
	}))
	b := newBrowser(t, Options{Policy: allowOnly("127.0.0.2/32")})

	res, err := b.Fetch(ctxFor(t, time.Minute), srv.URL)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if !slices.Contains(res.Blocked, imgURL) {
		t.Errorf("Blocked = %v, want it to contain %s", res.Blocked, imgURL)
	}
	if n := forbiddenHits.Load(); n != 0 {
		t.Errorf("the blocked server was reached %d times", n)
	}
	if res.Title != "img" || res.Status != 200 {
		t.Errorf("Title %q Status %d", res.Title, res.Status)
	}
}

func TestBlockedTopLevel(t *testing.T) {
	needChrome(t)
	forbidden := serveOn(t, "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the blocked server was reached: %s", r.URL)
	}))
	srv := serveOn(t, "127.0.0.2", http.RedirectHandler(forbidden.URL+"/admin", http.StatusFound))
	b := newBrowser(t, Options{Policy: allowOnly("127.0.0.2/32")})
	ctx := ctxFor(t, time.Minute)

	// Refused before a tab opens.
	_, err := b.Fetch(ctx, forbidden.URL)
	if !errors.Is(err, ErrNavigation) || !errors.Is(err, ssrf.ErrBlocked) {
		t.Errorf("direct: err = %v, want ErrNavigation and ssrf.ErrBlocked", err)
	}

	// Refused by the proxy, after a redirect Chrome followed.
	res, err := b.Fetch(ctx, srv.URL+"/go")
	if !errors.Is(err, ErrNavigation) || !strings.Contains(err.Error(), "SSRF") {
		t.Fatalf("redirect: err = %v, want ErrNavigation naming the SSRF policy", err)
	}
	t.Logf("redirect error: %v", err)
	if res.Redirects != 1 || !slices.Contains(res.Blocked, forbidden.URL+"/admin") {
		t.Errorf("Redirects %d, Blocked %v", res.Redirects, res.Blocked)
	}
}

func TestConnectionRefused(t *testing.T) {
	needChrome(t)
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.2: %v", err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	b := newBrowser(t, Options{Policy: allowOnly("127.0.0.2/32")})

	_, err = b.Fetch(ctxFor(t, time.Minute), "http://"+addr+"/")
	if !errors.Is(err, ErrNavigation) || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("err = %v, want ErrNavigation naming the refused connection", err)
	}
	t.Logf("error: %v", err)
}

func TestPageThatNeverSettles(t *testing.T) {
	needChrome(t)
	release := make(chan struct{})
	srv := serveOn(t, "127.0.0.2", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<html><head><title>slow</title></head><body><p>partial content</p>`)
		w.(http.Flusher).Flush()
		select { // never finish the document
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release) }) // runs before srv.Close
	const timeout = 2 * time.Second
	b := newBrowser(t, Options{Policy: allowOnly("127.0.0.2/32"), PageTimeout: timeout})

	start := time.Now()
	res, err := b.Fetch(ctxFor(t, time.Minute), srv.URL)
	took := time.Since(start)
	t.Logf("fetch took %s", took)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if !res.TimedOut || !bytes.Contains(res.HTML, []byte("partial content")) {
		t.Errorf("TimedOut %v, HTML %q", res.TimedOut, res.HTML)
	}
	// Chrome start-up is included; the page itself must stop at PageTimeout.
	if took < timeout || took > timeout+20*time.Second {
		t.Errorf("took %s, want about PageTimeout (%s)", took, timeout)
	}
}

func TestConcurrentFetches(t *testing.T) {
	needChrome(t)
	srv := serveOn(t, "127.0.0.2", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<html><head><title>%s</title></head><body>%s</body></html>`, r.URL.Path[1:], r.URL.Path)
	}))
	b := newBrowser(t, Options{Policy: allowOnly("127.0.0.2/32"), MaxTabs: 5})
	ctx := ctxFor(t, 2*time.Minute)

	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, 5)
	for i := range 5 {
		wg.Go(func() {
			res, err := b.Fetch(ctx, fmt.Sprintf("%s/p%d", srv.URL, i))
			if err == nil && res.Title != fmt.Sprintf("p%d", i) {
				err = fmt.Errorf("page %d has title %q", i, res.Title)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	t.Logf("5 concurrent fetches took %s", time.Since(start))
	for i, err := range errs {
		if err != nil {
			t.Errorf("fetch %d: %v", i, err)
		}
	}
}

func TestRestartAfterCrash(t *testing.T) {
	needChrome(t)
	srv := serveOn(t, "127.0.0.2", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<html><head><title>ok</title></head><body>ok</body></html>`)
	}))
	b := newBrowser(t, Options{Policy: allowOnly("127.0.0.2/32")})
	ctx := ctxFor(t, 2*time.Minute)

	if _, err := b.Fetch(ctx, srv.URL); err != nil {
		t.Fatalf("first Fetch: %v", err)
	}
	pid := b.PID()
	if pid == 0 {
		t.Fatal("PID is 0 after a fetch")
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill %d: %v", pid, err)
	}
	start := time.Now()
	res, err := b.Fetch(ctx, srv.URL)
	t.Logf("fetch after kill took %s", time.Since(start))
	if err != nil {
		t.Fatalf("Fetch after kill: %v", err)
	}
	if res.Title != "ok" {
		t.Errorf("Title %q", res.Title)
	}
	if p := b.PID(); p == 0 || p == pid {
		t.Errorf("PID after restart = %d, old %d", p, pid)
	}
}

func TestRestartAfterNPagesAndCleanup(t *testing.T) {
	needChrome(t)
	srv := serveOn(t, "127.0.0.2", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/data.json" {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"a":1}`)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<html><body>x</body></html>`)
	}))
	b := New(Options{ExecPath: chromium, Policy: allowOnly("127.0.0.2/32"), RestartAfter: 2})
	ctx := ctxFor(t, 2*time.Minute)

	var pids []int
	for range 3 {
		if _, err := b.Fetch(ctx, srv.URL); err != nil {
			t.Fatalf("Fetch: %v", err)
		}
		pids = append(pids, b.PID())
	}
	// Pages 1 and 2 ran on the first Chrome, which was retired after page 2.
	if pids[1] != 0 || pids[2] == 0 || pids[2] == pids[0] {
		t.Errorf("PIDs after each page = %v, want [p 0 q] with q != p", pids)
	}

	b.mu.Lock()
	dir := b.cur.dir // retired by the next page and stopped in the background
	b.mu.Unlock()

	res, err := b.Fetch(ctx, srv.URL+"/data.json")
	if err != nil {
		t.Fatalf("Fetch JSON: %v", err)
	}
	if res.Status != 200 || res.ContentType != "application/json" || res.HTML != nil || res.Screenshot != nil {
		t.Errorf("JSON: Status %d, ContentType %q, HTML %d bytes, Screenshot %d bytes", res.Status, res.ContentType, len(res.HTML), len(res.Screenshot))
	}

	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("profile dir %s still exists after Close (%v)", dir, err)
	}
	if _, err := b.Fetch(ctx, srv.URL); !errors.Is(err, ErrClosed) {
		t.Errorf("Fetch after Close: %v, want ErrClosed", err)
	}
}

// TestTabsAreReusedCleanly fetches pages one after another in one tab: the
// tab is reused (no second tab is opened), and nothing of a page — its
// blocked subresources, its hanging requests, its status — leaks into the
// next one.
func TestTabsAreReusedCleanly(t *testing.T) {
	needChrome(t)
	forbidden := serveOn(t, "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv := serveOn(t, "127.0.0.2", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		switch r.URL.Path {
		case "/dirty":
			fmt.Fprintf(w, `<html><head><title>dirty</title></head><body><img src="%s/x.gif"><script>setInterval(() => fetch("/poll"), 50)</script></body></html>`, forbidden.URL)
		case "/missing":
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `<html><head><title>missing</title></head><body>gone</body></html>`)
		default:
			fmt.Fprint(w, `<html><head><title>clean</title></head><body><p>clean</p></body></html>`)
		}
	}))
	b := newBrowser(t, Options{Policy: allowOnly("127.0.0.2/32"), MaxTabs: 1, PageTimeout: 3 * time.Second})
	ctx := ctxFor(t, time.Minute)

	dirty, err := b.Fetch(ctx, srv.URL+"/dirty")
	if err != nil || len(dirty.Blocked) == 0 {
		t.Fatalf("dirty page: %v, blocked %v", err, dirty.Blocked)
	}
	b.mu.Lock()
	first := b.cur.idle
	b.mu.Unlock()
	if len(first) != 1 {
		t.Fatalf("%d idle tabs after a page, want 1", len(first))
	}
	tabCtx := first[0].ctx

	missing, err := b.Fetch(ctx, srv.URL+"/missing")
	if err != nil || missing.Status != 404 || missing.Title != "missing" || len(missing.Blocked) != 0 {
		t.Fatalf("second page in the reused tab: %+v (%v)", missing, err)
	}
	clean, err := b.Fetch(ctx, srv.URL+"/clean")
	if err != nil || clean.Status != 200 || clean.Title != "clean" || len(clean.Blocked) != 0 || clean.Redirects != 0 {
		t.Fatalf("third page in the reused tab: %+v (%v)", clean, err)
	}
	b.mu.Lock()
	idle := b.cur.idle
	b.mu.Unlock()
	if len(idle) != 1 || idle[0].ctx != tabCtx {
		t.Fatalf("the tab was not reused: %d idle", len(idle))
	}
}

// TestResearchesDoNotShareCookies: a research's pages share its cookies;
// the next research's pages, in a browser context of their own, do not
// send them.
func TestResearchesDoNotShareCookies(t *testing.T) {
	needChrome(t)
	srv := serveOn(t, "127.0.0.2", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		if r.URL.Path == "/set" {
			http.SetCookie(w, &http.Cookie{Name: "visitor", Value: "research-a", Path: "/", MaxAge: 3600})
		}
		title := "no cookie"
		if c, err := r.Cookie("visitor"); err == nil {
			title = "cookie " + c.Value
		}
		fmt.Fprintf(w, `<html><head><title>%s</title></head><body><p>%s</p></body></html>`, title, title)
	}))
	b := newBrowser(t, Options{Policy: allowOnly("127.0.0.2/32"), MaxTabs: 1, PageTimeout: 5 * time.Second})
	ctx := ctxFor(t, time.Minute)
	a, other := InPartition(ctx, "research-a"), InPartition(ctx, "research-b")
	if _, err := b.Fetch(a, srv.URL+"/set"); err != nil {
		t.Fatal(err)
	}
	if res, err := b.Fetch(a, srv.URL+"/echo"); err != nil || res.Title != "cookie research-a" {
		t.Fatalf("the same research's next page: %q (%v)", res.Title, err)
	}
	if res, err := b.Fetch(other, srv.URL+"/echo"); err != nil || res.Title != "no cookie" {
		t.Fatalf("another research's page: %q (%v)", res.Title, err)
	}
	// A later page of research-a opens a fresh context too: its tab was
	// closed to make room, and its cookies with it.
	if res, err := b.Fetch(a, srv.URL+"/echo"); err != nil || res.Title != "no cookie" {
		t.Fatalf("research-a after its tab was closed: %q (%v)", res.Title, err)
	}
}

// TestWebRTCSendsNoUDPAroundTheProxy: a page that asks WebRTC for a STUN
// server on an address the policy refuses sends it nothing: UDP cannot go
// through the proxy, and non-proxied UDP is off.
func TestWebRTCSendsNoUDPAroundTheProxy(t *testing.T) {
	needChrome(t)
	canary, err := net.ListenPacket("udp", "127.0.0.3:0")
	if err != nil {
		t.Skipf("no 127.0.0.3 here: %v", err)
	}
	defer canary.Close()
	var packets atomic.Int32
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, _, err := canary.ReadFrom(buf); err != nil {
				return
			}
			packets.Add(1)
		}
	}()
	stun := canary.LocalAddr().String()
	srv := serveOn(t, "127.0.0.2", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<html><head><title>waiting</title></head><body><script>
const pc = new RTCPeerConnection({iceServers: [{urls: "stun:%s"}]});
pc.createDataChannel("x");
pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === "complete") document.title = "gathered"; };
pc.createOffer().then(o => pc.setLocalDescription(o));
setTimeout(() => { if (document.title === "waiting") document.title = "timed out"; }, 3000);
</script></body></html>`, stun)
	}))
	b := newBrowser(t, Options{Policy: allowOnly("127.0.0.2/32"), MaxTabs: 1, PageTimeout: 10 * time.Second})
	res, err := b.Fetch(ctxFor(t, time.Minute), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if res.Title == "waiting" {
		t.Fatalf("the page's ICE gathering never ended (title %q)", res.Title)
	}
	if n := packets.Load(); n != 0 {
		t.Fatalf("WebRTC sent %d UDP packets to %s around the proxy", n, stun)
	}
}
