package groundwork

// ResearchInput starts a Research run; the request itself stays in Postgres.
type ResearchInput struct {
	RunID   string `json:"run_id"`
	OwnerID string `json:"owner_id"`
}

// ResearchPlan is the checked request: what to fetch and how fresh a
// cached page must be to be reused.
type ResearchPlan struct {
	Company string `json:"company"`
	// Domain is the site's host (and port), for display and search.
	Domain string `json:"domain"`
	// Root is the home page to discover from; empty when URLs are given.
	Root string `json:"root,omitempty"`
	// URLs are the explicit pages to fetch instead of discovering them.
	URLs     []string `json:"urls,omitempty"`
	MaxPages int      `json:"max_pages"`
	// MaxAgeSeconds is how old a cached page may be and still be reused.
	MaxAgeSeconds int64 `json:"max_age_seconds"`
}

// PlannedPage is one page a run will fetch.
type PlannedPage struct {
	URL      string `json:"url"`
	Category string `json:"category"`
	// LinkText is the anchor text the page was found with.
	LinkText string `json:"link_text,omitempty"`
}

// ResearchFetchInput asks for one page of a run.
type ResearchFetchInput struct {
	RunID    string      `json:"run_id"`
	OwnerID  string      `json:"owner_id"`
	Page     PlannedPage `json:"page"`
	Position int         `json:"position"`
	// MaxAgeSeconds allows reusing the owner's copy of the page fetched
	// this recently.
	MaxAgeSeconds int64 `json:"max_age_seconds"`
	// WantLinks asks for the page's same-site links (the home page).
	WantLinks bool `json:"want_links,omitempty"`
}

// ResearchFetchOutput is what the workflow needs to know of a fetched page;
// the page itself is in Postgres.
type ResearchFetchOutput struct {
	URL      string `json:"url"`
	FinalURL string `json:"final_url,omitempty"`
	Status   int    `json:"status"`
	Title    string `json:"title,omitempty"`
	Reused   bool   `json:"reused"`
	// ErrorType is set when the page could not be used (robots_disallowed,
	// blocked, unreachable, tls, redirect_loop, http_error, not_html…).
	ErrorType string `json:"error_type,omitempty"`
	Error     string `json:"error,omitempty"`
	// Links are the page's same-site links, when asked for.
	Links []PlannedPage `json:"links,omitempty"`
}

// PageHeartbeat is a browser activity's heartbeat detail: the API shows
// the pages being fetched right now in the run's progress.
type PageHeartbeat struct {
	URL string `json:"url"`
	// Phase is "fetching", "waiting" (for the domain's rate) or "discovering".
	Phase string `json:"phase"`
}

// ResearchDiscoverInput plans a run's pages from its home page.
type ResearchDiscoverInput struct {
	RunID string `json:"run_id"`
	// Root is the home page as it was finally served.
	Root      string        `json:"root"`
	MaxPages  int           `json:"max_pages"`
	HomeLinks []PlannedPage `json:"home_links,omitempty"`
}

// ResearchDiscoverOutput is the plan, home page first.
type ResearchDiscoverOutput struct {
	Pages []PlannedPage `json:"pages"`
	// SitemapPages counts the pages the sitemaps listed.
	SitemapPages int `json:"sitemap_pages"`
	// Disallowed counts candidates robots.txt ruled out.
	Disallowed int `json:"disallowed"`
}

// ResearchSummarizeInput asks for a run's company profile.
type ResearchSummarizeInput struct {
	RunID   string `json:"run_id"`
	OwnerID string `json:"owner_id"`
	Company string `json:"company"`
	Domain  string `json:"domain"`
}

// ResearchReportInput builds a run's report from its pages and summary.
type ResearchReportInput struct {
	RunID   string `json:"run_id"`
	OwnerID string `json:"owner_id"`
	Company string `json:"company"`
	Domain  string `json:"domain"`
	// SummaryError says why the LLM summary is missing, when it failed;
	// the report then falls back to the extractive profile.
	SummaryError string `json:"summary_error,omitempty"`
}

// ResearchOutcome summarises a stored report.
type ResearchOutcome struct {
	Company  string `json:"company"`
	Domain   string `json:"domain"`
	Provider string `json:"provider"`
	Pages    int    `json:"pages"`
	Fetched  int    `json:"fetched"`
	Reused   int    `json:"reused"`
	Failed   int    `json:"failed"`
}

// ResearchRecordInput closes a succeeded Research run.
type ResearchRecordInput struct {
	RunID    string          `json:"run_id"`
	Outcome  ResearchOutcome `json:"outcome"`
	Progress Progress        `json:"progress"`
}

// ResearchResult is a succeeded research run's result as GET /v1/runs/{id}
// shows it; the profile and pages are at GET /v1/research/{id}.
type ResearchResult struct {
	Company   string `json:"company"`
	Domain    string `json:"domain"`
	Provider  string `json:"provider" doc:"Who wrote the profile; \"extractive\" is the offline summarizer, not an LLM."`
	Pages     int    `json:"pages"`
	Fetched   int    `json:"fetched"`
	Reused    int    `json:"reused"`
	Failed    int    `json:"failed"`
	ReportURL string `json:"report_url" doc:"Where the profile and pages are: /v1/research/{id}."`
}
