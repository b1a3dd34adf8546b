package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"
	"gocloud.dev/gcerrors"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/discover"
	"github.com/groundwork-dev/groundwork/internal/document"
	"github.com/groundwork-dev/groundwork/internal/profile"
)

// screenshotRoute is the route of a page's screenshot; like downloads, a
// signed link opens it without a token so an <img> can show it.
const screenshotRoute = "/v1/research/{id}/pages/{page}/screenshot"

type startResearchInput struct {
	StartHeaders
	Body    groundwork.ResearchRequest
	RawBody []byte
}

// ResearchPage is one page of a research report.
type ResearchPage struct {
	ID          int64     `json:"id"`
	URL         string    `json:"url" doc:"The page as planned (normalised)."`
	FinalURL    string    `json:"final_url,omitempty" doc:"Where it ended after redirects."`
	Status      int       `json:"status" doc:"HTTP status of the document; 0 when it never answered."`
	Category    string    `json:"category" doc:"home, about, product, pricing, customers, careers, blog, contact or other."`
	Title       string    `json:"title,omitempty"`
	Description string    `json:"description,omitempty"`
	WordCount   int       `json:"word_count"`
	Truncated   bool      `json:"truncated,omitempty" doc:"The page was longer than the kept text."`
	TimedOut    bool      `json:"timed_out,omitempty" doc:"The page had not finished loading at the page timeout; what it showed by then is kept."`
	Reused      bool      `json:"reused" doc:"Served from your copy fetched within max_age rather than fetched again."`
	FetchedAt   time.Time `json:"fetched_at"`
	FetchMS     int       `json:"fetch_ms"`
	Blocked     []string  `json:"blocked,omitempty" doc:"Redirects and subresources the SSRF guard refused."`
	Error       *RunError `json:"error,omitempty" doc:"Why the page could not be used (robots_disallowed, blocked, unreachable, tls, redirect_loop, http_error, not_html, navigation)."`
	// ScreenshotURL is a signed link valid for 15 minutes.
	ScreenshotURL string `json:"screenshot_url,omitempty" doc:"A full-page PNG; a signed link valid for 15 minutes."`
	Markdown      string `json:"markdown,omitempty" doc:"The main content as Markdown, with ?content=true."`
}

// ResearchReport is a succeeded research: the company profile and its pages.
type ResearchReport struct {
	ID        string          `json:"id" doc:"The research run's ID."`
	Company   string          `json:"company"`
	Domain    string          `json:"domain"`
	CreatedAt time.Time       `json:"created_at"`
	Profile   profile.Profile `json:"profile" doc:"Every fact cites the page it comes from; provider \"extractive\" means no LLM wrote it."`
	Fetched   int             `json:"fetched"`
	Reused    int             `json:"reused"`
	Failed    int             `json:"failed"`
	Pages     []ResearchPage  `json:"pages"`
}

type researchReportInput struct {
	ID      string `path:"id" maxLength:"100" doc:"Research run ID."`
	Content bool   `query:"content" doc:"Include each page's Markdown."`
}

type researchReportOutput struct {
	Body ResearchReport
}

// ResearchHit is one report of a search.
type ResearchHit struct {
	ID        string    `json:"id"`
	Company   string    `json:"company"`
	Domain    string    `json:"domain"`
	Provider  string    `json:"provider"`
	CreatedAt time.Time `json:"created_at"`
	Rank      float64   `json:"rank,omitempty" doc:"Relevance to q; higher is better."`
}

type searchResearchInput struct {
	Q     string `query:"q" maxLength:"200" doc:"Full-text query over your reports (company, profile and page text): words, \"quoted phrases\", or, -excluded. Empty lists the newest."`
	Limit int    `query:"limit" minimum:"1" maximum:"100" default:"20"`
}

type searchResearchOutput struct {
	Body struct {
		Reports []ResearchHit `json:"reports"`
	}
}

type screenshotInput struct {
	ID        string `path:"id" maxLength:"100" doc:"Research run ID."`
	Page      int64  `path:"page" doc:"Page ID from the report."`
	Expires   string `query:"expires" doc:"Set by signed links."`
	Signature string `query:"signature" doc:"Set by signed links."`
}

