package browser

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net"
	neturl "net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// idleQuiet is how long the network must stay quiet after the load event
// for a page to count as settled (as Puppeteer's networkidle0).
const idleQuiet = 500 * time.Millisecond

// captureBudget bounds the DOM and screenshot capture after the page
// settled or hit PageTimeout; capture must not turn a timed-out page into
// a hang.
const captureBudget = 15 * time.Second

// Result is one fetched page.
type Result struct {
	// FinalURL is the URL of the document after redirects.
	FinalURL string
	// Status is the HTTP status of the main document.
	Status int
	// ContentType is the main document's Content-Type (or Chrome's MIME type).
	ContentType string
	// Title is document.title.
	Title string
	// HTML is document.documentElement.outerHTML after the page settled,
	// truncated to MaxHTMLBytes.
	HTML []byte
	// Screenshot is a full-page PNG (nil when not HTML).
	Screenshot []byte
	// Blocked lists subresource/redirect targets the SSRF policy refused
	// during this page.
	Blocked []string
	// Redirects counts HTTP redirects of the main document.
	Redirects int
	// TimedOut is true when the page had not settled at PageTimeout.
	TimedOut bool
}

// tabState collects one tab's network events. It is fed from chromedp's
// listener, which runs in the tab's read loop in arrival order, so the
// counting is exact; Fetch reads it under mu.
type tabState struct {
	mainFrame cdp.FrameID
	changed   chan struct{} // capacity 1: "something changed"

	mu         sync.Mutex
	inflight   map[network.RequestID]string // id → URL
	urls       map[network.RequestID]string // every request of the page
	refused    map[network.RequestID]bool   // proxy refusals seen before the request
	lastActive time.Time
	loaded     bool
	mainResp   *network.Response
	redirects  int
	blocked    []string
	tunnelFail []string // URLs whose CONNECT failed (checked against the proxy log)
}

func (s *tabState) notify() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// on runs inside chromedp's read loop: no commands, return fast.
func (s *tabState) on(ev any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		s.inflight[ev.RequestID] = ev.Request.URL
		s.urls[ev.RequestID] = ev.Request.URL
		if s.refused[ev.RequestID] {
			// The extra-info event overtook this one.
			s.addBlocked(ev.Request.URL)
			delete(s.refused, ev.RequestID)
		}
		s.lastActive = time.Now()
		if ev.Type == network.ResourceTypeDocument && ev.FrameID == s.mainFrame && ev.RedirectResponse != nil {
			s.redirects++
			if isBlockedResponse(ev.RedirectResponse) {
				s.addBlocked(ev.RedirectResponse.URL)
			}
		}
	case *network.EventResponseReceived:
		if isBlockedResponse(ev.Response) {
			s.addBlocked(ev.Response.URL)
		}
		if ev.Type == network.ResourceTypeDocument && ev.FrameID == s.mainFrame {
			s.mainResp = ev.Response
		}
	case *network.EventResponseReceivedExtraInfo:
		// Raw headers arrive here even when Chrome then hides the response
		// (ORB blocks a text/plain 403 answering an <img>, and no
		// responseReceived follows), so this is where refusals of
		// subresources are seen.
		if ev.StatusCode == 403 && header(ev.Headers, "X-Groundwork-Blocked") == "1" {
			if u, ok := s.urls[ev.RequestID]; ok {
				s.addBlocked(u)
			} else {
				s.refused[ev.RequestID] = true
			}
		}
	case *network.EventLoadingFinished:
		delete(s.inflight, ev.RequestID)
		s.lastActive = time.Now()
	case *network.EventLoadingFailed:
		if strings.Contains(ev.ErrorText, "ERR_TUNNEL_CONNECTION_FAILED") {
			if u, ok := s.inflight[ev.RequestID]; ok {
				s.tunnelFail = append(s.tunnelFail, u)
			}
		}
		delete(s.inflight, ev.RequestID)
		s.lastActive = time.Now()
	case *page.EventLoadEventFired:
		s.loaded = true
	default:
		return
	}
	s.notify()
}

// addBlocked records a refused URL once. Caller holds s.mu.
func (s *tabState) addBlocked(u string) {
	if u != "" && !slices.Contains(s.blocked, u) {
		s.blocked = append(s.blocked, u)
	}
}

func isBlockedResponse(r *network.Response) bool {
	return r != nil && r.Status == 403 && header(r.Headers, "X-Groundwork-Blocked") == "1"
}

