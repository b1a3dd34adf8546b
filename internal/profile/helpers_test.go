package profile

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/groundwork-dev/groundwork/internal/extract"
)

// sitePage is one fixture page of the Northwind site under testdata.
type sitePage struct {
	file, url, category string
}

// northwind lists the fixture site in crawl order, blog post included so
// that tests can check that heuristics ignore it where they should.
var northwind = []sitePage{
	{"home.html", "https://northwind.example/", "home"},
	{"about.html", "https://northwind.example/about", "about"},
	{"freshtrack.html", "https://northwind.example/products/freshtrack", "product"},
	{"pricing.html", "https://northwind.example/pricing", "pricing"},
	{"customers.html", "https://northwind.example/customers", "customers"},
	{"careers.html", "https://northwind.example/careers", "careers"},
	{"contact.html", "https://northwind.example/contact", "contact"},
	{"blog.html", "https://northwind.example/blog/cold-chains", "blog"},
}

// loadSite parses the fixture pages with extract.Parse, as research does.
func loadSite(t testing.TB) []Page {
	t.Helper()
	var pages []Page
	for _, sp := range northwind {
		b, err := os.ReadFile(filepath.Join("testdata", "northwind", sp.file))
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, parse(t, sp.url, sp.category, string(b)))
	}
	return pages
}

// parse builds a Page from an HTML snippet.
func parse(t testing.TB, url, category, html string) Page {
	t.Helper()
	p, err := extract.Parse(url, []byte(html))
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	return FromExtract(category, p)
}

// doc wraps head and body markup in an HTML page.
func doc(head, body string) string {
	return "<!DOCTYPE html><html lang=\"en\"><head>" + head + "</head><body><main>" + body + "</main></body></html>"
}

// checkCitations fails the test when a fact or contact of prof cites
// anything but the URL of one of pages.
func checkCitations(t *testing.T, prof Profile, pages []Page) {
	t.Helper()
	urls := map[string]bool{}
	for _, p := range pages {
		urls[p.URL] = true
	}
	for _, f := range prof.facts() {
		if !urls[f.Source] {
			t.Errorf("fact %q cites %q, which is not a page URL", f.Value, f.Source)
		}
	}
	for _, c := range prof.Contacts {
		if !urls[c.Source] {
			t.Errorf("contact %s %q cites %q, which is not a page URL", c.Kind, c.Value, c.Source)
		}
	}
}

// value returns f's value, or "" for nil, so tables can say "no fact" as "".
func value(f *Fact) string {
	if f == nil {
		return ""
	}
	return f.Value
}

// source returns f's source, or "" for nil.
func source(f *Fact) string {
	if f == nil {
		return ""
	}
	return f.Source
}
