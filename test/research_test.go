package test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/groundwork-dev/groundwork/internal/testkit/llmfake"
	"github.com/groundwork-dev/groundwork/internal/testkit/testenv"
	"github.com/groundwork-dev/groundwork/internal/testkit/testsite"
	"github.com/groundwork-dev/groundwork/worker"
)

// researchReport is GET /v1/research/{id} as the frontend reads it.
type researchReport struct {
	ID      string `json:"id"`
	Company string `json:"company"`
	Domain  string `json:"domain"`
	Profile struct {
		Provider string `json:"provider"`
		Summary  *struct {
			Value  string `json:"value"`
			Source string `json:"source"`
		} `json:"summary"`
		Contacts []struct {
			Kind, Value, Source string
		} `json:"contacts"`
	} `json:"profile"`
	Fetched int `json:"fetched"`
	Reused  int `json:"reused"`
	Failed  int `json:"failed"`
	Pages   []struct {
		ID            int64    `json:"id"`
		URL           string   `json:"url"`
		FinalURL      string   `json:"final_url"`
		Status        int      `json:"status"`
		Category      string   `json:"category"`
		Title         string   `json:"title"`
		Description   string   `json:"description"`
		WordCount     int      `json:"word_count"`
		Reused        bool     `json:"reused"`
		TimedOut      bool     `json:"timed_out"`
		Truncated     bool     `json:"truncated"`
		Blocked       []string `json:"blocked"`
		ScreenshotURL string   `json:"screenshot_url"`
		Markdown      string   `json:"markdown"`
		Error         *struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	} `json:"pages"`
}

func (c *apiClient) startResearch(body any) (run, response) {
	c.t.Helper()
	return c.start("/v1/research", body)
}

func (c *apiClient) research(id string) researchReport {
	c.t.Helper()
	resp := c.do(http.MethodGet, "/v1/research/"+id+"?content=true", nil)
	if resp.Status != http.StatusOK {
		c.t.Fatalf("GET research %s: %d %s", id, resp.Status, resp.Body)
	}
	var rep researchReport
	resp.json(c.t, &rep)
	return rep
}

// waitResearch waits longer than waitRun: a research renders pages.
func (c *apiClient) waitResearch(id string) run {
	c.t.Helper()
	var r run
	testenv.Eventually(c.t, 3*time.Minute, "research "+id+" to finish", func() bool {
		r = c.getRun(id)
		switch r.Status {
		case "succeeded", "failed", "canceled", "timed_out":
			return true
		}
		return false
	})
	return r
}

// pageFetches counts the owner's stored fetches per URL.
func pageFetches(t *testing.T, s *stack, owner string) map[string]int {
	t.Helper()
	rows, err := s.App.Pool.Query(context.Background(), `SELECT url, count(*) FROM research_pages WHERE owner_id = $1 GROUP BY url`, owner)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var u string
		var n int
		if err := rows.Scan(&u, &n); err != nil {
			t.Fatal(err)
		}
		out[u] = n
	}
	return out
}

