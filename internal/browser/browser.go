// Package browser renders pages in one headless Chrome per worker process.
// Every connection Chrome makes goes through an in-process SSRF-enforcing
// forward proxy (package ssrf), so the policy holds for redirects,
// subresources, XHR and iframes too, not just the URL we were given.
package browser

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/groundwork-dev/groundwork/internal/metrics"
	"github.com/groundwork-dev/groundwork/internal/ssrf"
)

// ErrNavigation is wrapped by every error that means the page itself could
// not be loaded (DNS, TLS, refused connection, redirect loop, SSRF refusal).
var ErrNavigation = errors.New("navigation failed")

// ErrClosed is returned by Fetch after Close.
var ErrClosed = errors.New("browser closed")

// Options configures a Browser; zero values take the documented defaults.
type Options struct {
	// ExecPath is the Chrome binary (default: "chromium" from PATH, else
	// /usr/bin/chromium).
	ExecPath string
	// Policy is enforced by the proxy on every connection Chrome makes.
	Policy ssrf.Policy
	// UserAgent overrides Chrome's user agent when set.
	UserAgent string
	// MaxTabs bounds concurrent pages (default 5); Fetch blocks when all
	// are busy.
	MaxTabs int
	// PageTimeout bounds one page from navigation to settled (default 30s).
	PageTimeout time.Duration
	// RestartAfter restarts Chrome after this many pages (default 100), to
	// bound the memory a long-lived Chrome accumulates.
	RestartAfter int
	// NoSandbox turns Chrome's sandbox off, for containers whose seccomp
	// profile denies the user namespaces it needs; the container is then
	// the sandbox. Root always runs without it, as Chrome demands.
	NoSandbox bool
	// MaxHTMLBytes caps the captured DOM (default 5 MiB).
	MaxHTMLBytes int
	// Log receives lifecycle messages (default slog.Default()).
	Log *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.ExecPath == "" {
		if p, err := exec.LookPath("chromium"); err == nil {
			o.ExecPath = p
		} else {
			o.ExecPath = "/usr/bin/chromium"
		}
	}
	if o.MaxTabs <= 0 {
		o.MaxTabs = 5
	}
	if o.PageTimeout <= 0 {
		o.PageTimeout = 30 * time.Second
	}
	if o.RestartAfter <= 0 {
		o.RestartAfter = 100
	}
	if o.MaxHTMLBytes <= 0 {
		o.MaxHTMLBytes = 5 << 20
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return o
}

// Browser owns one Chrome process (started lazily) and its proxy.
type Browser struct {
	opts Options
	sem  chan struct{}

	// tunnels remembers CONNECT refusals and failures for attribution.
	tunnels recentLog

	mu       sync.Mutex
	closed   bool
	proxyURL string
	proxySrv *http.Server
	cur      *chrome
	procs    sync.WaitGroup // retired Chromes still shutting down
}

// chrome is one Chrome process. Pages hold a reference (active) so that a
// retired process (RestartAfter) is stopped only when its last page ends.
type chrome struct {
	ctx         context.Context // the browser context; done when Chrome dies
	cancel      context.CancelFunc
	allocCancel context.CancelFunc
	dir         string
	pid         int
	pages       int
	active      int
	retired     bool
	// idle are open tabs between pages (guarded by Browser.mu).
	idle []*tab
}

func (c *chrome) dead() bool {
	select {
	case <-c.ctx.Done():
		return true
	default:
		return false
	}
}

// stop ends Chrome, waits for the process to exit and removes its profile.
func (c *chrome) stop() {
	c.cancel()
	c.allocCancel() // waits for the process
	_ = os.RemoveAll(c.dir)
}

// New returns a Browser; Chrome and the proxy start on the first Fetch.
func New(opts Options) *Browser {
	opts = opts.withDefaults()
	return &Browser{opts: opts, sem: make(chan struct{}, opts.MaxTabs)}
}

// PID returns the running Chrome's process id (0 if none), so tests can kill it.
func (b *Browser) PID() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cur == nil {
		return 0
	}
	return b.cur.pid
}

