package activities

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/internal/config"
	"github.com/groundwork-dev/groundwork/internal/discover"
	"github.com/groundwork-dev/groundwork/internal/ssrf"
)

// Discovery limits: a sitemap index may name many sitemaps and a sitemap
// fifty thousand pages; a few sitemaps are plenty to rank ten pages.
const (
	maxSitemapFetches = 4
	maxSitemapBytes   = 10 << 20
	maxPerCategory    = 3
)

// ResearchDiscover plans a run's pages: the home page's links and the
// sitemaps' pages, ranked by how much they tell about a company, without
// the ones robots.txt disallows.
func (a *Research) ResearchDiscover(ctx context.Context, in groundwork.ResearchDiscoverInput) (groundwork.ResearchDiscoverOutput, error) {
	stop := heartbeatEvery(ctx, 5*time.Second, groundwork.PageHeartbeat{URL: in.Root, Phase: "discovering"})
	defer stop()
	robots, err := a.robotsFor(ctx, in.Root)
	if err != nil {
		return groundwork.ResearchDiscoverOutput{}, err
	}
	cands := []discover.Candidate{{URL: in.Root, Source: discover.SourceHome}}
	for _, l := range in.HomeLinks {
		cands = append(cands, discover.Candidate{URL: l.URL, LinkText: l.LinkText, Source: discover.SourceLink})
	}
	sitemapPages := a.sitemapPages(ctx, in.Root, robots)
	for _, u := range sitemapPages {
		cands = append(cands, discover.Candidate{URL: u, Source: discover.SourceSitemap})
	}
	var out groundwork.ResearchDiscoverOutput
	out.SitemapPages = len(sitemapPages)
	allowed := cands[:0]
	for _, c := range cands {
		if robots.Allowed(a.userAgent(), c.URL) {
			allowed = append(allowed, c)
		} else {
			out.Disallowed++
		}
	}
	for _, c := range planPages(in.Root, allowed, in.MaxPages) {
		out.Pages = append(out.Pages, groundwork.PlannedPage{
			URL: c.URL, Category: discover.Category(c.URL, c.LinkText), LinkText: truncate(c.LinkText, 200),
		})
	}
	return out, nil
}

// planPages ranks the candidates with a cap per category, so ten blog
// posts cannot crowd out the pricing page, then fills what the cap left
// free with the best of the rest: a site that is mostly product pages
// still gets max pages researched.
func planPages(root string, cands []discover.Candidate, max int) []discover.Candidate {
	plan := discover.Plan(root, cands, max, maxPerCategory)
	if len(plan) >= max {
		return plan
	}
	chosen := make(map[string]bool, len(plan))
	for _, c := range plan {
		chosen[c.URL] = true
	}
	for _, c := range discover.Plan(root, cands, max, 0) {
		if len(plan) == max {
			break
		}
		if !chosen[c.URL] {
			plan = append(plan, c)
		}
	}
	return plan
}

// sitemapPages reads the sitemaps robots.txt names, else /sitemap.xml,
// following an index a level down, at most once per
// config.ResearchSitemapTTL per worker: the workflow asks twice, once
// while the home page renders and again with its links. A missing or
// broken sitemap only means fewer candidates.
func (a *Research) sitemapPages(ctx context.Context, root string, robots *discover.Robots) []string {
	queue := robots.Sitemaps()
	if len(queue) == 0 {
		queue = []string{strings.TrimSuffix(root, "/") + "/sitemap.xml"}
	}
	// Keyed by the sitemaps read, not the root: a home page that
	// redirected to its canonical URL names the same ones.
	pages, _ := a.sitemaps.get(ctx, strings.Join(queue, " "), config.ResearchSitemapTTL, func(ctx context.Context) ([]string, error) {
		pages := a.readSitemaps(ctx, root, slices.Clone(queue))
		// A read cut short by its caller's end is not the site's answer.
		return pages, ctx.Err()
	})
	return pages
}