func TestResearchOfAJavaScriptSite(t *testing.T) {
	s := sharedStack(t)
	site := testsite.New(testsite.Options{Pages: 12})
	defer site.Close()
	alice := s.newUser(t, "research-alice")
	bob := s.newUser(t, "research-bob")

	r, resp := alice.startResearch(map[string]any{"company": "Northwind Logistics", "domain": site.URL, "max_pages": 12})
	if resp.Status != http.StatusAccepted || r.Kind != "research" {
		t.Fatalf("start: %d %s", resp.Status, resp.Body)
	}
	testenv.Eventually(t, time.Minute, "progress while fetching", func() bool {
		p := alice.getRun(r.ID).Progress
		return p["stage"] == "fetching" || p["stage"] == "summarizing" || p["stage"] == "done"
	})
	got := alice.waitResearch(r.ID)
	if got.Status != "succeeded" {
		t.Fatalf("run %+v", got)
	}
	if got.Result["report_url"] != "/v1/research/"+r.ID || got.Result["provider"] != "extractive" {
		t.Fatalf("result %+v", got.Result)
	}
	replayAndRecord(t, s.App.Temporal, r.ID, "research_succeeded.json")
	rep := alice.research(r.ID)

	t.Run("every page with its text, metadata and screenshot", func(t *testing.T) {
		if len(rep.Pages) != 12 || rep.Failed != 0 || rep.Fetched != 12 {
			t.Fatalf("%d pages, %d fetched, %d failed", len(rep.Pages), rep.Fetched, rep.Failed)
		}
		byPath := map[string]int{}
		for i, p := range rep.Pages {
			u, _ := url.Parse(p.FinalURL)
			byPath[u.Path] = i
		}
		for _, spec := range site.Pages() {
			if spec.Disallowed {
				continue
			}
			i, ok := byPath[spec.Path]
			if !ok {
				t.Errorf("page %s not researched", spec.Path)
				continue
			}
			p := rep.Pages[i]
			if p.Title != spec.Title || p.Description != spec.Description || p.Status != 200 {
				t.Errorf("%s: title %q description %q status %d", spec.Path, p.Title, p.Description, p.Status)
			}
			if !strings.Contains(p.Markdown, spec.Marker) {
				t.Errorf("%s: the script-rendered marker %q is missing from the content", spec.Path, spec.Marker)
			}
			if p.ScreenshotURL == "" {
				t.Errorf("%s: no screenshot", spec.Path)
			}
		}
		// The screenshot link works without a token, as an <img> uses it.
		shot, err := http.Get(rep.Pages[0].ScreenshotURL)
		if err != nil {
			t.Fatal(err)
		}
		defer shot.Body.Close()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(shot.Body)
		cfg, err := png.DecodeConfig(bytes.NewReader(buf.Bytes()))
		if shot.StatusCode != 200 || err != nil || cfg.Width < 1200 {
			t.Fatalf("screenshot: %d, %v, %dx%d", shot.StatusCode, err, cfg.Width, cfg.Height)
		}
	})

	t.Run("robots.txt is honoured", func(t *testing.T) {
		if n := site.Hits(testsite.PrivatePath); n != 0 {
			t.Fatalf("the disallowed page was requested %d times", n)
		}
		if site.Hits(testsite.RobotsPath) == 0 || site.Hits(testsite.SitemapPath) == 0 {
			t.Fatal("robots.txt or the sitemap was not read")
		}
	})

	t.Run("the profile cites its pages", func(t *testing.T) {
		if rep.Profile.Provider != "extractive" || rep.Profile.Summary == nil || !strings.HasPrefix(rep.Profile.Summary.Source, site.URL) {
			t.Fatalf("profile %+v", rep.Profile)
		}
		if len(rep.Profile.Contacts) == 0 {
			t.Fatal("no contact points in the profile")
		}
	})

	t.Run("a repeated research fetches nothing again", func(t *testing.T) {
		before := map[string]int{}
		for _, p := range site.Pages() {
			before[p.Path] = site.Hits(p.Path)
		}
		r2, _ := alice.startResearch(map[string]any{"company": "Northwind Logistics", "domain": site.URL, "max_pages": 12})
		if got := alice.waitResearch(r2.ID); got.Status != "succeeded" {
			t.Fatalf("run %+v", got)
		}
		rep2 := alice.research(r2.ID)
		if rep2.Reused != 12 || rep2.Fetched != 0 {
			t.Fatalf("second research: %d reused, %d fetched", rep2.Reused, rep2.Fetched)
		}
		for _, p := range site.Pages() {
			if n := site.Hits(p.Path); n != before[p.Path] {
				t.Errorf("%s requested again (%d → %d)", p.Path, before[p.Path], n)
			}
		}
		for u, n := range pageFetches(t, s, "research-alice") {
			if n != 1 {
				t.Errorf("%s stored %d times", u, n)
			}
		}
	})

	t.Run("search finds the caller's reports only", func(t *testing.T) {
		var found struct {
			Reports []struct{ ID, Company string } `json:"reports"`
		}
		alice.do(http.MethodGet, "/v1/research?q="+url.QueryEscape("northwind logistics"), nil).json(t, &found)
		if len(found.Reports) == 0 || found.Reports[0].Company != "Northwind Logistics" {
			t.Fatalf("alice's search: %+v", found)
		}
		// A word only the pages' text holds.
		marker := strings.Fields(site.Pages()[1].Marker)
		alice.do(http.MethodGet, "/v1/research?q="+url.QueryEscape(marker[len(marker)-1]), nil).json(t, &found)
		if len(found.Reports) == 0 {
			t.Fatal("the pages' text is not searchable")
		}
		bob.do(http.MethodGet, "/v1/research?q="+url.QueryEscape("northwind"), nil).json(t, &found)
		if len(found.Reports) != 0 {
			t.Fatalf("bob sees alice's reports: %+v", found)
		}
	})

	t.Run("another user's research is 404", func(t *testing.T) {
		for _, path := range []string{"/v1/research/" + r.ID, "/v1/runs/" + r.ID,
			fmt.Sprintf("/v1/research/%s/pages/%d/screenshot", r.ID, rep.Pages[0].ID)} {
			if resp := bob.do(http.MethodGet, path, nil); resp.Status != http.StatusNotFound {
				t.Errorf("bob GET %s: %d", path, resp.Status)
			}
		}
		// A signed link opens only its own screenshot.
		other := strings.Replace(rep.Pages[0].ScreenshotURL, fmt.Sprintf("/pages/%d/", rep.Pages[0].ID), fmt.Sprintf("/pages/%d/", rep.Pages[1].ID), 1)
		resp, err := http.Get(other)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a signed link opened another page: %d", resp.StatusCode)
		}
	})

	t.Run("the report exports to PDF", func(t *testing.T) {
		ex, resp := alice.startExport(map[string]any{"format": "pdf", "source": map[string]any{"run_id": r.ID}})
		if resp.Status != http.StatusAccepted {
			t.Fatalf("export: %d %s", resp.Status, resp.Body)
		}
		done := alice.waitRun(ex.ID)
		if done.Status != "succeeded" {
			t.Fatalf("export %+v", done)
		}
		pdf := alice.do(http.MethodGet, "/v1/exports/"+ex.ID+"/download", nil)
		text := pdfText(t, pdf.Body)
		if !strings.Contains(text, "Northwind Logistics — research report") || !strings.Contains(text, site.Host()) {
			t.Fatalf("the PDF lacks the title or the pages:\n%.2000s", text)
		}
	})
}