// Close stops Chrome and the proxy and removes Chrome's profile directory.
func (b *Browser) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	cur := b.cur
	b.cur = nil
	srv := b.proxySrv
	b.mu.Unlock()
	if cur != nil {
		// Pages still running on it fail; Close is the end of the process.
		cur.stop()
	}
	b.procs.Wait()
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			_ = srv.Close() // hijacked tunnels are not tracked by Shutdown
			return fmt.Errorf("browser: stop proxy: %w", err)
		}
	}
	return nil
}

// startProxy serves the SSRF proxy on a loopback port only we use. Caller
// holds b.mu.
func (b *Browser) startProxy() error {
	if b.proxySrv != nil {
		return nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("browser: listen for proxy: %w", err)
	}
	p := &ssrf.Proxy{
		Dialer: ssrf.Dialer{Policy: b.opts.Policy},
		// Plain-http refusals are attributed per tab from the response
		// header; the CONNECT ones are logged by markingHandler.
		OnBlocked: func(target string, err error) {
			metrics.ResearchBlocked.Inc()
			b.opts.Log.Debug("browser: ssrf refused", "target", target, "err", err)
		},
	}
	srv := &http.Server{
		Handler:           markingHandler{next: p, tunnels: &b.tunnels},
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { _ = srv.Serve(ln) }()
	b.proxySrv = srv
	b.proxyURL = "http://" + ln.Addr().String()
	return nil
}

// startChrome launches Chrome. Caller holds b.mu.
func (b *Browser) startChrome(ctx context.Context) (*chrome, error) {
	dir, err := os.MkdirTemp("", "groundwork-chrome-")
	if err != nil {
		return nil, fmt.Errorf("browser: profile dir: %w", err)
	}
	// Start from the defaults: they keep Chrome from phoning home, which on
	// a closed network means hangs and noise.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(b.opts.ExecPath),
		chromedp.UserDataDir(dir),
		chromedp.ProxyServer(b.proxyURL),
		// Without this Chrome connects to loopback directly, skipping the policy.
		chromedp.Flag("proxy-bypass-list", "<-loopback>"),
		// WebRTC may send UDP straight to any address, around the proxy
		// and its SSRF checks: only proxied (TCP) traffic is allowed.
		chromedp.Flag("force-webrtc-ip-handling-policy", "disable_non_proxied_udp"),
		chromedp.Flag("webrtc-ip-handling-policy", "disable_non_proxied_udp"),
		chromedp.Flag("disable-dev-shm-usage", true),
		// Headless Chrome's 800×600 gets sites' mobile layouts; research
		// and its screenshots want what a desktop visitor sees.
		chromedp.WindowSize(1280, 800),
		// chromedp's own list plus the back/forward cache: a reused tab
		// would otherwise keep every page it left alive in memory.
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,BackForwardCache"),
	)
	if os.Geteuid() == 0 || b.opts.NoSandbox {
		// Chrome refuses to run as root with its sandbox.
		opts = append(opts, chromedp.NoSandbox)
	}
	if b.opts.UserAgent != "" {
		opts = append(opts, chromedp.UserAgent(b.opts.UserAgent))
	}
	// Chrome's life must not be bound to the caller's context, only its start.
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancel := chromedp.NewContext(allocCtx)
	c := &chrome{ctx: bctx, cancel: cancel, allocCancel: allocCancel, dir: dir}

	started := make(chan error, 1)
	go func() { started <- chromedp.Do(bctx) }()
	select {
	case err = <-started:
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		c.stop()
		return nil, fmt.Errorf("browser: start chrome %s: %w", b.opts.ExecPath, err)
	}
	if cc := chromedp.FromContext(bctx); cc != nil && cc.Browser != nil && cc.Browser.Process() != nil {
		c.pid = cc.Browser.Process().Pid
	}
	b.opts.Log.Info("browser: chrome started", "pid", c.pid, "proxy", b.proxyURL)
	return c, nil
}

