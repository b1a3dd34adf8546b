package extract

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
)

func mustParse(t testing.TB, pageURL string, page []byte) Page {
	t.Helper()
	p, err := Parse(pageURL, page)
	if err != nil {
		t.Fatalf("Parse(%q): %v", pageURL, err)
	}
	return p
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func eq[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %#v\nwant %#v", what, got, want)
	}
}

func TestParseCompanyHome(t *testing.T) {
	p := mustParse(t, "https://www.acme.example/en/index.html", fixture(t, "company_home.html"))

	eq(t, "URL", p.URL, "https://www.acme.example/en/index.html")
	eq(t, "Title", p.Title, "Acme Widgets — Industrial widgets since 1987")
	eq(t, "Description", p.Description, "Acme builds industrial widgets for factories across Europe.")
	// rel=Canonical is case-insensitive and "home" resolves against <base>.
	eq(t, "Canonical", p.Canonical, "https://www.acme.example/en/home")
	eq(t, "Lang", p.Lang, "en-GB")
	eq(t, "OpenGraph", p.OpenGraph, map[string]string{
		"og:title":     "Acme Widgets",
		"og:site_name": "Acme",
		"og:image":     "https://cdn.acme.example/og/home.png", // first og:image wins
		"og:type":      "website",
	})

	eq(t, "Organization", p.Organization, &Organization{
		Name:              "Acme Widgets",
		LegalName:         "Acme Widgets GmbH & Co. KG",
		URL:               "https://www.acme.example/",
		Logo:              "https://www.acme.example/static/logo.svg",
		Description:       "Industrial widgets.",
		Email:             "Info@acme.example",
		Telephone:         "+49 30 1234567",
		FoundingDate:      "1987",
		SameAs:            []string{"https://www.linkedin.com/company/acme", "https://x.com/acme"},
		NumberOfEmployees: "200-500",
		Address:           "Widgetstraße 1, Berlin, 10115, DE",
	})

	eq(t, "Links", p.Links, []Link{
		{URL: "https://www.acme.example/en/", Text: "Acme home"},
		{URL: "https://www.acme.example/en/products", Text: "Products"},
		{URL: "https://www.acme.example/en/about", Text: "About us"},
		{URL: "https://jobs.acme.example/", Text: "Careers", Rel: "noopener external"},
		{URL: "https://www.acme.example/contact", Text: "talk to sales"},
		{URL: "https://cdn.acme.example/brochure.pdf", Text: "Brochure"},
	})
	// mailto addresses are kept even though the links are dropped; the
	// Organization's Info@ duplicates INFO@ case-insensitively.
	eq(t, "Emails", p.Emails, []string{"sales@acme.example", "INFO@acme.example"})

	for _, want := range []string{"Widgets that keep factories running", "ten-year warranty", "[talk to sales](https://www.acme.example/contact)"} {
		if !strings.Contains(p.Markdown, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, p.Markdown)
		}
	}
	for _, junk := range []string{"dataLayer", "Skip to content", "Call us", "tracking@"} {
		if strings.Contains(p.Markdown, junk) || strings.Contains(p.Text, junk) {
			t.Errorf("content contains %q:\n%s", junk, p.Markdown)
		}
	}
	if p.WordCount != len(strings.Fields(p.Text)) || p.WordCount < 80 {
		t.Errorf("WordCount = %d for %d fields", p.WordCount, len(strings.Fields(p.Text)))
	}
	if p.Truncated {
		t.Error("small page reported as truncated")
	}
}

func TestParseAboutPageMarkdown(t *testing.T) {
	p := mustParse(t, "https://www.acme.example/about", fixture(t, "about.html"))

	// No <meta name=description>, so og:description stands in.
	eq(t, "Description", p.Description, "The story and people behind Acme Widgets.")
	eq(t, "Organization", p.Organization, (*Organization)(nil))
	for _, want := range []string{
		"## What we do\n",
		"## Leadership\n",
		"- Precision widgets for packaging lines\n- Heavy-duty widgets for steel mills\n- Field service in twelve countries",
		"[history page](https://www.acme.example/about/history)",
	} {
		if !strings.Contains(p.Markdown, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, p.Markdown)
		}
	}
	for _, junk := range []string{"Newsletter", "© 2024", "Products"} {
		if strings.Contains(p.Markdown, junk) {
			t.Errorf("Markdown contains chrome %q:\n%s", junk, p.Markdown)
		}
	}
	if strings.ContainsAny(p.Text, "#*[]") {
		t.Errorf("Text carries Markdown syntax:\n%s", p.Text)
	}
	if !strings.Contains(p.Text, "What we do\n\nWe design") {
		t.Errorf("Text lost paragraph structure:\n%s", p.Text)
	}
}

