package activities

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"gocloud.dev/blob"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/browser"
	"github.com/groundwork-dev/groundwork/internal/discover"
	"github.com/groundwork-dev/groundwork/internal/extract"
	"github.com/groundwork-dev/groundwork/internal/metrics"
	"github.com/groundwork-dev/groundwork/internal/pglimit"
	"github.com/groundwork-dev/groundwork/internal/ssrf"
)

// Page error types recorded on research pages.
const (
	PageErrRobots       = "robots_disallowed"
	PageErrBlocked      = "blocked"
	PageErrUnreachable  = "unreachable"
	PageErrTLS          = "tls"
	PageErrRedirectLoop = "redirect_loop"
	PageErrNavigation   = "navigation"
	PageErrHTTP         = "http_error"
	PageErrNotHTML      = "not_html"
)

// maxHomeLinks bounds the links a page keeps and the home page hands to
// discovery.
const maxHomeLinks = 500

// Research fetches company web pages politely and safely: robots.txt is
// honoured, each domain gets its share of a rate shared by every worker,
// every connection passes the SSRF policy, and pages are kept per owner so
// none is fetched twice while fresh.
type Research struct {
	Pool   *pgxpool.Pool
	Bucket *blob.Bucket
	// Browser renders pages; nil on processes that do not poll the
	// browser queue.
	Browser *browser.Browser
	Policy  ssrf.Policy
	// UserAgent is sent with robots.txt and sitemap requests and matched
	// against robots.txt rules.
	UserAgent string
	// Domains limits requests per domain ("domain:<host>" keys) with
	// exact slots shared by every worker; nil or a zero rate means no
	// limit.
	Domains *pglimit.SlotLimiter
	// HTTP fetches robots.txt and sitemaps; built on the SSRF dialer when nil.
	HTTP *http.Client
	// RobotsTTL is how long a robots.txt is trusted (default 1h).
	RobotsTTL time.Duration
	Log       *slog.Logger
	// Now is the clock of page freshness; tests replace it.
	Now func() time.Time

	httpOnce sync.Once
	// robots and sitemaps are per origin and per root: read once for the
	// home page and discovery running side by side.
	robots   sharedCache[*discover.Robots]
	sitemaps sharedCache[[]string]
}

func (a *Research) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// ResearchPrepare loads the stored request and checks it again: the
// worker's SSRF policy is the one that counts.
func (a *Research) ResearchPrepare(ctx context.Context, in groundwork.ResearchInput) (groundwork.ResearchPlan, error) {
	req, err := loadRunInput[groundwork.ResearchRequest](ctx, a.Pool, in.RunID, "research")
	if err != nil {
		return groundwork.ResearchPlan{}, err
	}
	plan, errs := req.Validate(discover.Guard{Policy: a.Policy})
	if len(errs) > 0 {
		return groundwork.ResearchPlan{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("invalid research request: %s %s", errs[0].Field, errs[0].Message), groundwork.ErrTypeInvalidInput, nil)
	}
	return plan, nil
}

// ResearchFetch settles one page of a run: the page the run already has,
// else the owner's fresh copy, else a new fetch in Chrome. A page that
// cannot be used (robots, SSRF, DNS, HTTP errors, not HTML) is recorded
// with its error rather than failing the activity; only our own failures
// (Chrome crashed twice, Postgres, the blob store) are retried.
func (a *Research) ResearchFetch(ctx context.Context, in groundwork.ResearchFetchInput) (groundwork.ResearchFetchOutput, error) {
	out, err := a.researchFetch(ctx, in)
	switch {
	case err != nil || out.ErrorType != "":
		metrics.ResearchPages.WithLabelValues("failed").Inc()
	case out.Reused:
		metrics.ResearchPages.WithLabelValues("reused").Inc()
	default:
		metrics.ResearchPages.WithLabelValues("fetched").Inc()
	}
	return out, err
}