// header reads a response header case-insensitively: Chrome reports names
// as sent on HTTP/1.1 but lower-cased on HTTP/2.
func header(h network.Headers, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			if s, ok := v.(string); ok {
				return s
			}
		}
	}
	return ""
}

// settled reports whether the page is done: load event fired and no
// request in flight for idleQuiet. wait is how long until it might be.
func (s *tabState) settled(now time.Time) (done bool, wait time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.loaded || len(s.inflight) > 0 {
		return false, time.Hour // woken by an event
	}
	quiet := now.Sub(s.lastActive)
	if quiet >= idleQuiet {
		return true, 0
	}
	return false, idleQuiet - quiet
}

// fetchOn runs one page on c in one of its tabs.
func (b *Browser) fetchOn(ctx context.Context, c *chrome, url string) (res Result, err error) {
	st := &tabState{changed: make(chan struct{}, 1), inflight: map[network.RequestID]string{},
		urls: map[network.RequestID]string{}, refused: map[network.RequestID]bool{}}
	t, err := b.takeTab(c, partitionOf(ctx))
	if err != nil {
		return Result{}, err
	}
	tctx := t.ctx
	st.mainFrame = t.frame
	t.use(st)
	stop := context.AfterFunc(ctx, t.cancel)
	defer func() {
		// A tab that served its page cleanly goes back to the pool; any
		// doubt (an error, a cancellation, a page that would not leave)
		// closes it.
		if stop() && err == nil && b.blank(t) {
			b.putTab(c, t)
			return
		}
		t.cancel()
	}()

	deadline := time.Now().Add(b.opts.PageTimeout)
	pctx, pcancel := context.WithDeadline(tctx, deadline)
	defer pcancel()
	nav, navErr := chromedp.Call(pctx, page.Navigate, page.NavigateParams{URL: url})

	st.mu.Lock()
	res = Result{Redirects: st.redirects, Blocked: append([]string(nil), st.blocked...)}
	mainResp := st.mainResp
	st.mu.Unlock()
	if mainResp != nil {
		res.FinalURL = mainResp.URL
		res.Status = int(mainResp.Status)
		res.ContentType = header(mainResp.Headers, "Content-Type")
		if res.ContentType == "" {
			res.ContentType = mainResp.MimeType
		}
	}

	switch {
	case navErr != nil && errors.Is(navErr, context.DeadlineExceeded) && ctx.Err() == nil:
		return res, fmt.Errorf("%w: %s: no response within %s", ErrNavigation, url, b.opts.PageTimeout)
	case navErr != nil:
		return res, fmt.Errorf("browser: navigate %s: %w", url, navErr)
	case isBlockedResponse(mainResp):
		return res, fmt.Errorf("%w: %s: %s refused by the SSRF policy", ErrNavigation, url, mainResp.URL)
	case mainResp != nil && header(mainResp.Headers, upstreamErrorHeader) != "":
		return res, fmt.Errorf("%w: %s: %s", ErrNavigation, url, header(mainResp.Headers, upstreamErrorHeader))
	case nav.ErrorText != "" && mainResp != nil && !isHTML(res.ContentType):
		// A PDF or other download aborts the navigation after the
		// response arrived; the response is what the caller wants.
		return res, nil
	case nav.ErrorText != "":
		return res, b.navError(url, nav.ErrorText, st)
	}

	timedOut := b.waitSettled(pctx, st)
	if ctx.Err() != nil {
		return res, fmt.Errorf("browser: fetch %s: %w", url, ctx.Err())
	}
	res.TimedOut = timedOut

	// Re-read what arrived while settling (late blocked subresources).
	st.mu.Lock()
	res.Blocked = append([]string(nil), st.blocked...)
	for _, u := range st.tunnelFail {
		if e, ok := b.tunnels.get(hostPort(u)); ok && e.blocked {
			res.Blocked = append(res.Blocked, u)
		}
	}
	st.mu.Unlock()

	if !isHTML(res.ContentType) {
		return res, nil
	}
	cctx, ccancel := context.WithTimeout(tctx, captureBudget)
	defer ccancel()
	if timedOut {
		// Freeze the page so the DOM and screenshot agree.
		_, _ = chromedp.Call(cctx, page.StopLoading, cdp.Empty{})
	}
	if err := b.capture(cctx, &res); err != nil {
		return res, fmt.Errorf("browser: capture %s: %w", url, err)
	}
	return res, nil
}

