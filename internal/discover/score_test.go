package discover

import "testing"

func TestCategory(t *testing.T) {
	tests := []struct{ u, text, want string }{
		{"https://acme.com/", "", CategoryHome},
		{"https://acme.com/index.html", "", CategoryHome},
		{"https://acme.com/about", "", CategoryAbout},
		{"https://acme.com/about-us/", "", CategoryAbout},
		{"https://acme.com/company/leadership", "", CategoryAbout},
		{"https://acme.com/en-us/our-mission", "", CategoryAbout},
		{"https://acme.com/products/widget", "", CategoryProduct},
		{"https://acme.com/platform", "", CategoryProduct},
		{"https://acme.com/solutions/retail", "", CategoryProduct},
		{"https://acme.com/pricing", "", CategoryPricing},
		{"https://acme.com/products/widget/plans", "", CategoryPricing},
		{"https://acme.com/customers", "", CategoryCustomers},
		{"https://acme.com/customer-stories/globex", "", CategoryCustomers},
		{"https://acme.com/case-studies/", "", CategoryCustomers},
		{"https://acme.com/careers", "", CategoryCareers},
		{"https://acme.com/company/jobs", "", CategoryCareers},
		{"https://acme.com/blog", "", CategoryBlog},
		{"https://acme.com/blog/our-new-pricing", "", CategoryBlog},
		{"https://acme.com/press", "", CategoryBlog},
		{"https://acme.com/contact-us", "", CategoryContact},
		{"https://acme.com/p/8812", "Pricing & plans", CategoryPricing},
		{"https://acme.com/p/8812", "Meet the team", CategoryAbout},
		{"https://acme.com/p/8812", "Teamwork tips", CategoryOther},
		{"https://acme.com/xyz", "", CategoryOther},
		{"https://acme.com/privacy", "", CategoryOther},
	}
	for _, tt := range tests {
		if got := Category(tt.u, tt.text); got != tt.want {
			t.Errorf("Category(%q, %q) = %q, want %q", tt.u, tt.text, got, tt.want)
		}
	}
}

func TestScoreZero(t *testing.T) {
	for _, u := range []string{
		"https://acme.com/brochure.pdf",
		"https://acme.com/img/logo.PNG",
		"https://acme.com/static/app.js",
		"https://acme.com/static/site.css",
		"https://acme.com/download/tool.zip",
		"https://acme.com/photo.jpg?w=200",
		"https://acme.com/login",
		"https://acme.com/en/signup",
		"https://acme.com/cart",
		"https://acme.com/wp-admin/",
		"https://acme.com/blog/page/4",
		"https://acme.com/blog?page=3",
		"https://acme.com/search?q=widgets",
		"https://acme.com/?s=widgets",
		"mailto:sales@acme.com",
		"tel:+15550100",
		"javascript:void(0)",
		"/relative/about",
		"://bad",
	} {
		if got := Score(u, ""); got != 0 {
			t.Errorf("Score(%q) = %d, want 0", u, got)
		}
	}
	if got := Score("https://acme.com/p/8812", "Log in"); got != 0 {
		t.Errorf("Score with login link text = %d, want 0", got)
	}
}

func TestScoreLow(t *testing.T) {
	// Low but fetchable: boilerplate and archive listings.
	for _, u := range []string{
		"https://acme.com/privacy",
		"https://acme.com/privacy-policy/",
		"https://acme.com/legal/dpa",
		"https://acme.com/company/terms-of-service",
		"https://acme.com/cookies",
		"https://acme.com/blog/tag/golang",
		"https://acme.com/blog/category/news",
		"https://acme.com/news/2019/05",
	} {
		if got := Score(u, ""); got < 1 || got > 2 {
			t.Errorf("Score(%q) = %d, want 1..2", u, got)
		}
	}
	// Item slugs that merely contain a legal word are not legal pages.
	if got := Score("https://acme.com/blog/privacy-by-design", ""); got <= 2 {
		t.Errorf("blog post about privacy scored %d, want a post score", got)
	}
	if got := Score("https://acme.com/tosca-suite", ""); got <= 2 {
		t.Errorf("/tosca-suite scored %d, want above legal", got)
	}
}

// TestScoreOrdering checks pairs where the first page must outrank the second.
func TestScoreOrdering(t *testing.T) {
	pairs := [][2]string{
		{"https://acme.com/", "https://acme.com/about"},
		{"https://acme.com/about", "https://acme.com/products"},
		{"https://acme.com/products", "https://acme.com/pricing"},
		{"https://acme.com/pricing", "https://acme.com/customers"},
		{"https://acme.com/customers", "https://acme.com/careers"},
		{"https://acme.com/careers", "https://acme.com/blog"},
		{"https://acme.com/blog", "https://acme.com/contact"},
		{"https://acme.com/contact", "https://acme.com/random-page"},
		{"https://acme.com/pricing", "https://acme.com/privacy"},
		{"https://acme.com/about", "https://acme.com/blog/2019/05/some-post"},
		{"https://acme.com/blog", "https://acme.com/blog/some-post"},
		{"https://acme.com/blog/some-post", "https://acme.com/blog/2019/05/some-post"},
		{"https://acme.com/careers", "https://acme.com/careers/senior-go-engineer"},
		{"https://acme.com/about", "https://acme.com/about?lang=fr"},
		{"https://acme.com/random-page", "https://acme.com/terms"},
		{"https://acme.com/terms", "https://acme.com/logo.svg"},
	}
	for _, p := range pairs {
		a, b := Score(p[0], ""), Score(p[1], "")
		if a <= b {
			t.Errorf("Score(%q) = %d, not above Score(%q) = %d", p[0], a, p[1], b)
		}
	}
}

func TestScoreIgnoresTrackingAndLocale(t *testing.T) {
	base := Score("https://acme.com/pricing", "")
	for _, u := range []string{
		"https://acme.com/pricing?utm_source=newsletter",
		"https://acme.com/en/pricing",
		"https://acme.com/pricing/",
	} {
		if got := Score(u, ""); got != base {
			t.Errorf("Score(%q) = %d, want %d like /pricing", u, got, base)
		}
	}
}

func TestLinkTextDoesNotOverridePath(t *testing.T) {
	// The path is the stronger signal; link text only helps opaque paths.
	if got := Category("https://acme.com/pricing", "About us"); got != CategoryPricing {
		t.Errorf("Category = %q, want %q", got, CategoryPricing)
	}
	opaque, path := Score("https://acme.com/p/1", "Pricing"), Score("https://acme.com/pricing", "")
	if opaque >= path || opaque <= Score("https://acme.com/p/1", "") {
		t.Errorf("link-text score %d should sit between plain other and /pricing (%d)", opaque, path)
	}
}