func (s *Server) registerResearch() {
	huma.Register(s.api, huma.Operation{
		OperationID:   "start-research",
		Method:        http.MethodPost,
		Path:          "/v1/research",
		Summary:       "Research a company",
		Description:   "Discovers the pages of a company's website that matter (or takes the urls given), renders them in headless Chrome politely (robots.txt, a per-domain rate) and safely (every connection must reach a public address), and summarises them into a profile whose facts cite their pages. Pages you fetched within max_age are reused. 422 blocked_url for a URL that points at a private, loopback, link-local or metadata address.",
		Tags:          []string{"research"},
		DefaultStatus: http.StatusAccepted,
		Errors:        []int{400, 401, 409, 413, 422, 429, 503},
	}, func(ctx context.Context, in *startResearchInput) (*startRunOutput, error) {
		plan, errs := in.Body.Validate(discover.Guard{Policy: s.d.ResearchPolicy})
		if len(errs) == 0 && plan.Root != "" {
			errs = s.checkResolvedHost(ctx, plan.Root)
		}
		if len(errs) > 0 {
			slug, detail := groundwork.SlugValidation, "the research request is invalid"
			fields := make([]document.FieldError, len(errs))
			for i, e := range errs {
				fields[i] = e.FieldError
				if e.Blocked {
					slug, detail = groundwork.SlugBlockedURL, "research never fetches private, loopback, link-local or metadata addresses"
				}
			}
			return nil, problem(http.StatusUnprocessableEntity, slug, detail, fields...)
		}
		return s.startOutput(ctx, groundwork.KindResearch, in.StartHeaders, in.RawBody)
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "search-research",
		Method:      http.MethodGet,
		Path:        "/v1/research",
		Summary:     "Search your research reports",
		Description: "Full-text search over your succeeded research (company, profile and the text of its pages), best match first; without q, the newest reports.",
		Tags:        []string{"research"},
		Errors:      []int{401, 422, 429, 503},
	}, func(ctx context.Context, in *searchResearchInput) (*searchResearchOutput, error) {
		p, _ := PrincipalFrom(ctx)
		out := &searchResearchOutput{}
		out.Body.Reports = []ResearchHit{}
		var rows []sqlc.ResearchReportListRow
		var err error
		if in.Q == "" {
			rows, err = s.q.ResearchReportList(ctx, sqlc.ResearchReportListParams{OwnerID: p.UserID, MaxRows: int32(in.Limit)})
		} else {
			var hits []sqlc.ResearchReportSearchRow
			hits, err = s.q.ResearchReportSearch(ctx, sqlc.ResearchReportSearchParams{OwnerID: p.UserID, Query: in.Q, MaxRows: int32(in.Limit)})
			for _, h := range hits {
				rows = append(rows, sqlc.ResearchReportListRow(h))
			}
		}
		if err != nil {
			return nil, dependencyError("postgres", err)
		}
		for _, r := range rows {
			out.Body.Reports = append(out.Body.Reports, ResearchHit{
				ID: r.RunID, Company: r.Company, Domain: r.Domain, Provider: r.Provider, CreatedAt: r.CreatedAt, Rank: r.Rank,
			})
		}
		return out, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "get-research",
		Method:      http.MethodGet,
		Path:        "/v1/research/{id}",
		Summary:     "Get a research report",
		Description: "The company profile, the pages with their metadata, errors and screenshot links. 409 not_ready while the run has not succeeded; another user's research is 404.",
		Tags:        []string{"research"},
		Errors:      []int{401, 404, 409, 429, 503},
	}, func(ctx context.Context, in *researchReportInput) (*researchReportOutput, error) {
		p, _ := PrincipalFrom(ctx)
		if kind, _, err := groundwork.ParseRunID(in.ID); err != nil || kind != groundwork.KindResearch {
			return nil, notFound("research")
		}
		run, err := s.readRun(ctx, p.UserID, in.ID)
		if err != nil {
			return nil, err
		}
		if run.Status != string(sqlc.RunStatusSucceeded) {
			detail := fmt.Sprintf("the research is %s; poll /v1/runs/%s until it succeeds", run.Status, run.ID)
			if run.Error != nil {
				detail = fmt.Sprintf("the research %s: %s", run.Status, run.Error.Message)
			}
			return nil, problem(http.StatusConflict, groundwork.SlugNotReady, detail)
		}
		report, err := s.researchReport(ctx, in.ID, in.Content)
		if err != nil {
			return nil, err
		}
		return &researchReportOutput{Body: report}, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "get-research-screenshot",
		Method:      http.MethodGet,
		Path:        screenshotRoute,
		Summary:     "Get a page's screenshot",
		Description: "A full-page PNG, with the owner's bearer token or the signed query of screenshot_url.",
		Tags:        []string{"research"},
		Errors:      []int{401, 404, 429, 503},
		Responses: map[string]*huma.Response{
			"200": {Description: "The screenshot.", Content: map[string]*huma.MediaType{
				"image/png": {Schema: &huma.Schema{Type: "string", Format: "binary"}},
			}},
		},
	}, func(ctx context.Context, in *screenshotInput) (*huma.StreamResponse, error) {
		page, err := s.screenshotPage(ctx, in.ID, in.Page)
		if err != nil {
			return nil, err
		}
		return &huma.StreamResponse{Body: func(hctx huma.Context) {
			r, w := humachi.Unwrap(hctx)
			s.serveScreenshot(w, r, page)
		}}, nil
	})
}

// checkResolvedHost refuses a domain whose name resolves only to addresses
// the SSRF guard blocks, so the caller hears it now rather than in a
// failed page. A name that does not resolve (yet) is left to the run.
func (s *Server) checkResolvedHost(ctx context.Context, root string) []groundwork.ResearchFieldError {
	u, err := url.Parse(root)
	if err != nil || net.ParseIP(u.Hostname()) != nil {
		return nil
	}
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(rctx, "ip", u.Hostname())
	if err != nil || len(addrs) == 0 {
		return nil
	}
	var refusal error
	for _, a := range addrs {
		if refusal = s.d.ResearchPolicy.CheckAddr(a.Unmap()); refusal == nil {
			return nil
		}
	}
	// The rule, never the address: research must not become a way to
	// resolve internal names.
	return []groundwork.ResearchFieldError{{
		FieldError: document.FieldError{Field: "domain", Message: fmt.Sprintf("%s resolves only to addresses research never fetches (%v)", u.Hostname(), refusal)},
		Blocked:    true,
	}}
}

