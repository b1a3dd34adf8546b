package profile

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/groundwork-dev/groundwork/internal/extractive"
)

const (
	urlHome      = "https://acme.example/"
	urlAbout     = "https://acme.example/about"
	urlProduct   = "https://acme.example/product"
	urlPricing   = "https://acme.example/pricing"
	urlCustomers = "https://acme.example/customers"
	urlCareers   = "https://acme.example/careers"
	urlBlog      = "https://acme.example/blog/post"
)

// TestExtractNorthwind checks every fact of the fixture site, whose blog
// post and customer stories carry traps: healthcare words, another
// company's headcount, a "trusted by" phrase.
func TestExtractNorthwind(t *testing.T) {
	pages := loadSite(t)
	prof := Extract("Northwind Logistics", "northwind.example", pages)
	checkCitations(t, prof, pages)

	if prof.Provider != extractive.Provider || prof.Model != "" {
		t.Errorf("provider %q, model %q; want %q and none", prof.Provider, prof.Model, extractive.Provider)
	}
	facts := []struct {
		name, value, source string
		f                   *Fact
	}{
		{"industry", "logistics", "https://northwind.example/", prof.Industry},
		{"size", "employs about 450 people", "https://northwind.example/about", prof.Size},
		{"hiring", "careers page: 3 job listings", "https://northwind.example/careers", prof.Hiring},
		{"pricing", `free trial ("Start with a 30-day free trial."); per seat ("Dashboard access: $15 per user per month"); usage-based ("EUR 4 per pallet per month"); contact sales ("Contact sales for a custom quote.")`, "https://northwind.example/pricing", prof.PricingModel},
	}
	for _, f := range facts {
		if value(f.f) != f.value || source(f.f) != f.source {
			t.Errorf("%s = %q from %q; want %q from %q", f.name, value(f.f), source(f.f), f.value, f.source)
		}
	}
	if s := prof.Summary; s == nil || s.Source != "https://northwind.example/" || !strings.HasPrefix(s.Value, "Northwind Logistics runs temperature-controlled freight") {
		t.Errorf("summary = %+v; want the home page's lead sentence first", s)
	}
	wantProducts := []Fact{
		{"FreshTrack: FreshTrack gives shippers live temperature and location data for every pallet.", "https://northwind.example/products/freshtrack"},
		{"Live alerts: Get a text message when a pallet warms up.", "https://northwind.example/products/freshtrack"},
		{"Audit reports: Download a temperature log for every delivery, ready for food-safety audits.", "https://northwind.example/products/freshtrack"},
		{"ColdStore: cold-storage warehousing in Gothenburg and Oslo.", "https://northwind.example/"},
	}
	if !reflect.DeepEqual(prof.Products, wantProducts) {
		t.Errorf("products = %+v\nwant %+v", prof.Products, wantProducts)
	}
	wantCustomers := []Fact{
		{"Baltic Dairy Cooperative", "https://northwind.example/"},
		{"Nordic Pharmacy Group", "https://northwind.example/"},
		{"Fjord Seafood", "https://northwind.example/customers"},
	}
	if !reflect.DeepEqual(prof.Customers, wantCustomers) {
		t.Errorf("customers = %+v\nwant %+v", prof.Customers, wantCustomers)
	}
	wantContacts := []Contact{
		// The mailto: addresses come before the JSON-LD one because
		// extract lists link addresses first.
		{KindEmail, "sales@northwind.example", "https://northwind.example/"},
		{KindEmail, "hello@northwind.example", "https://northwind.example/"},
		{KindEmail, "oslo@northwind.example", "https://northwind.example/contact"},
		{KindPhone, "+46 31 123 45 67", "https://northwind.example/"},
		{KindPhone, "+47 22 12 34 56", "https://northwind.example/contact"},
		{KindAddress, "Hamngatan 4, Gothenburg, SE", "https://northwind.example/"},
		{KindContactPage, "https://northwind.example/contact", "https://northwind.example/contact"},
		{KindSocial, "https://www.linkedin.com/company/northwind-logistics", "https://northwind.example/"},
		{KindSocial, "https://x.com/northwind", "https://northwind.example/"},
	}
	if !reflect.DeepEqual(prof.Contacts, wantContacts) {
		t.Errorf("contacts = %+v\nwant %+v", prof.Contacts, wantContacts)
	}
}

