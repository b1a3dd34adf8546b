// Package testsite serves a believable B2B company website on 127.0.0.1 for
// the research tests and benchmarks: pages whose main content only appears
// after JavaScript fetches it, robots.txt, sitemap.xml, OpenGraph and JSON-LD
// metadata, a stylesheet and images, and (on request) hostile pages that
// misbehave the way real sites do. Content is generated from templates, so
// the same Options always give the same site, and every page carries a
// marker sentence that only a browser that ran the page's script can see.
//
//	site := testsite.New(testsite.Options{Hostile: true})
//	defer site.Close()
//	// research site.URL, then check site.Pages()[i].Marker and site.Hits(testsite.PrivatePath)
package testsite

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Defaults for the zero values of Options.
const (
	// DefaultCompany is the company a Site describes unless Options.Company is set.
	DefaultCompany = "Northwind Logistics"
	// DefaultPages is the number of public content pages unless Options.Pages is set.
	DefaultPages = 20
)

// Fixed paths every Site serves.
const (
	// RobotsPath serves robots.txt, which disallows /private/ for every agent.
	RobotsPath = "/robots.txt"
	// SitemapPath serves a sitemaps.org urlset of every page in Site.Pages.
	SitemapPath = "/sitemap.xml"
	// PrivatePath is linked from the home page and listed in the sitemap but
	// disallowed by robots.txt, so a polite crawler never requests it.
	PrivatePath = "/private/secret"
	// APIPrefix starts the path of every page's JSON content.
	APIPrefix = "/api/pages/"
	// StylesheetPath is the stylesheet every page links.
	StylesheetPath = "/static/site.css"
	// LogoPath is the company logo (PNG), also the JSON-LD logo.
	LogoPath = "/static/logo.png"
	// HeroPath is the large home page image (PNG), also the og:image.
	HeroPath = "/static/hero.png"
)

// Options configures a Site; zero values take the defaults.
type Options struct {
	// Company is the company's name (default DefaultCompany).
	Company string
	// Pages is the number of public content pages including home (default
	// DefaultPages). The disallowed PrivatePath page comes on top.
	Pages int
	// RenderDelay is how long each page's script waits (setTimeout) before
	// it fetches and renders its content.
	RenderDelay time.Duration
	// APIDelay is how long the JSON endpoint waits before it answers.
	APIDelay time.Duration
	// Hostile also serves FaultsPath and the fault pages it links.
	Hostile bool
}

// PageSpec describes one content page, for tests to compare against what
// the research found.
type PageSpec struct {
	// Path is the page's URL path, such as "/pricing" or "/blog/<slug>".
	Path string
	// Slug names the page's JSON content, served at APIPath.
	Slug string
	// APIPath is where the page's script fetches its content from.
	APIPath string
	// Title is the static <title>, also og:title.
	Title string
	// Description is the static meta description, also og:description.
	Description string
	// Category is one of "home", "about", "product", "pricing",
	// "customers", "careers", "blog", "contact" or, for PrivatePath, "private".
	Category string
	// Marker is a sentence that appears only in the script-rendered text, so
	// finding it proves that JavaScript ran.
	Marker string
	// Disallowed says robots.txt forbids the page (only PrivatePath).
	Disallowed bool
}

// Site is a running test website; it is safe for concurrent use.
type Site struct {
	// URL is the site's origin, such as "http://127.0.0.1:41234".
	URL string

	srv     *httptest.Server
	opts    Options
	org     Org
	pages   []page
	byPath  map[string]*page
	bySlug  map[string]*page
	robots  []byte
	sitemap []byte
	faults  []byte
	ctx     context.Context
	cancel  context.CancelFunc
	closing sync.Once

	mu       sync.Mutex
	changed  *sync.Cond // broadcast whenever a handler starts or ends
	hits     map[string]int
	requests int
	active   int
}

// New starts a Site on a local port; Close it when done.
func New(opts Options) *Site {
	if opts.Company == "" {
		opts.Company = DefaultCompany
	}
	if opts.Pages <= 0 {
		opts.Pages = DefaultPages
	}
	s := &Site{opts: opts, hits: make(map[string]int)}
	s.changed = sync.NewCond(&s.mu)
	// The request contexts derive from s.ctx, so Close releases every
	// handler that waits on its request (httptest.Server.Close waits for
	// all handlers to return).
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.Config.BaseContext = func(net.Listener) context.Context { return s.ctx }
	// The URL is known once the listener exists, so every page can be
	// rendered before the first request arrives.
	s.URL = "http://" + s.srv.Listener.Addr().String()
	s.build()
	s.srv.Start()
	return s
}

// Close stops the site promptly, aborting requests still in flight (hanging
// subresources, slow pages, half-read huge pages).
func (s *Site) Close() {
	s.closing.Do(func() {
		s.cancel()
		s.srv.CloseClientConnections()
		s.srv.Close()
	})
}

// Host is the site's host and port, such as "127.0.0.1:41234".
func (s *Site) Host() string { return strings.TrimPrefix(s.URL, "http://") }

// Pages returns the public content pages (home first) followed by the
// disallowed PrivatePath page.
func (s *Site) Pages() []PageSpec {
	out := make([]PageSpec, len(s.pages))
	for i, p := range s.pages {
		out[i] = p.PageSpec
	}
	return out
}

// Org returns the facts the site publishes about its company.
func (s *Site) Org() Org { return s.org }

// Hits is how many requests were made for path (the query is ignored).
func (s *Site) Hits(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// Requests is how many requests the site received in total.
func (s *Site) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// serve counts the request and routes it.
func (s *Site) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.hits[r.URL.Path]++
	s.requests++
	s.active++
	s.changed.Broadcast()
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.active--
		s.changed.Broadcast()
		s.mu.Unlock()
	}()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	s.route(w, r)
}

// waitFor waits until cond holds for the number of running handlers and
// of requests so far, or timeout passes; it reports whether cond held.
// Tests use it to see handlers start and give up without sleeping.
func (s *Site) waitFor(cond func(active, requests int) bool, timeout time.Duration) bool {
	t := time.AfterFunc(timeout, func() {
		s.mu.Lock()
		s.changed.Broadcast()
		s.mu.Unlock()
	})
	defer t.Stop()
	deadline := time.Now().Add(timeout)
	s.mu.Lock()
	defer s.mu.Unlock()
	for !cond(s.active, s.requests) {
		if !time.Now().Before(deadline) {
			return false
		}
		s.changed.Wait()
	}
	return true
}
