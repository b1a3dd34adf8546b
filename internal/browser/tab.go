package browser

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// blankTimeout bounds leaving a page before its tab is reused.
const blankTimeout = 5 * time.Second

// tab is a Chrome tab kept open between pages. Opening a tab starts a
// renderer process, which on a two-core machine costs about a second of
// CPU, as much as rendering the page; reusing one costs a navigation.
type tab struct {
	ctx    context.Context
	cancel context.CancelFunc
	// frame is the main frame's ID, which is the target's.
	frame cdp.FrameID

	mu sync.Mutex
	st *tabState // the page being fetched; nil between pages
}

// on forwards the tab's events to the page being fetched; events of a
// page already left are dropped.
func (t *tab) on(ev any) {
	t.mu.Lock()
	st := t.st
	t.mu.Unlock()
	if st != nil {
		st.on(ev)
	}
}

func (t *tab) use(st *tabState) {
	t.mu.Lock()
	t.st = st
	t.mu.Unlock()
}

// takeTab returns an idle tab of c, or opens one.
func (b *Browser) takeTab(c *chrome) (*tab, error) {
	b.mu.Lock()
	for len(c.idle) > 0 {
		t := c.idle[len(c.idle)-1]
		c.idle = c.idle[:len(c.idle)-1]
		if t.ctx.Err() == nil {
			b.mu.Unlock()
			return t, nil
		}
	}
	b.mu.Unlock()
	t := &tab{}
	// WithListener attaches before the tab's first command, so no event
	// of a navigation can be missed.
	t.ctx, t.cancel = chromedp.NewContext(c.ctx, chromedp.WithListener(t.on))
	if err := chromedp.Do(t.ctx); err != nil { // opens the tab
		t.cancel()
		return nil, fmt.Errorf("browser: open tab: %w", err)
	}
	t.frame = cdp.FrameID(chromedp.FromContext(t.ctx).Target.TargetID)
	return t, nil
}

// blank leaves the page, so nothing of it (timers, hanging requests)
// runs on into the next one; it reports whether the tab is clean.
func (b *Browser) blank(t *tab) bool {
	t.use(nil)
	ctx, cancel := context.WithTimeout(t.ctx, blankTimeout)
	defer cancel()
	_, _ = chromedp.Call(ctx, page.StopLoading, cdp.Empty{})
	nav, err := chromedp.Call(ctx, page.Navigate, page.NavigateParams{URL: "about:blank"})
	return err == nil && nav.ErrorText == ""
}

// putTab returns a clean tab to c's pool, unless c is on its way out.
func (b *Browser) putTab(c *chrome, t *tab) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if c.retired || c.dead() || len(c.idle) >= b.opts.MaxTabs {
		t.cancel()
		return
	}
	c.idle = append(c.idle, t)
}