// waitSettled waits for load + network idle; it reports true when the page
// deadline came first.
func (b *Browser) waitSettled(ctx context.Context, st *tabState) (timedOut bool) {
	for {
		done, wait := st.settled(time.Now())
		if done {
			return false
		}
		t := time.NewTimer(wait)
		select {
		case <-st.changed:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return true
		}
		t.Stop()
	}
}

func (b *Browser) capture(ctx context.Context, res *Result) error {
	html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement ? document.documentElement.outerHTML : ""`))
	if err != nil {
		return fmt.Errorf("read DOM: %w", err)
	}
	res.HTML = []byte(truncateUTF8(html, b.opts.MaxHTMLBytes))
	if res.Title, err = chromedp.Run(ctx, chromedp.Title()); err != nil {
		return fmt.Errorf("read title: %w", err)
	}
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil && loc != "" {
		res.FinalURL = loc // includes client-side redirects
	}
	// A page too odd to picture is still worth its text.
	if res.Screenshot, err = screenshot(ctx); err != nil && ctx.Err() == nil {
		b.opts.Log.Warn("browser: no screenshot", "url", res.FinalURL, "err", err)
		res.Screenshot = nil
	}
	return nil
}

// Screenshots show the page from its top, at most this tall and wide
// (CSS pixels): Chrome refuses surfaces past 16384 px ("Page is too
// large"), and a longer picture helps no reader.
const (
	maxShotHeight = 12000
	maxShotWidth  = 2560
)

// screenshot takes a full-page PNG clipped to the caps.
func screenshot(ctx context.Context) ([]byte, error) {
	w, h := 1280.0, 800.0
	if m, err := chromedp.Call(ctx, page.GetLayoutMetrics, cdp.Empty{}); err == nil && m.CSSContentSize != nil {
		w, h = m.CSSContentSize.Width, m.CSSContentSize.Height
	}
	yes := true
	r, err := chromedp.Call(ctx, page.CaptureScreenshot, page.CaptureScreenshotParams{
		Format:                page.CaptureScreenshotFormatPng,
		Clip:                  &page.Viewport{Width: min(max(w, 1), maxShotWidth), Height: min(max(h, 1), maxShotHeight), Scale: 1},
		CaptureBeyondViewport: &yes,
		FromSurface:           &yes,
		// Chrome's default PNG encoding of a tall page costs about a
		// second of CPU; five tabs at once on two cores then wait on each
		// other. Faster encoding makes larger files, which is cheaper.
		OptimizeForSpeed: &yes,
	})
	if err != nil {
		return nil, fmt.Errorf("screenshot: %w", err)
	}
	return r.Data, nil
}

// navError turns Chrome's net::ERR_* text into an ErrNavigation naming the
// cause; a failed tunnel is looked up in the proxy's log for the reason.
func (b *Browser) navError(url, text string, st *tabState) error {
	cause := text
	switch {
	case strings.Contains(text, "ERR_TUNNEL_CONNECTION_FAILED"):
		if e, ok := b.tunnels.get(hostPort(url)); ok {
			if e.blocked {
				cause = "refused by the SSRF policy: " + e.reason
			} else {
				cause = "connection failed: " + e.reason
			}
		}
	case strings.Contains(text, "ERR_NAME_NOT_RESOLVED"):
		cause = "DNS lookup failed (" + text + ")"
	case strings.Contains(text, "ERR_CERT"), strings.Contains(text, "ERR_SSL"):
		cause = "TLS error (" + text + ")"
	case strings.Contains(text, "ERR_CONNECTION_REFUSED"):
		cause = "connection refused (" + text + ")"
	case strings.Contains(text, "ERR_TOO_MANY_REDIRECTS"):
		cause = "too many redirects (" + text + ")"
	}
	return fmt.Errorf("%w: %s: %s", ErrNavigation, url, cause)
}

func isHTML(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = strings.ToLower(strings.TrimSpace(contentType))
	}
	return mt == "text/html" || mt == "application/xhtml+xml"
}

// hostPort gives the CONNECT target Chrome would use for an https URL.
func hostPort(raw string) string {
	u, err := neturl.Parse(raw)
	if err != nil {
		return ""
	}
	port := u.Port()
	if port == "" {
		port = "443"
		if u.Scheme == "http" {
			port = "80"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	// Drop a rune cut in half (at most 3 bytes of it).
	for i := 0; i < 3 && len(s) > 0; i++ {
		r, size := utf8.DecodeLastRuneInString(s)
		if r != utf8.RuneError || size != 1 {
			break
		}
		s = s[:len(s)-1]
	}
	return s
}
