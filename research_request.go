package groundwork

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Research request limits.
const (
	// DefaultResearchPages is max_pages when the request leaves it out.
	DefaultResearchPages = 10
	// MaxResearchPages is the most pages one research fetches.
	MaxResearchPages = 50
	// DefaultResearchMaxAge is max_age when the request leaves it out.
	DefaultResearchMaxAge = 24 * time.Hour
	// MaxResearchMaxAge is the oldest cached page a request may accept.
	MaxResearchMaxAge = 30 * 24 * time.Hour
)

// ResearchRequest is the body of POST /v1/research, stored as the run's
// input and checked again by ResearchPrepare.
type ResearchRequest struct {
	Company  string   `json:"company" minLength:"1" maxLength:"200" doc:"The company's name as the report should show it." example:"Northwind Logistics"`
	Domain   string   `json:"domain,omitempty" maxLength:"300" doc:"The company's website: a domain (northwind.example) or an origin (https://northwind.example). Pages are discovered from its home page, robots.txt and sitemap. Give domain or urls, not both." example:"northwind.example"`
	URLs     []string `json:"urls,omitempty" maxItems:"50" doc:"Explicit pages to fetch instead of discovering them."`
	MaxPages int      `json:"max_pages,omitempty" minimum:"1" maximum:"50" doc:"Most pages to fetch when discovering (default 10)."`
	MaxAge   string   `json:"max_age,omitempty" maxLength:"20" doc:"Reuse your copy of a page fetched this recently instead of fetching it again, as a duration like 24h (default) or 0s to always fetch." example:"24h"`
}

// ResearchFieldError is a field error that says whether the field names an
// address the SSRF guard refuses, which the API reports as blocked_url.
type ResearchFieldError struct {
	FieldError
	Blocked bool
}

// URLGuard vets the URLs a research request asks Groundwork to fetch;
// internal/discover.Guard joins the SSRF policy and URL normalisation.
type URLGuard interface {
	// CheckURL returns why raw may not be fetched, nil if it may; blocked
	// is true when the SSRF policy refuses the address it names.
	CheckURL(raw string) (blocked bool, err error)
	// NormalizeURL returns raw in the canonical form pages are stored under.
	NormalizeURL(raw string) (string, error)
}

// Validate checks the request and turns it into the workflow's plan. Field
// names are those of the JSON body.
func (r ResearchRequest) Validate(policy URLGuard) (ResearchPlan, []ResearchFieldError) {
	var errs []ResearchFieldError
	fail := func(field, msg string, blocked bool) {
		errs = append(errs, ResearchFieldError{FieldError: FieldError{Field: field, Message: msg}, Blocked: blocked})
	}
	plan := ResearchPlan{Company: strings.TrimSpace(r.Company), MaxPages: r.MaxPages}
	if plan.Company == "" {
		fail("company", "is required", false)
	}
	if plan.MaxPages == 0 {
		plan.MaxPages = DefaultResearchPages
	}
	if plan.MaxPages < 1 || plan.MaxPages > MaxResearchPages {
		fail("max_pages", fmt.Sprintf("must be between 1 and %d", MaxResearchPages), false)
	}
	maxAge := DefaultResearchMaxAge
	if r.MaxAge != "" {
		d, err := time.ParseDuration(r.MaxAge)
		switch {
		case err != nil:
			fail("max_age", "must be a duration like 24h, 90m or 0s", false)
		case d < 0 || d > MaxResearchMaxAge:
			fail("max_age", "must be between 0s and 720h", false)
		default:
			maxAge = d
		}
	}
	plan.MaxAgeSeconds = int64(maxAge / time.Second)

	switch {
	case r.Domain == "" && len(r.URLs) == 0:
		fail("domain", "give the company's domain or a list of urls", false)
	case r.Domain != "" && len(r.URLs) > 0:
		fail("urls", "give domain or urls, not both", false)
	case r.Domain != "":
		root, host, msg, blocked := parseSite(r.Domain, policy)
		if msg != "" {
			fail("domain", msg, blocked)
		}
		plan.Root, plan.Domain = root, host
	default:
		if len(r.URLs) > MaxResearchPages {
			fail("urls", fmt.Sprintf("at most %d urls", MaxResearchPages), false)
		}
		seen := map[string]bool{}
		for i, raw := range r.URLs {
			u, msg, blocked := parsePage(raw, policy)
			if msg != "" {
				fail(fmt.Sprintf("urls[%d]", i), msg, blocked)
				continue
			}
			if seen[u] {
				continue
			}
			seen[u] = true
			plan.URLs = append(plan.URLs, u)
			if plan.Domain == "" {
				pu, _ := url.Parse(u)
				plan.Domain = pu.Host
			}
		}
		plan.MaxPages = len(plan.URLs)
	}
	return plan, errs
}

// parseSite turns a domain or origin into the home page URL and host.
func parseSite(raw string, policy URLGuard) (root, host, msg string, blocked bool) {
	s := strings.TrimSpace(raw)
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Hostname() == "" {
		return "", "", "must be a domain like northwind.example or an origin like https://northwind.example", false
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", "", "must be a domain or origin without a path; list pages in urls instead", false
	}
	if blocked, err := policy.CheckURL(s); err != nil {
		return "", "", "cannot be fetched: " + err.Error(), blocked
	}
	root, err = policy.NormalizeURL(u.Scheme + "://" + u.Host + "/")
	if err != nil {
		return "", "", "must be a domain like northwind.example: " + err.Error(), false
	}
	nu, _ := url.Parse(root)
	return root, nu.Host, "", false
}

// parsePage checks and normalises one explicit page URL.
func parsePage(raw string, policy URLGuard) (string, string, bool) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || !u.IsAbs() || u.Host == "" {
		return "", "must be an absolute http(s) URL", false
	}
	if blocked, err := policy.CheckURL(u.String()); err != nil {
		return "", "cannot be fetched: " + err.Error(), blocked
	}
	n, err := policy.NormalizeURL(u.String())
	if err != nil {
		return "", "cannot be fetched: " + err.Error(), false
	}
	return n, "", false
}