// TestExtractDeterministic runs Extract repeatedly, on fresh parses, and
// insists on byte-identical JSON: the profile is stored and diffed.
func TestExtractDeterministic(t *testing.T) {
	first, err := json.Marshal(Extract("Northwind Logistics", "northwind.example", loadSite(t)))
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		again, _ := json.Marshal(Extract("Northwind Logistics", "northwind.example", loadSite(t)))
		if string(again) != string(first) {
			t.Fatalf("Extract gave different profiles for the same pages:\n%s\n%s", first, again)
		}
	}
}

// TestExtractNothingFound checks that pages saying nothing give a profile
// with no facts rather than guesses, and lists that encode as [].
func TestExtractNothingFound(t *testing.T) {
	for name, pages := range map[string][]Page{
		"no pages":    nil,
		"empty pages": {{URL: urlHome, Category: "home"}, {URL: urlAbout, Category: "about"}},
		"thin page":   {parse(t, urlHome, "home", doc("<title>Welcome</title>", "<h1>Hello</h1><p>Coming soon.</p>"))},
	} {
		t.Run(name, func(t *testing.T) {
			prof := Extract("Acme", "acme.example", pages)
			for _, f := range []*Fact{prof.Summary, prof.Industry, prof.PricingModel, prof.Size, prof.Hiring} {
				if f != nil {
					t.Errorf("found fact %+v in pages that state none", *f)
				}
			}
			b, err := json.Marshal(prof)
			if err != nil {
				t.Fatal(err)
			}
			want := `{"provider":"extractive","products":[],"customers":[],"contacts":[]}`
			if string(b) != want {
				t.Errorf("JSON = %s; want %s", b, want)
			}
		})
	}
}

func TestSummary(t *testing.T) {
	long := "<p>Acme builds industrial widgets for factories across Europe. Every widget ships with a ten-year warranty and a field service team. Our widgets keep production lines running day and night.</p>"
	tests := []struct {
		name        string
		pages       []Page
		wantSource  string
		wantPrefix  string
		wantMissing bool
	}{
		{
			name: "home page preferred over a longer blog post",
			pages: []Page{
				parse(t, urlBlog, "blog", doc("", "<p>Widgets matter to factories. Factories run on widgets and widgets run factories. Widget factories build widgets for factories that need widgets. Some widgets fail and factories stop.</p>")),
				parse(t, urlHome, "home", doc("", long)),
			},
			wantSource: urlHome, wantPrefix: "Acme builds industrial widgets",
		},
		{
			name:       "product page when there is no home or about page",
			pages:      []Page{parse(t, urlProduct, "product", doc("", long)), parse(t, urlCareers, "careers", doc("", "<p>Join our widget team in Berlin today. We hire engineers and planners every month.</p>"))},
			wantSource: urlProduct, wantPrefix: "Acme builds industrial widgets",
		},
		{
			name:       "meta description when no page has sentences",
			pages:      []Page{parse(t, urlHome, "home", doc(`<meta name="description" content="Acme builds industrial widgets for factories.">`, "<h1>Acme</h1>"))},
			wantSource: urlHome, wantPrefix: "Acme builds industrial widgets for factories.",
		},
		{
			name:        "nothing to summarise",
			pages:       []Page{parse(t, urlHome, "home", doc("", "<h1>Acme</h1>"))},
			wantMissing: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prof := Extract("Acme", "acme.example", tt.pages)
			checkCitations(t, prof, tt.pages)
			s := prof.Summary
			if tt.wantMissing {
				if s != nil {
					t.Fatalf("summary = %+v; want none", *s)
				}
				return
			}
			if s == nil || s.Source != tt.wantSource || !strings.HasPrefix(s.Value, tt.wantPrefix) {
				t.Fatalf("summary = %+v; want one from %s starting %q", s, tt.wantSource, tt.wantPrefix)
			}
		})
	}
}