func (a *Research) researchFetch(ctx context.Context, in groundwork.ResearchFetchInput) (groundwork.ResearchFetchOutput, error) {
	q := sqlc.New(a.Pool)
	if row, err := q.ResearchRunPageGet(ctx, sqlc.ResearchRunPageGetParams{RunID: in.RunID, Url: in.Page.URL}); err == nil {
		return fetchOutput(in, row.ResearchPage, row.Reused), nil
	} else if !db.IsNotFound(err) {
		return groundwork.ResearchFetchOutput{}, fmt.Errorf("load run page: %w", err)
	}
	category := in.Page.Category
	if category == "" {
		category = discover.Category(in.Page.URL, in.Page.LinkText)
	}
	if in.MaxAgeSeconds > 0 {
		since := a.now().Add(-time.Duration(in.MaxAgeSeconds) * time.Second)
		page, err := q.ResearchPageFresh(ctx, sqlc.ResearchPageFreshParams{OwnerID: in.OwnerID, Url: in.Page.URL, Since: since})
		if err == nil {
			if err := a.link(ctx, q, in, page.ID, category, true); err != nil {
				return groundwork.ResearchFetchOutput{}, err
			}
			return fetchOutput(in, page, true), nil
		}
		if !db.IsNotFound(err) {
			return groundwork.ResearchFetchOutput{}, fmt.Errorf("look up cached page: %w", err)
		}
	}

	row, shot, err := a.fetch(ctx, in)
	if err != nil {
		return groundwork.ResearchFetchOutput{}, err
	}
	var id int64
	err = db.InTx(ctx, a.Pool, func(tx pgx.Tx) error {
		tq := sqlc.New(tx)
		var err error
		if id, err = tq.ResearchPageInsert(ctx, row); err != nil {
			return fmt.Errorf("store page: %w", err)
		}
		return a.link(ctx, tq, in, id, category, false)
	})
	if err != nil {
		if shot != "" {
			// The page row that would have named it is not there.
			_ = a.Bucket.Delete(context.WithoutCancel(ctx), shot)
		}
		return groundwork.ResearchFetchOutput{}, err
	}
	page, err := q.ResearchPageGetForOwner(ctx, sqlc.ResearchPageGetForOwnerParams{ID: id, OwnerID: in.OwnerID})
	if err != nil {
		return groundwork.ResearchFetchOutput{}, fmt.Errorf("load stored page: %w", err)
	}
	return fetchOutput(in, page, false), nil
}

func (a *Research) link(ctx context.Context, q *sqlc.Queries, in groundwork.ResearchFetchInput, pageID int64, category string, reused bool) error {
	_, err := q.ResearchRunPageLink(ctx, sqlc.ResearchRunPageLinkParams{
		RunID: in.RunID, Url: in.Page.URL, PageID: pageID, Position: int32(in.Position), Category: category, Reused: reused,
	})
	if err != nil {
		return fmt.Errorf("add page to run: %w", err)
	}
	return nil
}

// fetch renders the page and returns its row, plus the screenshot's blob
// key when one was stored.
func (a *Research) fetch(ctx context.Context, in groundwork.ResearchFetchInput) (sqlc.ResearchPageInsertParams, string, error) {
	row := sqlc.ResearchPageInsertParams{OwnerID: in.OwnerID, Url: in.Page.URL, Emails: []string{}, Blocked: []string{}}
	fail := func(typ, msg string) (sqlc.ResearchPageInsertParams, string, error) {
		row.ErrorType, row.Error = &typ, &msg
		row.FetchedAt = a.now()
		return row, "", nil
	}
	if a.Browser == nil {
		return row, "", errors.New("this worker has no browser: set GROUNDWORK_CHROME_PATH or install chromium")
	}
	if err := a.Policy.CheckURL(in.Page.URL); err != nil {
		row.Blocked = []string{in.Page.URL}
		return fail(PageErrBlocked, err.Error())
	}
	stop := heartbeatEvery(ctx, 5*time.Second, groundwork.PageHeartbeat{URL: in.Page.URL, Phase: "fetching"})
	defer stop()

	robots, err := a.robotsFor(ctx, in.Page.URL)
	if err != nil {
		return row, "", err
	}
	if !robots.Allowed(a.userAgent(), in.Page.URL) {
		return fail(PageErrRobots, "robots.txt disallows this page for our user agent "+a.userAgent())
	}
	if err := a.takeDomainTurn(ctx, in.Page.URL, robots.CrawlDelay(a.userAgent())); err != nil {
		return row, "", err
	}

	started := time.Now()
	// One browser context per research: nothing of one user's pages is
	// visible to the next research.
	res, err := a.Browser.Fetch(browser.InPartition(ctx, in.RunID), in.Page.URL)
	row.FetchMs = int32(time.Since(started) / time.Millisecond)
	row.FinalUrl, row.Status, row.ContentType = res.FinalURL, int32(res.Status), res.ContentType
	row.Redirects, row.TimedOut = int32(res.Redirects), res.TimedOut
	if res.Blocked != nil {
		row.Blocked = res.Blocked
	}
	if err != nil {
		if ctx.Err() != nil {
			return row, "", ctx.Err()
		}
		if !errors.Is(err, browser.ErrNavigation) {
			return row, "", fmt.Errorf("render %s: %w", in.Page.URL, err) // Chrome itself failed: retry
		}
		return fail(navErrorType(err), err.Error())
	}
	if res.Status >= 400 {
		return fail(PageErrHTTP, fmt.Sprintf("the server answered HTTP %d", res.Status))
	}
	if res.HTML == nil {
		return fail(PageErrNotHTML, fmt.Sprintf("not an HTML page (%s)", res.ContentType))
	}

	page, err := extract.Parse(or(res.FinalURL, in.Page.URL), res.HTML)
	if err != nil {
		return fail(PageErrNavigation, "cannot read the page: "+err.Error())
	}
	fillPage(&row, page, res)
	row.FetchedAt = a.now()

	if len(res.Screenshot) == 0 {
		return row, "", nil
	}
	key := fmt.Sprintf("research/%s/%s.png", in.OwnerID, randomHex(12))
	err = a.Bucket.WriteAll(ctx, key, res.Screenshot, &blob.WriterOptions{ContentType: "image/png"})
	if err != nil {
		return row, "", fmt.Errorf("store screenshot: %w", err)
	}
	row.ScreenshotKey, row.ScreenshotBytes = &key, int64(len(res.Screenshot))
	return row, key, nil
}

