package testsite

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// newSite starts a site that the test closes.
func newSite(t *testing.T, o Options) *Site {
	t.Helper()
	s := New(o)
	t.Cleanup(s.Close)
	return s
}

// get fetches path and returns the response with its whole body.
func get(t *testing.T, s *Site, path string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(s.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return resp, b
}

// decodePage fetches and decodes a page's JSON content.
func decodePage(t *testing.T, s *Site, p PageSpec) (pageJSON, []byte) {
	t.Helper()
	resp, b := get(t, s, p.APIPath)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET %s: %d %s", p.APIPath, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var pj pageJSON
	if err := json.Unmarshal(b, &pj); err != nil {
		t.Fatalf("decode %s: %v", p.APIPath, err)
	}
	return pj, b
}

// text joins every rendered string of a page's content.
func text(pj pageJSON) string {
	parts := []string{pj.Heading}
	for _, s := range pj.Sections {
		parts = append(parts, s.Heading)
		parts = append(parts, s.Paragraphs...)
	}
	for _, l := range pj.Links {
		parts = append(parts, l.Text)
	}
	return strings.Join(parts, "\n")
}

func TestDefaults(t *testing.T) {
	s := newSite(t, Options{})
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") || s.Host() != strings.TrimPrefix(s.URL, "http://") {
		t.Errorf("URL %q, Host %q", s.URL, s.Host())
	}
	pages := s.Pages()
	if len(pages) != DefaultPages+1 {
		t.Fatalf("%d pages, want %d public + 1 private", len(pages), DefaultPages)
	}
	if pages[0].Path != "/" || pages[0].Category != "home" {
		t.Errorf("first page %+v, want home", pages[0])
	}
	last := pages[len(pages)-1]
	if last.Path != PrivatePath || !last.Disallowed {
		t.Errorf("last page %+v, want disallowed %s", last, PrivatePath)
	}
	cats := map[string]int{}
	for _, p := range pages[:len(pages)-1] {
		if p.Disallowed {
			t.Errorf("%s is disallowed", p.Path)
		}
		cats[p.Category]++
	}
	for _, c := range []string{"home", "about", "product", "pricing", "customers", "careers", "blog", "contact"} {
		if cats[c] == 0 {
			t.Errorf("no %s page", c)
		}
	}
	if cats["product"] < 3 || cats["blog"] < 3 {
		t.Errorf("categories %v, want product and blog pages", cats)
	}
	if o := s.Org(); o.Name != DefaultCompany || o.Domain != "northwindlogistics.example" {
		t.Errorf("Org %+v", o)
	}
}

func TestPageCount(t *testing.T) {
	for _, n := range []int{1, 5, 8, 9, 57} {
		s := newSite(t, Options{Pages: n})
		pages := s.Pages()
		if len(pages) != n+1 {
			t.Errorf("Pages: %d: got %d pages, want %d", n, len(pages), n+1)
		}
		seen := map[string]bool{}
		for _, p := range pages {
			if seen[p.Path] || seen[p.Slug] {
				t.Errorf("Pages: %d: duplicate %s", n, p.Path)
			}
			seen[p.Path], seen[p.Slug] = true, true
		}
	}
}