func TestIndustry(t *testing.T) {
	tests := []struct {
		name          string
		pages         []Page
		value, source string
	}{
		{
			name: "JSON-LD description",
			pages: []Page{
				parse(t, urlHome, "home", doc("", "<p>Welcome to Acme.</p>")),
				parse(t, urlAbout, "about", doc(`<script type="application/ld+json">{"@type":"Organization","name":"Acme","description":"Cybersecurity for hospitals: threat detection and response."}</script>`, "<p>About Acme.</p>")),
			},
			value: "cybersecurity", source: urlAbout,
		},
		{
			name:  "OpenGraph description",
			pages: []Page{parse(t, urlHome, "home", doc(`<meta property="og:description" content="Freight forwarding and warehousing for retailers.">`, "<p>Hello.</p>"))},
			value: "logistics", source: urlHome,
		},
		{
			name: "body text of the company's own pages",
			pages: []Page{
				parse(t, urlHome, "home", doc("", "<p>We run a manufacturing plant. Our factories make parts.</p>")),
				parse(t, urlAbout, "about", doc("", "<p>Manufacturing is in our blood.</p><p>Our manufacturing engineers build industrial machines.</p>")),
			},
			value: "manufacturing", source: urlAbout,
		},
		{
			name:  "a passing mention is not an industry",
			pages: []Page{parse(t, urlHome, "home", doc("", "<p>We accept payments by card. Ask us anything.</p>"))},
		},
		{
			name:  "a tie is not an industry",
			pages: []Page{parse(t, urlHome, "home", doc("", "<p>We serve hospitals, clinics and patients. We serve banking, lending and payments.</p>"))},
		},
		{
			name: "blog posts and customer stories describe others",
			pages: []Page{
				parse(t, urlHome, "home", doc("", "<p>We help teams work together.</p>")),
				parse(t, urlBlog, "blog", doc("", "<p>Hospitals, clinics, patients and physicians need healthcare.</p>")),
				parse(t, urlCustomers, "customers", doc("", "<p>Hospitals, clinics, patients and physicians need healthcare.</p>")),
			},
		},
		{
			name:  "software counts half",
			pages: []Page{parse(t, urlHome, "home", doc(`<meta name="description" content="Payroll software for restaurants and hotels.">`, ""))},
			value: "hospitality", source: urlHome,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prof := Extract("Acme", "acme.example", tt.pages)
			checkCitations(t, prof, tt.pages)
			if value(prof.Industry) != tt.value || source(prof.Industry) != tt.source {
				t.Errorf("industry = %q from %q; want %q from %q", value(prof.Industry), source(prof.Industry), tt.value, tt.source)
			}
		})
	}
}

func TestProducts(t *testing.T) {
	tests := []struct {
		name  string
		pages []Page
		want  []Fact
	}{
		{
			name:  "product page named by its title",
			pages: []Page{parse(t, urlProduct, "product", doc("<title>Widgetizer | Acme</title>", "<h1>Make widgets faster than ever</h1><p>Widgetizer plans widget production. It runs in the cloud.</p>"))},
			want:  []Fact{{"Widgetizer: Widgetizer plans widget production.", urlProduct}},
		},
		{
			name:  "product page named by its heading when the title is generic",
			pages: []Page{parse(t, urlProduct, "product", doc("<title>Acme</title>", "<h1>Widgetizer</h1><p>Plans widget production.</p>"))},
			want:  []Fact{{"Widgetizer: Plans widget production.", urlProduct}},
		},
		{
			name: "listing page with a heading per product",
			pages: []Page{parse(t, urlProduct, "product", doc("<title>Products | Acme</title>",
				"<h1>Products</h1><h2>Widgetizer</h2><p>Plans widget production. Fast.</p><h2>Gadgeteer</h2><p>Tracks gadgets.</p><h2>Why teams choose Acme for every single widget they build</h2><p>Because.</p>"))},
			want: []Fact{{"Widgetizer: Plans widget production.", urlProduct}, {"Gadgeteer: Tracks gadgets.", urlProduct}},
		},
		{
			name: "features section with list items",
			pages: []Page{parse(t, urlHome, "home", doc("",
				"<p>Acme.</p><h2>Features</h2><ul><li>Scheduling: plan shifts in minutes</li><li>Time tracking — clock in from any phone</li><li>Reports</li></ul><h2>About</h2><ul><li>Not a feature</li></ul>"))},
			want: []Fact{{"Scheduling: plan shifts in minutes", urlHome}, {"Time tracking: clock in from any phone", urlHome}, {"Reports", urlHome}},
		},
		{
			name: "slogans, the company and other sites' sections are not products",
			pages: []Page{
				parse(t, urlProduct, "product", doc("<title>Acme | The best way to build every widget you will ever need</title>", "<h1>The best way to build every widget you will ever need</h1><p>Trust us.</p>")),
				parse(t, urlBlog, "blog", doc("", "<h2>Products</h2><ul><li>Competitor Widget: a rival</li></ul>")),
				parse(t, urlPricing, "pricing", doc("", "<h2>Features</h2><ul><li>SSO</li></ul>")),
			},
			want: []Fact{},
		},
		{
			name: "repeats are dropped",
			pages: []Page{
				parse(t, urlProduct, "product", doc("<title>Widgetizer</title>", "<p>Plans widget production.</p>")),
				parse(t, urlHome, "home", doc("", "<h2>Our products</h2><ul><li>Widgetizer: the planner</li></ul>")),
			},
			want: []Fact{{"Widgetizer: Plans widget production.", urlProduct}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prof := Extract("Acme", "acme.example", tt.pages)
			checkCitations(t, prof, tt.pages)
			if !reflect.DeepEqual(prof.Products, tt.want) {
				t.Errorf("products = %+v\nwant %+v", prof.Products, tt.want)
			}
		})
	}
}