// researchReport loads a succeeded research's report and pages.
func (s *Server) researchReport(ctx context.Context, id string, content bool) (ResearchReport, error) {
	rep, err := s.q.ResearchReportGet(ctx, id)
	if db.IsNotFound(err) {
		return ResearchReport{}, notFound("research")
	}
	if err != nil {
		return ResearchReport{}, dependencyError("postgres", err)
	}
	rows, err := s.q.ResearchRunPages(ctx, id)
	if err != nil {
		return ResearchReport{}, dependencyError("postgres", err)
	}
	out := ResearchReport{
		ID: id, Company: rep.Company, Domain: rep.Domain, CreatedAt: rep.CreatedAt,
		Fetched: int(rep.PagesFetched), Reused: int(rep.PagesReused), Failed: int(rep.PagesFailed),
		Pages: make([]ResearchPage, 0, len(rows)),
	}
	if err := json.Unmarshal(rep.Profile, &out.Profile); err != nil {
		return ResearchReport{}, fmt.Errorf("decode profile of %s: %w", id, err)
	}
	for _, r := range rows {
		p := r.ResearchPage
		page := ResearchPage{
			ID: p.ID, URL: r.PlannedUrl, FinalURL: p.FinalUrl, Status: int(p.Status), Category: r.Category,
			Title: p.Title, Description: p.Description, WordCount: int(p.WordCount), Truncated: p.Truncated,
			TimedOut: p.TimedOut, Reused: r.Reused, FetchedAt: p.FetchedAt, FetchMS: int(p.FetchMs), Blocked: p.Blocked,
		}
		if len(page.Blocked) == 0 {
			page.Blocked = nil
		}
		if p.ErrorType != nil {
			page.Error = &RunError{Type: *p.ErrorType, Message: deref(p.Error)}
		}
		if p.ScreenshotKey != nil {
			page.ScreenshotURL = s.screenshotURL(id, p.ID)
		}
		if content {
			page.Markdown = p.Markdown
		}
		out.Pages = append(out.Pages, page)
	}
	return out, nil
}

// screenshotPage loads a page of a research run the caller may see: the
// run's owner, or whoever holds a signed link to it.
func (s *Server) screenshotPage(ctx context.Context, runID string, pageID int64) (sqlc.ResearchPage, error) {
	if kind, _, err := groundwork.ParseRunID(runID); err != nil || kind != groundwork.KindResearch {
		return sqlc.ResearchPage{}, notFound("screenshot")
	}
	owner := ""
	if signed := signedExportID(ctx); signed != "" {
		if signed != runID {
			return sqlc.ResearchPage{}, notFound("screenshot")
		}
		run, err := s.q.RunGet(ctx, runID)
		if err != nil {
			return sqlc.ResearchPage{}, notFound("screenshot")
		}
		owner = run.OwnerID
	} else {
		p, _ := PrincipalFrom(ctx)
		owner = p.UserID
	}
	row, err := s.q.ResearchRunPageOfOwner(ctx, sqlc.ResearchRunPageOfOwnerParams{RunID: runID, PageID: pageID, OwnerID: owner})
	if db.IsNotFound(err) || (err == nil && row.ScreenshotKey == nil) {
		return sqlc.ResearchPage{}, notFound("screenshot")
	}
	if err != nil {
		return sqlc.ResearchPage{}, dependencyError("postgres", err)
	}
	return row, nil
}

func (s *Server) serveScreenshot(w http.ResponseWriter, r *http.Request, p sqlc.ResearchPage) {
	rd, err := s.d.Bucket.NewReader(r.Context(), *p.ScreenshotKey, nil)
	if err != nil {
		if gcerrors.Code(err) == gcerrors.NotFound {
			writeProblem(w, notFound("screenshot"))
			return
		}
		s.d.Log.ErrorContext(r.Context(), "open screenshot blob", "page_id", p.ID, "error", err)
		writeProblem(w, dependencyError("blob store", err))
		return
	}
	defer rd.Close()
	h := w.Header()
	h.Set("Content-Type", "image/png")
	h.Set("ETag", `"page-`+strconv.FormatInt(p.ID, 10)+`"`)
	h.Set("Cache-Control", "private, max-age=900")
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", p.FetchedAt, rd)
}

// screenshotURL is a signed link to a page's screenshot.
func (s *Server) screenshotURL(runID string, pageID int64) string {
	path := fmt.Sprintf("/v1/research/%s/pages/%d/screenshot", runID, pageID)
	return s.d.PublicURL + path + "?" + s.d.Signer.Sign(path, linkExpiry(s.d.Now()))
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