func TestResearchRefusesInternalTargetsAtTheAPI(t *testing.T) {
	// The guard with no allowlist at all, as in production.
	s := startStack(t, stackOptions{workers: "none", ratePerSec: 10000, ratePerMin: 1000000}, true)
	c := s.newUser(t, "research-ssrf")
	for _, tc := range []struct {
		name string
		body map[string]any
		slug string
	}{
		{"metadata", map[string]any{"domain": "http://169.254.169.254"}, "blocked_url"},
		{"loopback hex", map[string]any{"domain": "http://0x7f.1"}, "blocked_url"},
		{"loopback decimal", map[string]any{"urls": []string{"http://2130706433/admin"}}, "blocked_url"},
		{"mapped IPv6", map[string]any{"urls": []string{"http://[::ffff:127.0.0.1]/"}}, "blocked_url"},
		{"private", map[string]any{"urls": []string{"https://example.com/", "http://10.1.2.3/"}}, "blocked_url"},
		{"unspecified", map[string]any{"domain": "0.0.0.0"}, "blocked_url"},
		{"localhost name", map[string]any{"domain": "localhost:8080"}, "blocked_url"},
		{"file scheme", map[string]any{"urls": []string{"file:///etc/passwd"}}, ""},
		{"credentials", map[string]any{"urls": []string{"http://user:pw@example.com/"}}, ""},
		{"both", map[string]any{"domain": "example.com", "urls": []string{"https://example.com/"}}, "validation_failed"},
		{"neither", map[string]any{}, "validation_failed"},
		{"too many pages", map[string]any{"domain": "example.com", "max_pages": 51}, "validation_failed"},
		{"bad max_age", map[string]any{"domain": "example.com", "max_age": "a week"}, "validation_failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.body["company"] = "Acme"
			_, resp := c.with(t).startResearch(tc.body)
			if resp.Status != http.StatusUnprocessableEntity {
				t.Fatalf("%d %s", resp.Status, resp.Body)
			}
			var p problemDoc
			resp.json(t, &p)
			if tc.slug != "" && !strings.HasSuffix(p.Type, "/"+tc.slug) {
				t.Fatalf("type %s, want %s: %s", p.Type, tc.slug, resp.Body)
			}
		})
	}
	if n := len(c.listRuns()); n != 0 {
		t.Fatalf("%d runs were started", n)
	}
}