func TestListedCustomers(t *testing.T) {
	tests := []struct {
		sentence string
		want     []string
	}{
		{"Customers include Globex, Initech and Umbrella Corp.", []string{"Globex", "Initech", "Umbrella Corp"}},
		{"Trusted by over 2,000 teams including Globex and Initech.", []string{"Globex", "Initech"}},
		{"Trusted by Fortune 500 companies.", nil},
		{"Used by Globex in Berlin and Initech.", []string{"Globex"}},
		{"We work with Procter & Gamble, 3M and Bank of Åland.", []string{"Procter & Gamble", "3M", "Bank of Åland"}},
		{"Clients such as Globex, Initech and many more rely on us.", []string{"Globex", "Initech"}},
		{"Our customers love us.", nil},
		{"The platform is used by operations teams.", nil},
		{"Trusted by 2,000 teams.", nil},
	}
	for _, tt := range tests {
		if got := listedCustomers(tt.sentence); !slices.Equal(got, tt.want) {
			t.Errorf("listedCustomers(%q) = %q; want %q", tt.sentence, got, tt.want)
		}
	}
}

func TestCaseStudyCustomer(t *testing.T) {
	tests := map[string]string{
		"How Baltic Dairy Cooperative cut spoilage by 30%": "Baltic Dairy Cooperative",
		"How Globex doubled its throughput":                "Globex",
		"Case study: Fjord Seafood":                        "Fjord Seafood",
		"Customer story – Initech moves to the cloud":      "Initech",
		"Globex case study":                                "Globex",
		"How it works":                                     "",
		"How We Work":                                      "",
		"How we helped Globex":                             "",
		"Customer stories":                                 "",
		"Our customers":                                    "",
	}
	for title, want := range tests {
		if got := caseStudyCustomer(title); got != want {
			t.Errorf("caseStudyCustomer(%q) = %q; want %q", title, got, want)
		}
	}
}

func TestCustomers(t *testing.T) {
	tests := []struct {
		name  string
		pages []Page
		want  []Fact
	}{
		{
			name:  "the company is not its own customer",
			pages: []Page{parse(t, urlHome, "home", doc("", "<p>Customers include Acme, Globex and Initech.</p>"))},
			want:  []Fact{{"Globex", urlHome}, {"Initech", urlHome}},
		},
		{
			name: "case-study titles count on customer pages only",
			pages: []Page{
				parse(t, urlCustomers, "customers", doc("<title>How Globex cut costs | Acme</title>", "<h2>How Initech scaled widget output</h2>")),
				parse(t, urlProduct, "product", doc("", "<h2>How Widgetizer saves time</h2>")),
			},
			want: []Fact{{"Globex", urlCustomers}, {"Initech", urlCustomers}},
		},
		{
			name:  "blog posts are ignored",
			pages: []Page{parse(t, urlBlog, "blog", doc("", "<p>Customers include Globex and Initech.</p>"))},
			want:  []Fact{},
		},
		{
			name: "first mention is cited, repeats dropped",
			pages: []Page{
				parse(t, urlHome, "home", doc("", "<p>Trusted by Globex.</p>")),
				parse(t, urlAbout, "about", doc("", "<p>Customers include GLOBEX and Initech.</p>")),
			},
			want: []Fact{{"Globex", urlHome}, {"Initech", urlAbout}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prof := Extract("Acme", "acme.example", tt.pages)
			checkCitations(t, prof, tt.pages)
			if !reflect.DeepEqual(prof.Customers, tt.want) {
				t.Errorf("customers = %+v\nwant %+v", prof.Customers, tt.want)
			}
		})
	}
}