func TestParseJSONLD(t *testing.T) {
	page := func(blocks ...string) []byte {
		var b strings.Builder
		b.WriteString("<html><head>")
		for _, s := range blocks {
			fmt.Fprintf(&b, `<script type="application/ld+json">%s</script>`, s)
		}
		b.WriteString("</head><body><p>hi</p></body></html>")
		return []byte(b.String())
	}
	tests := []struct {
		name   string
		blocks []string
		want   *Organization
	}{
		{
			name:   "malformed block skipped, later array with subtype used",
			blocks: []string{`{"@type": "Organization", "name": "Broken",`, `[{"@type":"WebPage"},{"@type":"Restaurant","name":"Chez Nous","address":"1 Rue X, Paris"}]`},
			want:   &Organization{Name: "Chez Nous", Address: "1 Rue X, Paris"},
		},
		{
			name:   "only malformed",
			blocks: []string{`{nope}`, ``},
			want:   nil,
		},
		{
			name:   "no organization",
			blocks: []string{`{"@type":"Article","author":{"@type":"Person","name":"X"}}`},
			want:   nil,
		},
		{
			name:   "IRI type, object and array values, relative logo",
			blocks: []string{`<!-- {"@context":"https://schema.org","@type":"https://schema.org/NGO","name":{"@value":"Aid"},"logo":"/l.png","url":{"@id":"https://aid.example/"},"sameAs":"https://fb.example/aid","telephone":["", "tel:+1 555"],"numberOfEmployees":12,"address":[{"@type":"PostalAddress","addressLocality":"Oslo","addressCountry":"NO"}]} -->`},
			want: &Organization{Name: "Aid", Logo: "https://site.example/l.png", URL: "https://aid.example/",
				SameAs: []string{"https://fb.example/aid"}, Telephone: "+1 555", NumberOfEmployees: "12", Address: "Oslo, NO"},
		},
		{
			name:   "nested publisher found when no top-level organization",
			blocks: []string{`{"@type":"WebSite","publisher":{"@type":["Thing","Corporation"],"name":"Pub Inc","numberOfEmployees":{"value":"40"}}}`},
			want:   &Organization{Name: "Pub Inc", NumberOfEmployees: "40"},
		},
		{
			name:   "top-level wins over nested, unknown subtype by suffix",
			blocks: []string{`{"@type":"WebPage","publisher":{"@type":"Organization","name":"Nested"}}`, `{"@type":"FinTechBusiness","name":"Top"}`},
			want:   &Organization{Name: "Top"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustParse(t, "https://site.example/x", page(tc.blocks...))
			eq(t, "Organization", p.Organization, tc.want)
		})
	}
}

func TestParseNoArticleFallsBackToBody(t *testing.T) {
	in := `<html><head><title>Tiny</title><style>p{color:red}</style></head><body>
	<nav><a href="/a">Menu item</a></nav>
	<h1>Tiny Co</h1><p>We make <b>small</b> things.</p>
	<script>console.log("tracker")</script><noscript>Enable JS</noscript>
	<footer>Footer text</footer></body></html>`
	p := mustParse(t, "https://tiny.example/", []byte(in))

	eq(t, "Markdown", p.Markdown, "# Tiny Co\n\nWe make **small** things.")
	eq(t, "Text", p.Text, "Tiny Co\n\nWe make small things.")
	eq(t, "WordCount", p.WordCount, 6)
	// The nav link is chrome for content, but still a link.
	eq(t, "Links", p.Links, []Link{{URL: "https://tiny.example/a", Text: "Menu item"}})
}

func TestParseEmptyInput(t *testing.T) {
	for _, in := range []string{"", "   ", "<html></html>", "\x00\xff"} {
		p := mustParse(t, "https://e.example/", []byte(in))
		if p.URL != "https://e.example/" || p.Organization != nil || len(p.Links) != 0 {
			t.Errorf("%q: unexpected %+v", in, p)
		}
	}
}

func TestParseHugeInputCapped(t *testing.T) {
	para := "Überraschung: Acme liefert Widgets in alle Länder ✓ und bleibt dabei freundlich."
	var b strings.Builder
	b.WriteString("<html><head><title>Big</title></head><body><article>")
	for i := 0; b.Len() < 3*MaxMarkdown; i++ {
		fmt.Fprintf(&b, "<p>%d %s</p>\n", i, para)
	}
	b.WriteString("</article></body></html>")

	p := mustParse(t, "https://big.example/", []byte(b.String()))
	if !p.Truncated {
		t.Error("Truncated = false")
	}
	for name, s := range map[string]string{"Markdown": p.Markdown, "Text": p.Text} {
		if len(s) > MaxMarkdown || len(s) < MaxMarkdown/2 {
			t.Errorf("%s is %d bytes, want within (%d, %d]", name, len(s), MaxMarkdown/2, MaxMarkdown)
		}
		if !utf8.ValidString(s) {
			t.Errorf("%s is not valid UTF-8", name)
		}
		// Cut at a paragraph boundary: the last paragraph is whole.
		if !strings.HasSuffix(s, para) {
			t.Errorf("%s ends mid-paragraph: %q", name, s[len(s)-60:])
		}
	}
	eq(t, "Title", p.Title, "Big")
}