func TestResearchRecordsFaultyPages(t *testing.T) {
	s := sharedStack(t)
	site := testsite.New(testsite.Options{Hostile: true})
	defer site.Close()
	canary := testsite.NewCanary()
	defer canary.Close()
	c := s.newUser(t, "research-faults")
	paths := map[string]string{
		testsite.FaultLoop: "redirect_loop",
		testsite.FaultPDF:  "not_html",
		testsite.Fault500:  "http_error",
		testsite.Fault404:  "http_error",
		testsite.FaultRedirectInternal + "?to=" + canary.URL: "blocked",
		testsite.FaultNever: "",
		testsite.FaultHuge:  "",
		testsite.FaultSubresourceInternal + "?to=" + canary.URL: "",
		"/": "",
	}
	var urls []string
	for p := range paths {
		urls = append(urls, site.URL+p)
	}
	// A port nothing listens on any more.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	urls = append(urls, "http://"+closed+"/unreachable")
	r, resp := c.startResearch(map[string]any{"company": "Faulty", "urls": urls})
	if resp.Status != http.StatusAccepted {
		t.Fatalf("start: %d %s", resp.Status, resp.Body)
	}
	got := c.waitResearch(r.ID)
	if got.Status != "succeeded" {
		t.Fatalf("run %+v", got)
	}
	rep := c.research(r.ID)
	if len(rep.Pages) != len(urls) {
		t.Fatalf("%d pages for %d urls", len(rep.Pages), len(urls))
	}
	for _, p := range rep.Pages {
		u, _ := url.Parse(p.URL)
		key := u.Path
		if u.RawQuery != "" {
			key += "?" + u.RawQuery
		}
		want, ok := paths[key]
		if u.Host == closed {
			want, ok = "unreachable", true
		}
		if !ok {
			t.Errorf("unexpected page %s", p.URL)
			continue
		}
		gotType := ""
		if p.Error != nil {
			gotType = p.Error.Type
		}
		if gotType != want {
			t.Errorf("%s: error %+v, want %q", key, p.Error, want)
		}
		switch u.Path {
		case testsite.FaultNever:
			if !p.TimedOut && p.Title == "" {
				t.Errorf("never-settling page: %+v", p)
			}
		case testsite.FaultSubresourceInternal:
			if len(p.Blocked) == 0 {
				t.Errorf("no blocked subresources recorded: %+v", p)
			}
		}
	}
	if n := canary.Hits(); n != 0 {
		t.Fatalf("an internal target was reached %d times", n)
	}
}