func TestPricingModel(t *testing.T) {
	tests := []struct {
		name, category, body, want string
	}{
		{"free tier", "pricing", "<p>Free forever for up to 3 users.</p>", `free tier ("Free forever for up to 3 users.")`},
		{"zero price", "pricing", "<ul><li>Starter $0/month</li></ul>", `free tier ("Starter $0/month")`},
		{"free trial", "pricing", "<p>Try it free for 14 days.</p>", `free trial ("Try it free for 14 days.")`},
		{"per seat", "pricing", "<ul><li>$12 per user per month</li></ul>", `per seat ("$12 per user per month")`},
		{"per seat with a slash", "pricing", "<p>Team: €8/user/month.</p>", `per seat ("Team: €8/user/month.")`},
		{"usage-based", "pricing", "<p>Pay as you go at $0.002 per API call.</p>", `usage-based ("Pay as you go at $0.002 per API call.")`},
		{"flat subscription", "pricing", "<p>One plan: $49/month for everything.</p>", `flat subscription ("One plan: $49/month for everything.")`},
		{"one-time", "pricing", "<p>A one-time fee of $299 buys a perpetual license.</p>", `one-time ("A one-time fee of $299 buys a perpetual license.")`},
		{"contact sales", "pricing", "<h2>Enterprise</h2><p>Talk to sales.</p>", `contact sales ("Talk to sales.")`},
		{"several models in listing order", "pricing", "<p>Talk to sales.</p><p>Start a free trial today.</p>", `free trial ("Start a free trial today."); contact sales ("Talk to sales.")`},
		{"pricing page without a model", "pricing", "<p>Plans for every team.</p>", ""},
		{"only pricing pages count", "home", "<p>Start a free trial today.</p>", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pages := []Page{parse(t, urlPricing, tt.category, doc("", tt.body))}
			prof := Extract("Acme", "acme.example", pages)
			checkCitations(t, prof, pages)
			if got := value(prof.PricingModel); got != tt.want {
				t.Errorf("pricing model = %q; want %q", got, tt.want)
			}
		})
	}
}

func TestSize(t *testing.T) {
	jsonLD := `<script type="application/ld+json">{"@type":"Organization","name":"Acme","numberOfEmployees":{"@type":"QuantitativeValue","minValue":200,"maxValue":500}}</script>`
	tests := []struct {
		name          string
		pages         []Page
		value, source string
	}{
		{"JSON-LD wins over text", []Page{
			parse(t, urlAbout, "about", doc("", "<p>We have 40 employees.</p>")),
			parse(t, urlHome, "home", doc(jsonLD, "<p>Hello.</p>")),
		}, "200-500 employees", urlHome},
		{"team of", []Page{parse(t, urlAbout, "about", doc("", "<p>We are a team of 40 engineers and designers.</p>"))}, "a team of 40 engineers", urlAbout},
		{"plus", []Page{parse(t, urlAbout, "about", doc("", "<p>500+ employees in 12 countries.</p>"))}, "500+ employees", urlAbout},
		{"employs", []Page{parse(t, urlAbout, "about", doc("", "<p>Acme employs about 450 people.</p>"))}, "employs about 450 people", urlAbout},
		{"person team", []Page{parse(t, urlCareers, "careers", doc("", "<p>Join a 60-person team in Berlin.</p>"))}, "a 60-person team", urlCareers},
		{"about page before home page", []Page{
			parse(t, urlHome, "home", doc("", "<p>More than 1,000 employees trust us.</p>")),
			parse(t, urlAbout, "about", doc("", "<p>Over 80 employees work here.</p>")),
		}, "Over 80 employees", urlAbout},
		{"customer stories state customers' size", []Page{parse(t, urlCustomers, "customers", doc("", "<p>Globex employs 1,200 people.</p>"))}, "", ""},
		{"counts of other things", []Page{parse(t, urlHome, "home", doc("", "<p>2,000 factories and 300 people trust our widgets.</p>"))}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prof := Extract("Acme", "acme.example", tt.pages)
			checkCitations(t, prof, tt.pages)
			if value(prof.Size) != tt.value || source(prof.Size) != tt.source {
				t.Errorf("size = %q from %q; want %q from %q", value(prof.Size), source(prof.Size), tt.value, tt.source)
			}
		})
	}
}

