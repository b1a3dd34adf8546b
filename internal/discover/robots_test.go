package discover

import (
	"slices"
	"strings"
	"testing"
	"time"
)

const robotsTxt = `# robots for acme.com
Sitemap: https://acme.com/sitemap.xml

User-agent: *
Disallow: /private/
Disallow: /*.pdf$
Disallow: /search
Allow: /private/press-kit
Crawl-delay: 2

User-agent: GroundworkBot
Disallow: /drafts
Crawl-delay: 0.5

User-agent: BadBot
Disallow: /

Sitemap: https://acme.com/sitemap-news.xml
Sitemap: https://acme.com/sitemap.xml
`

func TestRobotsAllowed(t *testing.T) {
	r := ParseRobots(200, []byte(robotsTxt))
	tests := []struct {
		agent, url string
		want       bool
	}{
		{"SomeBot", "https://acme.com/", true},
		{"SomeBot", "https://acme.com", true},
		{"SomeBot", "https://acme.com/about", true},
		{"SomeBot", "https://acme.com/private/x", false},
		{"SomeBot", "https://acme.com/private/press-kit", true}, // longer Allow wins
		{"SomeBot", "https://acme.com/docs/guide.pdf", false},   // wildcard with $ anchor
		{"SomeBot", "https://acme.com/docs/guide.pdf.html", true},
		{"SomeBot", "https://acme.com/search?q=x", false},
		{"SomeBot", "https://acme.com/drafts/1", true},
		// Our own group replaces "*" entirely (RFC 9309 §2.2.1).
		{"GroundworkBot/1.0 (+https://groundwork.dev/bot)", "https://acme.com/drafts/1", false},
		{"groundworkbot", "https://acme.com/private/x", true},
		{"BadBot", "https://acme.com/about", false},
		{"BadBot", "https://acme.com/robots.txt", true}, // always allowed
		{"SomeBot", "://bad url", false},
	}
	for _, tt := range tests {
		if got := r.Allowed(tt.agent, tt.url); got != tt.want {
			t.Errorf("Allowed(%q, %q) = %v, want %v", tt.agent, tt.url, got, tt.want)
		}
	}
}

func TestRobotsQueryMatched(t *testing.T) {
	r := ParseRobots(200, []byte("User-agent: *\nDisallow: /*?sort=\n"))
	if r.Allowed("x", "https://acme.com/list?sort=asc") {
		t.Error("rule on query string not applied")
	}
	if !r.Allowed("x", "https://acme.com/list") {
		t.Error("page without the query wrongly disallowed")
	}
}

func TestRobotsStatus(t *testing.T) {
	disallowAll := []byte("User-agent: *\nDisallow: /\n")
	tests := []struct {
		name   string
		status int
		body   []byte
		want   bool
	}{
		{"200 rules apply", 200, disallowAll, false},
		{"200 empty file allows", 200, nil, true},
		{"404 allows all", 404, disallowAll, true},
		{"403 allows all", 403, nil, true},
		{"410 allows all", 410, nil, true},
		{"429 disallows all", 429, nil, false},
		{"500 disallows all", 500, nil, false},
		{"503 disallows all", 503, []byte("User-agent: *\nAllow: /\n"), false},
		{"fetch error disallows all", 0, nil, false},
		{"unfollowed redirect disallows all", 301, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ParseRobots(tt.status, tt.body)
			if got := r.Allowed("GroundworkBot", "https://acme.com/about"); got != tt.want {
				t.Fatalf("Allowed = %v, want %v", got, tt.want)
			}
			if !r.Allowed("GroundworkBot", "https://acme.com/robots.txt") {
				t.Fatal("/robots.txt must always be allowed")
			}
		})
	}
}

func TestRobotsCrawlDelay(t *testing.T) {
	r := ParseRobots(200, []byte(robotsTxt))
	if got := r.CrawlDelay("SomeBot"); got != 2*time.Second {
		t.Errorf("CrawlDelay(*) = %v, want 2s", got)
	}
	if got := r.CrawlDelay("GroundworkBot/1.0"); got != 500*time.Millisecond {
		t.Errorf("CrawlDelay(GroundworkBot) = %v, want 500ms", got)
	}
	if got := r.CrawlDelay("BadBot"); got != 0 {
		t.Errorf("CrawlDelay(BadBot) = %v, want 0", got)
	}
	for _, status := range []int{404, 500} {
		if got := ParseRobots(status, nil).CrawlDelay("x"); got != 0 {
			t.Errorf("status %d: CrawlDelay = %v, want 0", status, got)
		}
	}
}

func TestRobotsSitemaps(t *testing.T) {
	r := ParseRobots(200, []byte(robotsTxt))
	want := []string{"https://acme.com/sitemap.xml", "https://acme.com/sitemap-news.xml"}
	got := r.Sitemaps()
	if !slices.Equal(got, want) {
		t.Fatalf("Sitemaps = %q, want %q", got, want)
	}
	got[0] = "mutated"
	if r.Sitemaps()[0] != want[0] {
		t.Fatal("Sitemaps exposes internal state")
	}
	if got := ParseRobots(404, nil).Sitemaps(); got != nil {
		t.Errorf("404 Sitemaps = %q, want nil", got)
	}
}

func TestRobotsMalformedLinesSkipped(t *testing.T) {
	// robotstxt alone rejects this whole file; the valid rules must survive.
	body := "\xEF\xBB\xBFDisallow: /orphan\nUser-agent: *\nCrawl-delay: soon\nDisallow: /private\nSitemap: https://acme.com/s.xml\n"
	r := ParseRobots(200, []byte(body))
	if r.Allowed("x", "https://acme.com/private/a") {
		t.Error("valid Disallow lost")
	}
	if !r.Allowed("x", "https://acme.com/orphan") {
		t.Error("rule before any User-agent applied")
	}
	if got := r.Sitemaps(); !slices.Equal(got, []string{"https://acme.com/s.xml"}) {
		t.Errorf("Sitemaps = %q", got)
	}
}

func TestRobotsSizeCap(t *testing.T) {
	// A rule beyond 500 KiB is ignored, as RFC 9309 permits.
	body := "User-agent: *\n" + strings.Repeat("# padding\n", MaxRobotsBytes/10) + "Disallow: /late\n"
	r := ParseRobots(200, []byte(body))
	if !r.Allowed("x", "https://acme.com/late") {
		t.Error("rule past the size cap applied")
	}
	short := ParseRobots(200, []byte("User-agent: *\nDisallow: /late\n"))
	if short.Allowed("x", "https://acme.com/late") {
		t.Error("control: rule not applied")
	}
}

func TestNilRobotsAllowsAll(t *testing.T) {
	var r *Robots
	if !r.Allowed("x", "https://acme.com/a") || r.CrawlDelay("x") != 0 || r.Sitemaps() != nil {
		t.Error("nil *Robots must allow everything")
	}
}