func (a *Research) readSitemaps(ctx context.Context, root string, queue []string) []string {
	var pages []string
	seen := map[string]bool{}
	for fetched := 0; len(queue) > 0 && fetched < maxSitemapFetches; {
		u := queue[0]
		queue = queue[1:]
		if seen[u] || !discover.SameSite(root, u) {
			continue
		}
		seen[u] = true
		fetched++
		status, body, err := a.get(ctx, u, maxSitemapBytes)
		if err != nil || status != http.StatusOK {
			a.logDebug("sitemap unavailable", "url", u, "status", status, "error", err)
			continue
		}
		p, more, err := discover.ParseSitemap(body)
		if err != nil && !errors.Is(err, discover.ErrSitemapTruncated) {
			a.logDebug("sitemap unreadable", "url", u, "error", err)
		}
		pages = append(pages, p...)
		queue = append(queue, more...)
	}
	return pages
}

// robotsFor returns the robots.txt of rawURL's origin, read at most once
// per RobotsTTL per worker, and once for all callers asking at the same
// time. An unreachable robots.txt allows everything (as a 404 does); a
// 5xx disallows everything, as the RFC asks.
func (a *Research) robotsFor(ctx context.Context, rawURL string) (*discover.Robots, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return discover.ParseRobots(http.StatusNotFound, nil), nil
	}
	origin := u.Scheme + "://" + u.Host
	ttl := a.RobotsTTL
	if ttl <= 0 {
		ttl = config.DefaultRobotsTTL
	}
	return a.robots.get(ctx, origin, ttl, func(ctx context.Context) (*discover.Robots, error) {
		status, body, err := a.get(ctx, origin+"/robots.txt", discover.MaxRobotsBytes)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			// Unreachable: the page's own fetch will say so.
			status = http.StatusNotFound
		}
		return discover.ParseRobots(status, body), nil
	})
}

// get fetches a small resource (robots.txt, a sitemap) over the SSRF-safe
// client within the domain's rate, reading at most limit bytes.
func (a *Research) get(ctx context.Context, rawURL string, limit int64) (int, []byte, error) {
	if err := a.Policy.CheckURL(rawURL); err != nil {
		return 0, nil, err
	}
	if err := a.takeDomainTurn(ctx, rawURL, 0); err != nil {
		return 0, nil, err
	}
	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return 0, nil, fmt.Errorf("request %s: %w", rawURL, err)
	}
	req.Header.Set("User-Agent", a.userAgent())
	resp, err := a.client().Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("get %s: %w", rawURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("read %s: %w", rawURL, err)
	}
	return resp.StatusCode, body, nil
}

// client is the HTTP client for robots.txt and sitemaps: every dial is
// checked by the SSRF policy, and so is every redirect target.
func (a *Research) client() *http.Client {
	a.httpOnce.Do(func() {
		if a.HTTP != nil {
			return
		}
		d := ssrf.Dialer{Policy: a.Policy, Timeout: 10 * time.Second}
		a.HTTP = &http.Client{
			Transport: &http.Transport{
				DialContext:           d.DialContext,
				Proxy:                 nil, // an environment proxy would dial for us, unchecked
				TLSHandshakeTimeout:   10 * time.Second,
				ResponseHeaderTimeout: 15 * time.Second,
				MaxIdleConnsPerHost:   2,
				IdleConnTimeout:       30 * time.Second,
			},
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if len(via) >= 5 {
					return errors.New("too many redirects")
				}
				return a.Policy.CheckURL(req.URL.String())
			},
		}
	})
	return a.HTTP
}

func (a *Research) userAgent() string {
	if a.UserAgent != "" {
		return a.UserAgent
	}
	return "GroundworkResearch/1.0"
}

func (a *Research) logDebug(msg string, args ...any) {
	if a.Log != nil {
		a.Log.Debug(msg, args...)
	}
}