func TestEveryPageServed(t *testing.T) {
	s := newSite(t, Options{RenderDelay: 250 * time.Millisecond})
	markers := map[string]string{}
	shells := map[string]string{}
	words := map[string]int{}
	for _, p := range s.Pages() {
		resp, b := get(t, s, p.Path)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Fatalf("GET %s: %d %s", p.Path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		shell := string(b)
		shells[p.Path] = shell
		for _, want := range []string{
			"<title>" + esc(p.Title) + "</title>",
			`<meta name="description" content="` + esc(p.Description) + `">`,
			`<meta property="og:title" content="` + esc(p.Title) + `">`,
			`<meta property="og:url" content="` + s.URL + p.Path + `">`,
			`<link rel="stylesheet" href="` + StylesheetPath + `">`,
			`<main id="content"`,
			`var src = "` + p.APIPath + `";`,
			"var delay = 250;",
			"setTimeout(",
		} {
			if !strings.Contains(shell, want) {
				t.Errorf("%s lacks %q", p.Path, want)
			}
		}
		pj, raw := decodePage(t, s, p)
		if !bytes.Contains(raw, []byte(p.Marker)) || !strings.Contains(text(pj), p.Marker) {
			t.Errorf("%s: JSON lacks marker %q", p.APIPath, p.Marker)
		}
		if pj.Slug != p.Slug || pj.Title != p.Title || pj.Heading == "" {
			t.Errorf("%s: slug %q title %q heading %q", p.APIPath, pj.Slug, pj.Title, pj.Heading)
		}
		if prev, dup := markers[p.Marker]; dup {
			t.Errorf("marker %q of %s repeats %s", p.Marker, p.Path, prev)
		}
		markers[p.Marker] = p.Path
		words[p.Path] = len(strings.Fields(text(pj)))
	}
	// A marker must not appear in any shell, or finding it would not prove
	// that the script ran.
	for m, owner := range markers {
		for path, shell := range shells {
			if strings.Contains(shell, m) {
				t.Errorf("marker of %s appears in the HTML of %s", owner, path)
			}
		}
	}
	// Realistic amounts of text, and varied lengths so that some full-page
	// screenshots are taller than the viewport and some are not.
	lo, hi := 1<<30, 0
	for path, n := range words {
		if n < 150 && path != "/contact" && path != PrivatePath {
			t.Errorf("%s has only %d words", path, n)
		}
		lo, hi = min(lo, n), max(hi, n)
	}
	if hi < 800 || hi < 4*lo {
		t.Errorf("word counts range %d..%d, want a page of 800+ and 4x variation", lo, hi)
	}
}

func TestContentFacts(t *testing.T) {
	s := newSite(t, Options{})
	o := s.Org()
	byCat := map[string]string{}
	for _, p := range s.Pages() {
		pj, _ := decodePage(t, s, p)
		byCat[p.Slug] = text(pj)
	}
	for slug, wants := range map[string][]string{
		"pricing":   {"Starter $29 per user per month", "Growth $59 per user per month", "free 14-day trial", o.SalesEmail},
		"customers": {"Customers include Baltic Dairy Cooperative, Nordic Pharma"},
		"careers":   {fmt.Sprintf("We have %d open positions", o.OpenPositions), "careers@" + o.Domain},
		"contact":   {o.SalesEmail, o.Telephone, "support@" + o.Domain, o.StreetAddress},
		"about":     {fmt.Sprint(o.Founded), fmt.Sprint(o.Employees)},
	} {
		for _, w := range wants {
			if !strings.Contains(byCat[slug], w) {
				t.Errorf("%s lacks %q", slug, w)
			}
		}
	}
	if strings.Contains(strings.Join(slices.Collect(mapValues(byCat)), "\n"), "{") {
		t.Error("a template placeholder was left unfilled")
	}
	// The index pages link their children.
	idx, _ := decodePage(t, s, s.Pages()[2])
	if len(idx.Links) == 0 || !strings.HasPrefix(idx.Links[0].Href, "/products/") {
		t.Errorf("products page links %v", idx.Links)
	}
}

func mapValues(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

var hrefRE = regexp.MustCompile(`<a href="([^"]+)">([^<]+)</a>`)

func TestHomeMetadataAndLinks(t *testing.T) {
	s := newSite(t, Options{Company: "Acme & Sons Freight"})
	_, b := get(t, s, "/")
	home := string(b)
	o := s.Org()
	for _, want := range []string{
		`<meta property="og:site_name" content="Acme &amp; Sons Freight">`,
		`<meta property="og:image" content="` + s.URL + HeroPath + `">`,
		`<meta property="og:type" content="website">`,
		`<img src="` + HeroPath + `"`,
	} {
		if !strings.Contains(home, want) {
			t.Errorf("home lacks %q", want)
		}
	}
	m := regexp.MustCompile(`(?s)<script type="application/ld\+json">(.*?)</script>`).FindStringSubmatch(home)
	if m == nil {
		t.Fatal("no JSON-LD on the home page")
	}
	var ld struct {
		Context           string `json:"@context"`
		Type              string `json:"@type"`
		Name              string `json:"name"`
		URL               string `json:"url"`
		Logo              string `json:"logo"`
		Description       string `json:"description"`
		Email             string `json:"email"`
		Telephone         string `json:"telephone"`
		Address           map[string]string
		NumberOfEmployees struct{ Value int }
		SameAs            []string
	}
	if err := json.Unmarshal([]byte(m[1]), &ld); err != nil {
		t.Fatalf("JSON-LD: %v\n%s", err, m[1])
	}
	if ld.Context != "https://schema.org" || ld.Type != "Organization" || ld.Name != o.Name || ld.URL != s.URL+"/" ||
		ld.Logo != s.URL+LogoPath || ld.Email != o.Email || ld.Telephone != o.Telephone || ld.Description == "" ||
		ld.Address["streetAddress"] != o.StreetAddress || ld.NumberOfEmployees.Value != o.Employees ||
		!slices.Equal(ld.SameAs, []string{o.LinkedIn}) {
		t.Errorf("JSON-LD %+v, org %+v", ld, o)
	}
	if !strings.HasPrefix(o.LinkedIn, "https://www.linkedin.com/company/acme-sons-freight") {
		t.Errorf("LinkedIn %q", o.LinkedIn)
	}
	// Every page, private included, is linked from home with its anchor text.
	anchors := map[string]string{}
	for _, l := range hrefRE.FindAllStringSubmatch(home, -1) {
		anchors[l[1]] = l[2]
	}
	for _, p := range s.Pages()[1:] {
		if _, ok := anchors[p.Path]; !ok {
			t.Errorf("home does not link %s", p.Path)
		}
	}
	for path, text := range map[string]string{"/about": "About us", "/products": "Products", "/pricing": "Pricing",
		"/customers": "Customers", "/careers": "Careers", "/blog": "Blog", "/contact": "Contact"} {
		if anchors[path] != text {
			t.Errorf("anchor of %s is %q, want %q", path, anchors[path], text)
		}
	}
	if _, ok := anchors[FaultsPath]; ok {
		t.Error("home links the fault pages")
	}
}

func TestSitemap(t *testing.T) {
	s := newSite(t, Options{Pages: 12})
	resp, b := get(t, s, SitemapPath)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/xml") {
		t.Fatalf("sitemap: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var set struct {
		XMLName xml.Name `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 urlset"`
		URLs    []struct {
			Loc     string `xml:"loc"`
			LastMod string `xml:"lastmod"`
		} `xml:"url"`
	}
	if err := xml.Unmarshal(b, &set); err != nil {
		t.Fatalf("sitemap: %v", err)
	}
	var got, want []string
	for _, u := range set.URLs {
		if _, err := time.Parse("2006-01-02", u.LastMod); err != nil {
			t.Errorf("lastmod %q: %v", u.LastMod, err)
		}
		got = append(got, u.Loc)
	}
	for _, p := range s.Pages() {
		want = append(want, s.URL+p.Path)
	}
	if !slices.Equal(got, want) {
		t.Errorf("sitemap lists\n%v\nwant\n%v", got, want)
	}
}

func TestRobots(t *testing.T) {
	s := newSite(t, Options{})
	resp, b := get(t, s, RobotsPath)
	want := "User-agent: *\nDisallow: /private/\n\nSitemap: " + s.URL + SitemapPath + "\n"
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") ||
		!strings.HasSuffix(string(b), want) {
		t.Errorf("robots.txt: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
}

func TestAssets(t *testing.T) {
	s := newSite(t, Options{})
	for path, size := range map[string]int{LogoPath: 64, HeroPath: 1200, faviconPath: 32, "/favicon.ico": 32, "/static/product-1.png": 800} {
		resp, b := get(t, s, path)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" {
			t.Errorf("%s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
			continue
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil || img.Bounds().Dx() != size {
			t.Errorf("%s: %v, bounds %v", path, err, img)
		}
	}
	resp, b := get(t, s, StylesheetPath)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "main h1") {
		t.Errorf("stylesheet: %d %.40q", resp.StatusCode, b)
	}
	if resp, _ := get(t, s, "/static/nope.png"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("missing asset: %d", resp.StatusCode)
	}
}

func TestNotFoundAndRedirects(t *testing.T) {
	s := newSite(t, Options{})
	for _, path := range []string{"/nope", APIPrefix + "nope.json", APIPrefix + "about", FaultsPath, FaultLoop} {
		if resp, _ := get(t, s, path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404 (fault pages only when Hostile)", path, resp.StatusCode)
		}
	}
	resp, err := noRedirects.Get(s.URL + "/about/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/about" {
		t.Errorf("/about/: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}

func TestHits(t *testing.T) {
	s := newSite(t, Options{})
	get(t, s, "/about")
	get(t, s, "/about?utm=1")
	get(t, s, "/pricing")
	if s.Hits("/about") != 2 || s.Hits("/pricing") != 1 || s.Hits(PrivatePath) != 0 || s.Requests() != 3 {
		t.Errorf("hits about %d pricing %d private %d, requests %d", s.Hits("/about"), s.Hits("/pricing"), s.Hits(PrivatePath), s.Requests())
	}
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			resp, err := http.Get(s.URL + "/careers")
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		})
	}
	wg.Wait()
	get(t, s, PrivatePath)
	if s.Hits("/careers") != 40 || s.Hits(PrivatePath) != 1 || s.Requests() != 44 {
		t.Errorf("hits careers %d private %d, requests %d", s.Hits("/careers"), s.Hits(PrivatePath), s.Requests())
	}
}

func TestAPIDelay(t *testing.T) {
	s := newSite(t, Options{APIDelay: 80 * time.Millisecond})
	start := time.Now()
	decodePage(t, s, s.Pages()[0])
	if d := time.Since(start); d < 80*time.Millisecond {
		t.Errorf("API answered after %v, want at least the 80ms delay", d)
	}
}

func TestDeterministic(t *testing.T) {
	o := Options{Pages: 30, Hostile: true}
	a, b := newSite(t, o), newSite(t, o)
	other := newSite(t, Options{Pages: 30, Company: "Baltic Cargo Partners"})
	if !slices.Equal(a.Pages(), b.Pages()) {
		t.Fatal("same options, different pages")
	}
	paths := []string{"/", SitemapPath, RobotsPath, FaultsPath, FaultSubresourceInternal, FaultPDF, HeroPath, StylesheetPath}
	for _, p := range a.Pages() {
		paths = append(paths, p.Path, p.APIPath)
	}
	for _, path := range paths {
		_, ab := get(t, a, path)
		_, bb := get(t, b, path)
		// Only the origin (the port) may differ.
		if got, want := strings.ReplaceAll(string(bb), b.URL, a.URL), string(ab); got != want {
			t.Errorf("%s differs between two sites with the same options", path)
		}
	}
	_, ab := get(t, a, a.Pages()[3].APIPath)
	_, ob := get(t, other, other.Pages()[3].APIPath)
	if bytes.Equal(ab, ob) || !strings.Contains(string(ob), "Baltic Cargo Partners") {
		t.Error("another company gives the same content")
	}
}

// noRedirects is a client that returns redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func TestFaultIndex(t *testing.T) {
	s := newSite(t, Options{Hostile: true})
	_, b := get(t, s, FaultsPath)
	for _, p := range []string{FaultLoop, FaultNever, FaultHuge, FaultPDF, Fault500, Fault404, FaultRedirectInternal, FaultSubresourceInternal, FaultSlow} {
		if !strings.Contains(string(b), `<a href="`+p+`">`) {
			t.Errorf("%s does not link %s", FaultsPath, p)
		}
	}
}

func TestFaultLoop(t *testing.T) {
	s := newSite(t, Options{Hostile: true})
	_, err := http.Get(s.URL + FaultLoop)
	if err == nil || !strings.Contains(err.Error(), "redirects") {
		t.Errorf("GET %s: %v, want too many redirects", FaultLoop, err)
	}
	if s.Hits(FaultLoop) < 10 {
		t.Errorf("loop hit %d times", s.Hits(FaultLoop))
	}
	loc := FaultLoop
	for i := 1; i <= 3; i++ {
		resp, err := noRedirects.Get(s.URL + loc)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc = resp.Header.Get("Location")
		if resp.StatusCode != http.StatusFound || loc != fmt.Sprintf("%s?n=%d", FaultLoop, i) {
			t.Errorf("hop %d: %d to %q", i, resp.StatusCode, loc)
		}
	}
}

func TestFaultStatusesAndPDF(t *testing.T) {
	s := newSite(t, Options{Hostile: true})
	for path, code := range map[string]int{Fault500: 500, Fault404: 404} {
		resp, b := get(t, s, path)
		if resp.StatusCode != code || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(b), "<h1>") {
			t.Errorf("%s: %d %s %.60q", path, resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
	}
	resp, b := get(t, s, FaultPDF)
	if resp.Header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(b, []byte("%PDF-1.4\n")) || !bytes.HasSuffix(b, []byte("%%EOF\n")) {
		t.Errorf("pdf: %s %q…%q", resp.Header.Get("Content-Type"), b[:min(10, len(b))], b[max(0, len(b)-10):])
	}
	// startxref must point at the xref table, or readers reject the file.
	var off int
	if _, err := fmt.Sscanf(string(b[bytes.LastIndex(b, []byte("startxref\n"))+10:]), "%d", &off); err != nil || !bytes.HasPrefix(b[off:], []byte("xref\n")) {
		t.Errorf("startxref %d: %v", off, err)
	}
}

func TestFaultHuge(t *testing.T) {
	s := newSite(t, Options{Hostile: true})
	resp, err := http.Get(s.URL + FaultHuge)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ContentLength != -1 || resp.TransferEncoding == nil {
		t.Errorf("Content-Length %d, transfer encoding %v: want a streamed (chunked) body", resp.ContentLength, resp.TransferEncoding)
	}
	head := make([]byte, 15)
	if _, err := io.ReadFull(resp.Body, head); err != nil || string(head) != "<!doctype html>" {
		t.Errorf("starts %q: %v", head, err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil || n+15 != HugeSize || HugeSize < 30_000_000 {
		t.Errorf("read %d bytes (%v), want %d", n+15, err, HugeSize)
	}
}

func TestFaultRedirectInternal(t *testing.T) {
	s := newSite(t, Options{Hostile: true})
	c := NewCanary()
	t.Cleanup(c.Close)
	for query, want := range map[string]string{"": MetadataURL, "?to=" + c.URL + "/x": c.URL + "/x"} {
		resp, err := noRedirects.Get(s.URL + FaultRedirectInternal + query)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != want {
			t.Errorf("%q: %d to %q, want %q", query, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
	if resp, _ := get(t, s, FaultRedirectInternal+"?to=file:///etc/passwd"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad ?to=: %d", resp.StatusCode)
	}
	if c.Hits() != 0 {
		t.Errorf("canary hit %d times by a client that does not follow redirects", c.Hits())
	}
}

func TestFaultSubresourceInternal(t *testing.T) {
	s := newSite(t, Options{Hostile: true})
	c := NewCanary()
	t.Cleanup(c.Close)
	resp, b := get(t, s, FaultSubresourceInternal+"?to="+c.URL+"/pixel")
	page := string(b)
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "<h1>Integration partners</h1>") {
		t.Fatalf("%d %.80q", resp.StatusCode, page)
	}
	for _, want := range []string{
		`<img src="` + InternalImageURL + `"`, `<iframe src="` + InternalFrameURL + `"`, `"` + InternalFetchURL + `"`,
		`<img src="` + c.URL + `/pixel"`, `<iframe src="` + c.URL + `/pixel"`, `"` + c.URL + `/pixel"]`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestFaultSlow(t *testing.T) {
	s := newSite(t, Options{Hostile: true})
	start := time.Now()
	resp, b := get(t, s, FaultSlow+"?ms=60")
	if d := time.Since(start); resp.StatusCode != http.StatusOK || d < 60*time.Millisecond || !strings.Contains(string(b), "60 milliseconds") {
		t.Errorf("slow: %d after %v", resp.StatusCode, d)
	}
	if resp, _ := get(t, s, FaultSlow+"?ms=soon"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad ms: %d", resp.StatusCode)
	}
	// A client that gives up releases the handler long before its hour.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+FaultSlow+"?ms=3600000", nil)
	if _, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow hour: %v, want deadline exceeded", err)
	}
	if !s.waitFor(func(active, _ int) bool { return active == 0 }, 5*time.Second) {
		t.Error("the slow handler outlived its cancelled request")
	}
}

func TestFaultNever(t *testing.T) {
	s := newSite(t, Options{Hostile: true})
	resp, b := get(t, s, FaultNever)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `src="`+FaultNeverImage+`"`) ||
		!strings.Contains(string(b), `<script async src="`+FaultNeverScript+`">`) || !strings.Contains(string(b), "All shipments are on schedule.") {
		t.Fatalf("never page: %d\n%s", resp.StatusCode, b)
	}
	for _, path := range []string{FaultNeverScript, FaultNeverImage} {
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: headers should arrive: %v", path, err)
		}
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: read ended with %v, want the client's deadline", path, err)
		}
	}
	if !s.waitFor(func(active, _ int) bool { return active == 0 }, 5*time.Second) {
		t.Error("a hanging handler outlived its cancelled request")
	}
}

// TestCloseWithRequestsInFlight closes a site while a never-ending
// subresource, a slow page and an unread huge page are being served.
func TestCloseWithRequestsInFlight(t *testing.T) {
	s := New(Options{Hostile: true})
	closed := make(chan struct{})
	errs := make(chan error, 3)
	go func() { // headers arrive, then the body never ends
		resp, err := http.Get(s.URL + FaultNeverImage)
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		errs <- fmt.Errorf("never: %v", err)
	}()
	go func() { // no headers until an hour has passed
		_, err := http.Get(s.URL + FaultSlow + "?ms=3600000")
		errs <- fmt.Errorf("slow: %v", err)
	}()
	go func() { // the server blocks writing while nobody reads
		resp, err := http.Get(s.URL + FaultHuge)
		if err == nil {
			<-closed
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		errs <- fmt.Errorf("huge: %v", err)
	}()
	if !s.waitFor(func(active, _ int) bool { return active == 3 }, 5*time.Second) {
		t.Fatal("the three requests did not reach the site")
	}
	done := make(chan struct{})
	go func() {
		s.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hangs with requests in flight")
	}
	close(closed)
	for range 3 {
		select {
		case err := <-errs:
			if strings.HasSuffix(err.Error(), "<nil>") {
				t.Errorf("request ended without an error after Close: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a client still waits after Close")
		}
	}
	s.Close() // idempotent
}

func TestCanary(t *testing.T) {
	c := NewCanary()
	defer c.Close()
	if strings.HasPrefix(c.URL, "http://127.0.0.1:") {
		t.Errorf("canary on %s shares the site's address", c.URL)
	}
	for i := range 2 {
		resp, err := http.Get(c.URL + fmt.Sprintf("/latest/meta-data/%d", i))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if c.Hits() != 2 || c.Host() != strings.TrimPrefix(c.URL, "http://") {
		t.Errorf("canary hits %d, host %q", c.Hits(), c.Host())
	}
	c.Close()
	if _, err := http.Get(c.URL); err == nil {
		t.Error("canary still answers after Close")
	}
}