// fillPage copies what extract found into the page row.
func fillPage(row *sqlc.ResearchPageInsertParams, page extract.Page, res browser.Result) {
	row.Title = or(page.Title, res.Title)
	row.Description, row.Lang = page.Description, page.Lang
	row.Markdown, row.Text = page.Markdown, page.Text
	row.WordCount, row.Truncated = int32(page.WordCount), page.Truncated
	if page.Emails != nil {
		row.Emails = page.Emails
	}
	if len(page.OpenGraph) > 0 {
		row.Opengraph, _ = json.Marshal(page.OpenGraph)
	}
	if page.Organization != nil {
		row.Organization, _ = json.Marshal(page.Organization)
	}
	links := page.Links
	if len(links) > maxHomeLinks {
		links = links[:maxHomeLinks]
	}
	if len(links) > 0 {
		row.Links, _ = json.Marshal(links)
	}
}

// fetchOutput tells the workflow what became of a page.
func fetchOutput(in groundwork.ResearchFetchInput, p sqlc.ResearchPage, reused bool) groundwork.ResearchFetchOutput {
	out := groundwork.ResearchFetchOutput{
		URL: in.Page.URL, FinalURL: p.FinalUrl, Status: int(p.Status), Title: p.Title, Reused: reused,
	}
	if p.ErrorType != nil {
		out.ErrorType = *p.ErrorType
	}
	if p.Error != nil {
		out.Error = *p.Error
	}
	if !in.WantLinks || len(p.Links) == 0 {
		return out
	}
	var links []extract.Link
	if err := json.Unmarshal(p.Links, &links); err != nil {
		return out
	}
	base := or(p.FinalUrl, p.Url)
	seen := map[string]bool{}
	for _, l := range links {
		n, err := discover.Normalize(l.URL)
		if err != nil || seen[n] || !discover.SameSite(base, n) {
			continue
		}
		seen[n] = true
		out.Links = append(out.Links, groundwork.PlannedPage{URL: n, LinkText: truncate(l.Text, 200)})
		if len(out.Links) == maxHomeLinks {
			break
		}
	}
	return out
}

// navErrorType classifies a navigation failure by the cause the browser
// package put into its message.
func navErrorType(err error) string {
	msg := err.Error()
	switch {
	case errors.Is(err, ssrf.ErrBlocked), strings.Contains(msg, "SSRF"):
		return PageErrBlocked
	case strings.Contains(msg, "DNS lookup failed"), strings.Contains(msg, "refused"),
		strings.Contains(msg, "ERR_ADDRESS_UNREACHABLE"), strings.Contains(msg, "connection failed"):
		return PageErrUnreachable
	case strings.Contains(msg, "TLS error"):
		return PageErrTLS
	case strings.Contains(msg, "too many redirects"):
		return PageErrRedirectLoop
	}
	return PageErrNavigation
}

// maxCrawlDelay bounds the share of a domain's time one request takes for
// a robots.txt crawl delay: a site asking for minutes would stall a run.
const maxCrawlDelay = 10 * time.Second

// takeDomainTurn reserves the domain's next slot of the request rate and
// sleeps until it; a robots.txt crawl delay longer than the rate's interval
// makes the request's slot that long. The request need not go within a
// tolerance of its slot (no Hold): politeness is about the average rate,
// and a page that starts a little late only leaves more room after it.
func (a *Research) takeDomainTurn(ctx context.Context, rawURL string, crawlDelay time.Duration) error {
	if a.Domains == nil || a.Domains.PerSecond <= 0 {
		return nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil
	}
	n := max(min(crawlDelay, maxCrawlDelay).Seconds()*a.Domains.PerSecond, 1)
	_, err = a.Domains.ReserveN(ctx, "domain:"+strings.ToLower(u.Hostname()), n, func(time.Duration) {
		activity.RecordHeartbeat(ctx, groundwork.PageHeartbeat{URL: rawURL, Phase: "waiting"})
	})
	if err != nil {
		return fmt.Errorf("domain rate limit: %w", err)
	}
	return nil
}

// heartbeatEvery heartbeats until stop is called, so a page that takes its
// whole timeout still shows the worker alive.
func heartbeatEvery(ctx context.Context, every time.Duration, details any) (stop func()) {
	if !activity.IsActivity(ctx) {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		activity.RecordHeartbeat(ctx, details)
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx, details)
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
