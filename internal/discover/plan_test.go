package discover

import (
	"fmt"
	"slices"
	"testing"
)

func urls(cs []Candidate) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.URL
	}
	return out
}

func TestPlanOrderAndFiltering(t *testing.T) {
	cands := []Candidate{
		{URL: "https://acme.com/blog/2019/05/some-post", Source: SourceSitemap},
		{URL: "https://acme.com/privacy", Source: SourceLink},
		{URL: "https://acme.com/logo.png", Source: SourceLink},
		{URL: "https://evil.net/about", Source: SourceLink},
		{URL: "https://acme.com.evil.net/pricing", Source: SourceLink},
		{URL: "mailto:hi@acme.com", Source: SourceLink},
		{URL: "https://www.acme.com/pricing", Source: SourceLink},
		{URL: "https://acme.com/about", Source: SourceLink},
		{URL: "https://acme.com/careers", Source: SourceSitemap},
	}
	got := urls(Plan("https://acme.com", cands, 10, 3))
	want := []string{
		"https://acme.com/", // root added and first even though not a candidate
		"https://acme.com/about",
		"https://www.acme.com/pricing",
		"https://acme.com/careers",
		"https://acme.com/blog/2019/05/some-post",
		"https://acme.com/privacy",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Plan =\n%q\nwant\n%q", got, want)
	}
}

func TestPlanHomeFirstDespiteInputOrder(t *testing.T) {
	cands := []Candidate{
		{URL: "https://acme.com/about", Source: SourceLink},
		{URL: "https://acme.com/?utm_source=x#top", Source: SourceInput},
	}
	got := Plan("https://ACME.com:443", cands, 5, 3)
	if len(got) != 2 || got[0].URL != "https://acme.com/" || got[0].Source != SourceHome {
		t.Fatalf("Plan = %+v, want home first with Source home", got)
	}
}

func TestPlanDedupesByNormalization(t *testing.T) {
	cands := []Candidate{
		{URL: "https://acme.com/p/9", Source: SourceSitemap},
		{URL: "HTTPS://acme.com:443/x/../p/9#top", Source: SourceLink},
		{URL: "https://acme.com/p/9?utm_source=x&ref=y", LinkText: "Pricing", Source: SourceLink},
		{URL: "https://acme.com/about/", Source: SourceLink},
		{URL: "https://acme.com/about", Source: SourceLink}, // different: trailing slash kept
	}
	got := Plan("https://acme.com/", cands, 10, 3)
	if n := len(got); n != 4 {
		t.Fatalf("Plan returned %d pages, want 4: %q", n, urls(got))
	}
	var p9 []Candidate
	for _, c := range got {
		if c.URL == "https://acme.com/p/9" {
			p9 = append(p9, c)
		}
	}
	if len(p9) != 1 {
		t.Fatalf("want /p/9 exactly once, got %d in %q", len(p9), urls(got))
	}
	// The copy with informative link text must win over the bare sitemap one.
	if p9[0].LinkText != "Pricing" {
		t.Errorf("kept duplicate %+v, want the one with link text", p9[0])
	}
}

func TestPlanCategoryCap(t *testing.T) {
	var cands []Candidate
	for i := range 10 {
		cands = append(cands, Candidate{URL: fmt.Sprintf("https://acme.com/blog/post-%d", i), Source: SourceSitemap})
	}
	cands = append(cands, Candidate{URL: "https://acme.com/careers/senior-engineer", Source: SourceSitemap})
	got := Plan("https://acme.com", cands, 10, 3)
	blog := 0
	for _, c := range got {
		if Category(c.URL, c.LinkText) == CategoryBlog {
			blog++
		}
	}
	if blog != 3 {
		t.Errorf("got %d blog pages, want the cap of 3: %q", blog, urls(got))
	}
	if !slices.Contains(urls(got), "https://acme.com/careers/senior-engineer") {
		t.Errorf("lower-scored job ad was crowded out: %q", urls(got))
	}
	// Ties break by shorter path, then URL.
	if got[1].URL != "https://acme.com/blog/post-0" || got[3].URL != "https://acme.com/blog/post-2" {
		t.Errorf("tie order wrong: %q", urls(got))
	}

	// maxPerCategory <= 0 disables the cap.
	if got := Plan("https://acme.com", cands, 100, 0); len(got) != 12 {
		t.Errorf("uncapped Plan returned %d pages, want 12", len(got))
	}
}

func TestPlanMax(t *testing.T) {
	cands := []Candidate{
		{URL: "https://acme.com/about"},
		{URL: "https://acme.com/pricing"},
		{URL: "https://acme.com/products"},
	}
	for _, tt := range []struct {
		max  int
		want []string
	}{
		{0, nil},
		{-1, nil},
		{1, []string{"https://acme.com/"}},
		{3, []string{"https://acme.com/", "https://acme.com/about", "https://acme.com/products"}},
	} {
		got := urls(Plan("https://acme.com", cands, tt.max, 3))
		if !slices.Equal(got, tt.want) {
			t.Errorf("max=%d: Plan = %q, want %q", tt.max, got, tt.want)
		}
	}
}

func TestPlanInvalidRoot(t *testing.T) {
	if got := Plan("acme.com", []Candidate{{URL: "https://acme.com/about"}}, 5, 3); got != nil {
		t.Errorf("Plan with invalid root = %q, want nil", urls(got))
	}
}

func TestPlanDeterministic(t *testing.T) {
	cands := []Candidate{
		{URL: "https://acme.com/b-page"}, {URL: "https://acme.com/a-page"},
		{URL: "https://acme.com/c"}, {URL: "https://acme.com/blog/x"},
	}
	rev := slices.Clone(cands)
	slices.Reverse(rev)
	a, b := urls(Plan("https://acme.com", cands, 10, 3)), urls(Plan("https://acme.com", rev, 10, 3))
	if !slices.Equal(a, b) {
		t.Errorf("Plan depends on input order:\n%q\n%q", a, b)
	}
}