// TestResearchSurvivesKilledWorkerAndChrome runs the browser queue in a
// worker process, kills it mid-run, lets an in-process worker take over,
// then kills that worker's Chrome mid-page: the research completes and no
// page is stored twice.
func TestResearchSurvivesKilledWorkerAndChrome(t *testing.T) {
	testenv.SkipShort(t, "Postgres, Temporal, Chrome and a worker process")
	site := testsite.New(testsite.Options{Pages: 20, RenderDelay: 700 * time.Millisecond})
	defer site.Close()
	dev := testenv.StartTemporal(t)
	dbURL := testenv.DatabaseURL(t)
	s := startStack(t, stackOptions{
		temporalHostPort: dev.FrontendHostPort(), databaseURL: dbURL,
		workers: "main", ratePerSec: 10000, ratePerMin: 1000000, research: testResearch(),
	}, true)

	proc := startDevProcess(t, dev.FrontendHostPort(), dbURL,
		"GROUNDWORK_RESEARCH_ALLOW_CIDRS=127.0.0.1/32", "GROUNDWORK_RESEARCH_DOMAIN_RATE=50")

	c := s.newUser(t, "research-crash")
	r, resp := c.startResearch(map[string]any{"company": "Crash Co", "domain": site.URL, "max_pages": 20})
	if resp.Status != http.StatusAccepted {
		t.Fatalf("start: %d %s", resp.Status, resp.Body)
	}
	done := func() int64 {
		d, _ := c.getRun(r.ID).Progress["done"].(float64)
		return int64(d)
	}
	testenv.Eventually(t, 2*time.Minute, "a few pages fetched by the worker process, and the pages in flight shown", func() bool {
		msg, _ := c.getRun(r.ID).Progress["message"].(string)
		return done() >= 3 && strings.Contains(msg, "now fetching "+site.URL)
	})
	if err := proc.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = proc.Wait()
	killedAt := done()

	// A new worker with its own Chrome takes the browser queue over once
	// the dead one's heartbeats time out.
	deps := s.App.WorkerDeps()
	chrome, err := worker.NewBrowser(testResearch(), testenv.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer chrome.Close()
	deps.Browser = chrome
	ws, err := worker.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range ws[1:] {
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
	}
	testenv.Eventually(t, 2*time.Minute, "the new worker fetching", func() bool { return chrome.PID() != 0 && done() > killedAt })
	if err := syscall.Kill(chrome.PID(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}

	got := c.waitResearch(r.ID)
	if got.Status != "succeeded" {
		t.Fatalf("run %+v", got)
	}
	rep := c.research(r.ID)
	if len(rep.Pages) != 20 || rep.Failed != 0 {
		t.Fatalf("%d pages, %d failed", len(rep.Pages), rep.Failed)
	}
	for u, n := range pageFetches(t, s, "research-crash") {
		if n != 1 {
			t.Errorf("%s stored %d times", u, n)
		}
	}
}

// TestResearchSummaryByLLM has the LLM chain write the profile: the prompt
// carries the rendered pages, facts citing them are kept, a fact citing a
// page that was never fetched is dropped with a warning, and the call is
// in the ledger under the research run.
func TestResearchSummaryByLLM(t *testing.T) {
	site := testsite.New(testsite.Options{Pages: 6})
	defer site.Close()
	pricing := site.URL + "/pricing"
	var prompts []string
	var mu sync.Mutex
	openai := llmfake.New(llmfake.Options{Reply: func(r llmfake.Request) string {
		mu.Lock()
		prompts = append(prompts, r.Prompt)
		mu.Unlock()
		return fmt.Sprintf(`{"summary": {"value": "Northwind runs cold-chain freight.", "source": %q},
			"industry": {"value": "Logistics", "source": %q},
			"products": [{"value": "FleetPulse: live tracking", "source": %q}],
			"customers": [{"value": "Acme Anvils", "source": "https://elsewhere.example/case"}],
			"pricing_model": {"value": "per seat", "source": %q},
			"size": {"value": "unknown", "source": ""},
			"hiring": {"value": "unknown", "source": ""},
			"contacts": [{"kind": "email", "value": "sales@northwind.example", "source": %q}]}`,
			site.URL+"/", site.URL+"/about", site.URL+"/", pricing, site.URL+"/")
	}})
	defer openai.Close()
	anthropic := llmfake.New(llmfake.Options{})
	defer anthropic.Close()
	// Its own Temporal: the shared stack's workers, on another database,
	// would take this stack's tasks.
	s := startStack(t, stackOptions{temporalHostPort: testenv.StartTemporal(t).FrontendHostPort(), databaseURL: testenv.DatabaseURL(t),
		workers: "all", ratePerSec: 10000, ratePerMin: 1000000,
		llm: llmSettings(openai, anthropic), research: testResearch(), browser: true}, true)
	c := s.newUser(t, "research-llm")

	r, resp := c.startResearch(map[string]any{"company": "Northwind Logistics", "domain": site.URL, "max_pages": 6})
	if resp.Status != http.StatusAccepted {
		t.Fatalf("start: %d %s", resp.Status, resp.Body)
	}
	if got := c.waitResearch(r.ID); got.Status != "succeeded" || got.Result["provider"] != "openai" {
		t.Fatalf("run %+v", got)
	}
	replayAndRecord(t, s.App.Temporal, r.ID, "research_llm_succeeded.json")
	var rep struct {
		Profile struct {
			Provider  string                           `json:"provider"`
			Model     string                           `json:"model"`
			Summary   *struct{ Value, Source string }  `json:"summary"`
			Customers []struct{ Value, Source string } `json:"customers"`
			Size      *struct{ Value string }          `json:"size"`
			Warnings  []string                         `json:"warnings"`
		} `json:"profile"`
	}
	c.do(http.MethodGet, "/v1/research/"+r.ID, nil).json(t, &rep)
	p := rep.Profile
	if p.Provider != "openai" || p.Model != "gpt-4.1-mini" || p.Summary == nil || p.Summary.Source != site.URL+"/" {
		t.Fatalf("profile %+v", p)
	}
	if len(p.Customers) != 0 || len(p.Warnings) == 0 || p.Size != nil {
		t.Fatalf("an uncited or unknown fact was kept: %+v", p)
	}
	var pricingMarker string
	for _, pg := range site.Pages() {
		if pg.Path == "/pricing" {
			pricingMarker = pg.Marker
		}
	}
	if pricingMarker == "" {
		t.Fatal("the test site has no /pricing page")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(prompts) != 1 || !strings.Contains(prompts[0], `<page url="`+pricing+`"`) || !strings.Contains(prompts[0], pricingMarker) {
		t.Fatalf("%d prompts; the first lacks the rendered pages:\n%.1500s", len(prompts), strings.Join(prompts, "\n---\n"))
	}
	var calls int
	err := s.App.Pool.QueryRow(context.Background(), `SELECT count(*) FROM llm_calls WHERE run_id = $1 AND outcome = 'ok'`, r.ID).Scan(&calls)
	if err != nil || calls != 1 {
		t.Fatalf("ledger: %d calls (%v)", calls, err)
	}
}

// TestResearchRefusesOtherPorts: a URL on a port outside
// GROUNDWORK_RESEARCH_PORTS is refused at the API as blocked_url, naming
// the rule.
func TestResearchRefusesOtherPorts(t *testing.T) {
	r := testResearch()
	r.Allow, r.Ports = nil, []uint16{80, 443, 8080, 8443}
	s := startStack(t, stackOptions{workers: "none", ratePerSec: 1000, ratePerMin: 100000, research: r}, true)
	c := s.newUser(t, "ports-user")
	for _, target := range []map[string]any{
		{"company": "SSH", "domain": "http://93.184.215.14:22"},
		{"company": "Redis", "urls": []string{"https://example.com:6379/"}},
	} {
		_, resp := c.startResearch(target)
		if resp.Status != http.StatusUnprocessableEntity || !strings.HasSuffix(problemType(t, resp), "/blocked_url") ||
			!strings.Contains(string(resp.Body), "GROUNDWORK_RESEARCH_PORTS") {
			t.Errorf("%v: %d %s", target, resp.Status, resp.Body)
		}
	}
}