func TestHiring(t *testing.T) {
	tests := []struct {
		name          string
		pages         []Page
		value, source string
	}{
		{"stated number of roles", []Page{parse(t, urlCareers, "careers", doc("", "<p>We have 12 open positions across Europe.</p><h3>Senior Widget Engineer</h3>"))},
			"careers page: 12 open positions", urlCareers},
		{"job titles as headings and links", []Page{parse(t, urlCareers, "careers", doc("",
			`<h2>Senior Widget Engineer</h2><h2>Account Executive, DACH</h2><a href="/careers/sre">Site Reliability Engineer</a><a href="/careers/ae">Account Executive, DACH</a><a href="/developers">Developers</a><a href="/about">Engineering culture</a>`))},
			"careers page: 3 job listings", urlCareers},
		{"no roles", []Page{parse(t, urlCareers, "careers", doc("", "<p>There are no open positions right now. Check back soon.</p>"))},
			"careers page: no open roles listed", urlCareers},
		{"careers page alone", []Page{parse(t, urlCareers, "careers", doc("", "<p>Life at Acme is good.</p>"))},
			"careers page", urlCareers},
		{"the careers page listing most roles", []Page{
			parse(t, urlCareers, "careers", doc("", "<p>Life at Acme is good.</p>")),
			parse(t, urlCareers+"/berlin", "careers", doc("", "<p>3 open roles in Berlin.</p>")),
		}, "careers page: 3 open roles", urlCareers + "/berlin"},
		{"linked careers page", []Page{parse(t, urlHome, "home", doc("", `<p>Hello.</p><a href="https://acme.example/jobs">Join us</a>`))},
			"careers page linked: https://acme.example/jobs", urlHome},
		{"applicant tracking system", []Page{parse(t, urlAbout, "about", doc("", `<a href="https://boards.greenhouse.io/acme">See openings</a>`))},
			"careers page linked: https://boards.greenhouse.io/acme", urlAbout},
		{"no sign of hiring", []Page{parse(t, urlHome, "home", doc("", `<p>Hello.</p><a href="/developers">Developers</a>`))}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prof := Extract("Acme", "acme.example", tt.pages)
			checkCitations(t, prof, tt.pages)
			if value(prof.Hiring) != tt.value || source(prof.Hiring) != tt.source {
				t.Errorf("hiring = %q from %q; want %q from %q", value(prof.Hiring), source(prof.Hiring), tt.value, tt.source)
			}
		})
	}
}

func TestContacts(t *testing.T) {
	tests := []struct {
		name   string
		domain string
		pages  []Page
		want   []Contact
	}{
		{
			name:   "own domain first, placeholders dropped",
			domain: "www.acme.example",
			pages: []Page{parse(t, urlHome, "home", doc("",
				`<a href="mailto:agency@studio.example">Agency</a><a href="mailto:you@example.com">Example</a><a href="mailto:hi@acme.example">Hi</a><a href="mailto:HI@acme.example">Hi again</a>`))},
			want: []Contact{{KindEmail, "hi@acme.example", urlHome}, {KindEmail, "agency@studio.example", urlHome}},
		},
		{
			name:   "contact link when no contact page was fetched",
			domain: "acme.example",
			pages: []Page{parse(t, urlHome, "home", doc("",
				`<a href="https://acme.example/contact-us/">Reach us</a><a href="https://acme.example/team">Get in touch</a><a href="https://acme.example/contact-us">Contact</a>`))},
			want: []Contact{{KindContactPage, "https://acme.example/contact-us/", urlHome}, {KindContactPage, "https://acme.example/team", urlHome}},
		},
		{
			name:   "social profiles, not share links, from the company's own pages",
			domain: "acme.example",
			pages: []Page{
				parse(t, urlHome, "home", doc("", `<a href="https://twitter.com/intent/tweet?text=hi">Tweet</a><a href="https://github.com/acme">GitHub</a><a href="https://www.youtube.com/watch?v=1">Video</a><a href="https://linkedin.com/">LinkedIn</a>`)),
				parse(t, urlBlog, "blog", doc("", `<a href="https://x.com/author">Author</a>`)),
			},
			want: []Contact{{KindSocial, "https://github.com/acme", urlHome}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prof := Extract("Acme", tt.domain, tt.pages)
			checkCitations(t, prof, tt.pages)
			if !reflect.DeepEqual(prof.Contacts, tt.want) {
				t.Errorf("contacts = %+v\nwant %+v", prof.Contacts, tt.want)
			}
		})
	}
}
