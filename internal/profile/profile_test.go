package profile

import (
	"html"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSourcesAndSearchText(t *testing.T) {
	p := Profile{
		Summary:   &Fact{"Makes widgets.", "https://acme.example/"},
		Industry:  &Fact{"manufacturing", "https://acme.example/about"},
		Products:  []Fact{{"Widgetizer", "https://acme.example/product"}},
		Customers: []Fact{{"Globex", "https://acme.example/"}},
		Size:      &Fact{"40 employees", "https://acme.example/about"},
		Contacts:  []Contact{{KindEmail, "hi@acme.example", "https://acme.example/contact"}, {KindPhone, "+1 555 0100", ""}},
	}
	wantSources := []string{"https://acme.example/", "https://acme.example/about", "https://acme.example/contact", "https://acme.example/product"}
	if got := p.Sources(); !slices.Equal(got, wantSources) {
		t.Errorf("Sources() = %q; want %q", got, wantSources)
	}
	wantText := "Makes widgets.\nmanufacturing\nWidgetizer\nGlobex\n40 employees\nhi@acme.example\n+1 555 0100"
	if got := p.SearchText(); got != wantText {
		t.Errorf("SearchText() = %q; want %q", got, wantText)
	}
	if got := (Profile{}).Sources(); len(got) != 0 {
		t.Errorf("Sources() of an empty profile = %q", got)
	}
	if got := (Profile{}).SearchText(); got != "" {
		t.Errorf("SearchText() of an empty profile = %q", got)
	}
}

// TestNotesOfSite renders the fixture site within the prompt's input limit
// and checks that every page, and so every URL Extract cites, is there for
// the model to cite.
func TestNotesOfSite(t *testing.T) {
	pages := loadSite(t)
	notes := Notes(pages, 60_000)
	if n := utf8.RuneCountInString(notes); n > 60_000 {
		t.Fatalf("notes have %d characters", n)
	}
	for _, p := range pages {
		if !strings.Contains(notes, `<page url="`+p.URL+`" title="`+html.EscapeString(p.Title)+`" category="`+p.Category+`">`) {
			t.Errorf("notes lack page %s", p.URL)
		}
	}
	for _, src := range Extract("Northwind Logistics", "northwind.example", pages).Sources() {
		if !strings.Contains(notes, `url="`+src+`"`) {
			t.Errorf("cited URL %s is not in the notes", src)
		}
	}
}

func TestLead(t *testing.T) {
	tests := []struct {
		text string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"First para.\n\nSecond para is long.", 20, "First para."},
		{"one long paragraph of words", 12, "one long"},
		{"日本語日本語", 7, "日本"},
	}
	for _, tt := range tests {
		if got := lead(tt.text, tt.n); got != tt.want || len(got) > tt.n || !utf8.ValidString(got) {
			t.Errorf("lead(%q, %d) = %q; want %q", tt.text, tt.n, got, tt.want)
		}
	}
}
