package profile

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// answer decodes a model's JSON answer as prompts.Template.ParseOutput
// returns it.
func answer(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestFromFields(t *testing.T) {
	pages := []Page{
		{URL: "https://northwind.example/", Category: "home"},
		{URL: "https://northwind.example/about", Category: "about"},
		{URL: "https://northwind.example/pricing/", Category: "pricing"},
	}
	tests := []struct {
		name     string
		answer   string
		want     Profile
		warnings []string
	}{
		{
			name: "every fact cited",
			answer: `{
				"summary": {"value": "Northwind runs cold-chain freight.", "source": "https://northwind.example/"},
				"industry": {"value": "logistics", "source": "https://northwind.example/about"},
				"products": [{"value": "FreshTrack: pallet tracking", "source": "https://northwind.example/"}],
				"customers": [{"value": "Baltic Dairy", "source": "https://northwind.example/"}],
				"pricing_model": {"value": "EUR 4 per pallet per month", "source": "https://northwind.example/pricing/"},
				"size": {"value": "about 450 people", "source": "https://northwind.example/about"},
				"hiring": {"value": "6 open positions", "source": "https://northwind.example/"},
				"contacts": [
					{"kind": "social", "value": "https://x.com/northwind", "source": "https://northwind.example/"},
					{"kind": "email", "value": "hello@northwind.example", "source": "https://northwind.example/"}
				]
			}`,
			want: Profile{
				Summary:      &Fact{"Northwind runs cold-chain freight.", "https://northwind.example/"},
				Industry:     &Fact{"logistics", "https://northwind.example/about"},
				Products:     []Fact{{"FreshTrack: pallet tracking", "https://northwind.example/"}},
				Customers:    []Fact{{"Baltic Dairy", "https://northwind.example/"}},
				PricingModel: &Fact{"EUR 4 per pallet per month", "https://northwind.example/pricing/"},
				Size:         &Fact{"about 450 people", "https://northwind.example/about"},
				Hiring:       &Fact{"6 open positions", "https://northwind.example/"},
				Contacts: []Contact{
					{KindEmail, "hello@northwind.example", "https://northwind.example/"},
					{KindSocial, "https://x.com/northwind", "https://northwind.example/"},
				},
			},
		},
		{
			name: "sources written differently cite the fetched URL",
			answer: `{
				"summary": {"value": "Freight.", "source": "HTTPS://Northwind.example:443/about/#team"},
				"size": {"value": "450 people", "source": " https://northwind.example/pricing "},
				"products": [], "customers": [], "contacts": []
			}`,
			want: Profile{
				Summary:  &Fact{"Freight.", "https://northwind.example/about"},
				Size:     &Fact{"450 people", "https://northwind.example/pricing/"},
				Products: []Fact{}, Customers: []Fact{}, Contacts: []Contact{},
			},
		},
		{
			name: "unknown and empty values are left out silently",
			answer: `{
				"summary": {"value": "unknown", "source": ""},
				"industry": {"value": "Unknown.", "source": "https://northwind.example/"},
				"pricing_model": {"value": "  ", "source": ""},
				"size": {"value": "N/A", "source": ""},
				"hiring": null,
				"products": [{"value": "unknown", "source": ""}],
				"customers": [],
				"contacts": [{"kind": "phone", "value": "", "source": ""}]
			}`,
			want: Profile{Products: []Fact{}, Customers: []Fact{}, Contacts: []Contact{}},
		},
		{
			name: "uncited facts are dropped with a warning each",
			answer: `{
				"summary": {"value": "Northwind runs freight.", "source": ""},
				"industry": {"value": "logistics", "source": "https://en.wikipedia.org/wiki/Northwind"},
				"products": [
					{"value": "FreshTrack", "source": "https://northwind.example/"},
					{"value": "ColdStore", "source": "https://northwind.example/coldstore"}
				],
				"customers": [{"value": "Baltic Dairy", "source": "https://northwind.example/"}, {"value": "baltic dairy", "source": "https://northwind.example/"}],
				"size": 450,
				"contacts": [{"kind": "fax", "value": "+46 31 1", "source": "https://northwind.example/"}]
			}`,
			want: Profile{
				Products:  []Fact{{"FreshTrack", "https://northwind.example/"}},
				Customers: []Fact{{"Baltic Dairy", "https://northwind.example/"}},
				Contacts:  []Contact{},
			},
			warnings: []string{
				`summary: dropped "Northwind runs freight.": it cites no source`,
				`industry: dropped "logistics": its source "https://en.wikipedia.org/wiki/Northwind" is not one of the fetched pages`,
				`products[1]: dropped "ColdStore": its source "https://northwind.example/coldstore" is not one of the fetched pages`,
				`size: dropped: expected an object with value and source, got float64`,
				`contacts[0]: dropped "+46 31 1": kind "fax" is not one of email, phone, address, contact_page, social`,
			},
		},
		{
			name:   "a list that is not a list",
			answer: `{"products": "FreshTrack", "customers": [], "contacts": []}`,
			want:   Profile{Products: []Fact{}, Customers: []Fact{}, Contacts: []Contact{}},
			warnings: []string{
				`products: dropped: expected an array, got string`,
			},
		},
		{
			name:   "numbers are values too",
			answer: `{"size": {"value": 450, "source": "https://northwind.example/about"}}`,
			want:   Profile{Size: &Fact{"450", "https://northwind.example/about"}, Products: []Fact{}, Customers: []Fact{}, Contacts: []Contact{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, warnings := FromFields(answer(t, tt.answer), pages)
			if !reflect.DeepEqual(warnings, tt.warnings) {
				t.Errorf("warnings = %q\nwant %q", warnings, tt.warnings)
			}
			if !reflect.DeepEqual(got.Warnings, tt.warnings) {
				t.Errorf("Profile.Warnings = %q; want the returned warnings", got.Warnings)
			}
			got.Warnings = nil
			if !reflect.DeepEqual(got, tt.want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(tt.want)
				t.Errorf("profile = %s\nwant      %s", g, w)
			}
			checkCitations(t, got, pages)
			if got.Provider != "" || got.Model != "" {
				t.Errorf("FromFields set provider %q, model %q; the caller sets them", got.Provider, got.Model)
			}
		})
	}
}

// TestFromFieldsRoundTrip feeds an extractive profile, encoded as the
// prompt's answer would be, back through FromFields: a profile whose facts
// all cite fetched pages must survive unchanged.
func TestFromFieldsRoundTrip(t *testing.T) {
	pages := loadSite(t)
	want := Extract("Northwind Logistics", "northwind.example", pages)
	b, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	got, warnings := FromFields(answer(t, string(b)), pages)
	if len(warnings) > 0 {
		t.Fatalf("warnings: %s", strings.Join(warnings, "\n"))
	}
	got.Provider = want.Provider
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip changed the profile:\n%+v\n%+v", got, want)
	}
}

func TestNormURL(t *testing.T) {
	same := [][2]string{
		{"https://acme.example/about/", "https://acme.example/about"},
		{"https://acme.example/about#team", "https://acme.example/about"},
		{"HTTPS://ACME.example/about", "https://acme.example/about"},
		{"https://acme.example:443/", "https://acme.example"},
		{"http://acme.example:80/a", "http://acme.example/a"},
		{"http://[::1]:8080/a/", "http://[::1]:8080/a"},
		{"https://acme.example/?", "https://acme.example/"},
	}
	for _, p := range same {
		if normURL(p[0]) != normURL(p[1]) {
			t.Errorf("normURL(%q) = %q, normURL(%q) = %q; want equal", p[0], normURL(p[0]), p[1], normURL(p[1]))
		}
	}
	different := [][2]string{
		{"https://acme.example/about", "https://acme.example/About"},
		{"https://acme.example/a?x=1", "https://acme.example/a?x=2"},
		{"http://acme.example/", "https://acme.example/"},
		{"https://acme.example:8443/", "https://acme.example/"},
		{"https://www.acme.example/", "https://acme.example/"},
	}
	for _, p := range different {
		if normURL(p[0]) == normURL(p[1]) {
			t.Errorf("normURL(%q) = normURL(%q) = %q; want different", p[0], p[1], normURL(p[0]))
		}
	}
}