// acquire returns the Chrome to run one page on, starting or replacing it
// as needed.
func (b *Browser) acquire(ctx context.Context) (*chrome, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, ErrClosed
	}
	if err := b.startProxy(); err != nil {
		return nil, err
	}
	if b.cur != nil && b.cur.dead() {
		b.opts.Log.Warn("browser: chrome died, restarting", "pid", b.cur.pid)
		b.retireLocked(b.cur)
	}
	if b.cur == nil {
		c, err := b.startChrome(ctx)
		if err != nil {
			return nil, err
		}
		b.cur = c
	}
	c := b.cur
	c.pages++
	c.active++
	if c.pages >= b.opts.RestartAfter {
		b.retireLocked(c)
	}
	return c, nil
}

// retireLocked detaches c so the next page starts a new Chrome; c stops
// once its last page releases it. Caller holds b.mu.
func (b *Browser) retireLocked(c *chrome) {
	if b.cur == c {
		b.cur = nil
	}
	if c.retired {
		return
	}
	c.retired = true
	b.procs.Add(1)
	if c.active == 0 {
		go func() { defer b.procs.Done(); c.stop() }()
	}
}

func (b *Browser) release(c *chrome) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c.active--
	if c.retired && c.active == 0 {
		go func() { defer b.procs.Done(); c.stop() }()
	}
}

// Fetch opens a new tab, navigates, waits for the page to settle (load event, then network idle of ~500 ms or the timeout, whichever first), captures the result and closes the tab.
//
// A page that never settles returns what it has at PageTimeout with no
// error. Navigation failures return an error wrapping ErrNavigation. If
// Chrome crashed, Fetch restarts it once and retries the page. Non-HTML
// responses return Status and ContentType without HTML or screenshot.
func (b *Browser) Fetch(ctx context.Context, url string) (Result, error) {
	// Refuse what can be refused without a tab; the proxy still checks
	// every dial (redirects, DNS rebinding).
	if err := b.opts.Policy.CheckURL(url); err != nil {
		return Result{Blocked: []string{url}}, fmt.Errorf("%w: %s: %w", ErrNavigation, url, err)
	}
	select {
	case b.sem <- struct{}{}:
	case <-ctx.Done():
		return Result{}, fmt.Errorf("browser: waiting for a free tab: %w", ctx.Err())
	}
	defer func() { <-b.sem }()

	for attempt := 0; ; attempt++ {
		c, err := b.acquire(ctx)
		if err != nil {
			return Result{}, err
		}
		res, err := b.fetchOn(ctx, c, url)
		// A page's own failure (ErrNavigation) says nothing about Chrome;
		// only protocol errors are worth checking for a crash.
		crashed := err != nil && !errors.Is(err, ErrNavigation) && ctx.Err() == nil && b.waitDead(c)
		b.release(c)
		if crashed && attempt == 0 {
			b.opts.Log.Warn("browser: chrome crashed during page, retrying", "url", url, "pid", c.pid, "err", err)
			b.mu.Lock()
			b.retireLocked(c)
			b.mu.Unlock()
			continue
		}
		if crashed {
			return res, fmt.Errorf("browser: chrome crashed twice on %s: %w", url, err)
		}
		return res, err
	}
}

// waitDead reports whether c's Chrome is gone. chromedp cancels the browser
// context asynchronously after the pipe breaks, so a command can fail a
// moment before that; wait briefly for the condition rather than guess.
func (b *Browser) waitDead(c *chrome) bool {
	t := time.NewTimer(2 * time.Second)
	defer t.Stop()
	select {
	case <-c.ctx.Done():
		return true
	case <-t.C:
		return false
	}
}
