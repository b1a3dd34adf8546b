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
	// partition is the research the tab serves: a tab has a browser
	// context of its own (cookies, cache, storage) and is never reused
	// for another partition.
	partition string
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

// takeTab returns an idle tab of c that served partition, or opens one
// in a browser context of its own, closing an idle tab of another
// partition to make room.
func (b *Browser) takeTab(c *chrome, partition string) (*tab, error) {
	b.mu.Lock()
	for i := len(c.idle) - 1; i >= 0; i-- {
		t := c.idle[i]
		if t.ctx.Err() != nil {
			c.idle = append(c.idle[:i], c.idle[i+1:]...)
			continue
		}
		if t.partition == partition {
			c.idle = append(c.idle[:i], c.idle[i+1:]...)
			b.mu.Unlock()
			return t, nil
		}
	}
	// With the pool full, the oldest idle tab of another research goes,
	// and with it that research's cookies and storage; closing waits for
	// Chrome, so it happens outside the lock.
	var victim *tab
	if len(c.idle) >= b.opts.MaxTabs {
		for i, t := range c.idle {
			if t.partition != partition {
				c.idle = append(c.idle[:i], c.idle[i+1:]...)
				victim = t
				break
			}
		}
	}
	b.mu.Unlock()
	if victim != nil {
		victim.cancel()
	}
	t := &tab{partition: partition}
	// WithListener attaches before the tab's first command, so no event
	// of a navigation can be missed; WithNewBrowserContext keeps one
	// research's cookies, cache and storage from the next.
	t.ctx, t.cancel = chromedp.NewContext(c.ctx, chromedp.WithNewBrowserContext(), chromedp.WithListener(t.on))
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
	if c.retired || c.dead() || len(c.idle) >= b.opts.MaxTabs {
		b.mu.Unlock()
		t.cancel() // outside the lock: closing waits for Chrome
		return
	}
	c.idle = append(c.idle, t)
	b.mu.Unlock()
}

type partitionKey struct{}

// InPartition marks ctx's fetches as one research's: its pages share
// tabs, cookies and storage with each other and with no other research.
func InPartition(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, partitionKey{}, key)
}

func partitionOf(ctx context.Context) string {
	key, _ := ctx.Value(partitionKey{}).(string)
	return key
}