func TestCapAtBoundary(t *testing.T) {
	tests := []struct {
		in    string
		limit int
		want  string
		cut   bool
	}{
		{"short", 10, "short", false},
		{"aaaa\n\nbbbb\ncccc", 14, "aaaa\n\nbbbb", true}, // line break in the second half
		{"aaaaaaaa\n\nbb", 11, "aaaaaaaa", true},         // paragraph break
		{"ab\n\ncdefghijk", 10, "ab\n\ncdefgh", true},    // break too early: hard cut
		{"ééééé", 5, "éé", true},                         // never split a rune
	}
	for _, tc := range tests {
		got, cut := capAtBoundary(tc.in, tc.limit)
		if got != tc.want || cut != tc.cut {
			t.Errorf("capAtBoundary(%q, %d) = %q, %v; want %q, %v", tc.in, tc.limit, got, cut, tc.want, tc.cut)
		}
	}
}

func TestParseCharset(t *testing.T) {
	const body = `<html><head><meta charset="windows-1252"><title>Caf%s M%sller</title></head>` +
		`<body><p>Preis: 5 %s</p></body></html>`
	t.Run("raw windows-1252 bytes are decoded", func(t *testing.T) {
		in := fmt.Sprintf(body, "\xe9", "\xfc", "\x80") // é, ü, € in windows-1252
		p := mustParse(t, "https://cafe.example/", []byte(in))
		eq(t, "Title", p.Title, "Café Müller")
		eq(t, "Text", p.Text, "Preis: 5 €")
	})
	t.Run("browser output stays UTF-8 despite stale meta", func(t *testing.T) {
		in := fmt.Sprintf(body, "é", "ü", "€")
		p := mustParse(t, "https://cafe.example/", []byte(in))
		eq(t, "Title", p.Title, "Café Müller")
		eq(t, "Text", p.Text, "Preis: 5 €")
	})
}

func TestParseInvalidURL(t *testing.T) {
	for _, u := range []string{"", "/relative/path", "ftp://files.example/", "http://", "http://a b/%zz", "mailto:x@y.example"} {
		_, err := Parse(u, []byte("<p>x</p>"))
		if !errors.Is(err, ErrInvalidURL) {
			t.Errorf("Parse(%q) error = %v, want ErrInvalidURL", u, err)
		}
	}
}

func TestParseDeepNesting(t *testing.T) {
	// x/net/html refuses more than 512 open elements; Parse must degrade.
	in := `<html lang="de"><head><title>Deep</title></head><body>` +
		strings.Repeat("<div>", 5000) + `<p>Bottom <a href="/deep">text</a></p>` + strings.Repeat("</div>", 5000) +
		`<p>After</p></body></html>`
	p := mustParse(t, "https://deep.example/", []byte(in))
	eq(t, "Title", p.Title, "Deep")
	eq(t, "Lang", p.Lang, "de")
	eq(t, "Links", p.Links, []Link{{URL: "https://deep.example/deep", Text: "text"}})
	if !strings.Contains(p.Text, "Bottom text") || !strings.Contains(p.Text, "After") {
		t.Errorf("Text lost words: %q", p.Text)
	}
}

func TestMailtoAddresses(t *testing.T) {
	eq(t, "addresses", mailtoAddresses("mailto:a@x.example,%20B@y.example?subject=hi"), []string{"a@x.example", "B@y.example"})
	eq(t, "junk", mailtoAddresses("mailto:not-an-address"), []string(nil))
	eq(t, "dedupe", dedupeEmails([]string{"A@x.example", "a@X.example", "", "bad"}), []string{"A@x.example"})
}

func TestParseConcurrent(t *testing.T) {
	// Parse must share no mutable state; -race checks this.
	home, about := fixture(t, "company_home.html"), fixture(t, "about.html")
	want := mustParse(t, "https://www.acme.example/en/", home)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			in := home
			if i%2 == 1 {
				in = about
			}
			p, err := Parse("https://www.acme.example/en/", in)
			if err != nil {
				t.Error(err)
			}
			if i%2 == 0 && !reflect.DeepEqual(p, want) {
				t.Error("concurrent Parse differs from serial Parse")
			}
		})
	}
	wg.Wait()
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(fixture(f, "company_home.html")))
	f.Add([]byte(fixture(f, "about.html")))
	f.Add([]byte(`<script type="application/ld+json">{"@graph":[{"@type":"Organization","address":[[{}]],"sameAs":{"url":1}}]}</script>`))
	f.Add([]byte("<base href=javascript:x><a href=//h>x</a><a href='mailto:%zz'>"))
	f.Add([]byte(strings.Repeat("<table><td>", 300)))
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := Parse("https://fuzz.example/a/b", in)
		if err != nil {
			t.Fatalf("Parse failed on markup: %v", err)
		}
		if len(p.Markdown) > MaxMarkdown || len(p.Text) > MaxText {
			t.Fatalf("caps exceeded: %d, %d", len(p.Markdown), len(p.Text))
		}
		if !utf8.ValidString(p.Markdown) || !utf8.ValidString(p.Text) {
			t.Fatal("invalid UTF-8 in content")
		}
		for _, l := range p.Links {
			if !strings.HasPrefix(l.URL, "http://") && !strings.HasPrefix(l.URL, "https://") || strings.Contains(l.URL, "#") {
				t.Fatalf("bad link %q", l.URL)
			}
		}
	})
}
