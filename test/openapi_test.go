package test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/groundwork-dev/groundwork/internal/testkit/testenv"
)

// TestOpenAPIMatchesRouter checks that every /v1 route the router serves
// is in the served OpenAPI document and the other way round.
func TestOpenAPIMatchesRouter(t *testing.T) {
	s := sharedStack(t)
	resp, err := http.Get(s.URL + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Fatalf("openapi version %q, want 3.1", doc.OpenAPI)
	}
	var inSpec []string
	for path, ops := range doc.Paths {
		for method := range ops {
			inSpec = append(inSpec, strings.ToUpper(method)+" "+path)
		}
	}
	srv, err := s.App.APIServer()
	if err != nil {
		t.Fatal(err)
	}
	var inRouter []string
	err = chi.Walk(srv.Router(), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if strings.HasPrefix(route, "/v1/") {
			inRouter = append(inRouter, method+" "+route)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(inSpec)
	sort.Strings(inRouter)
	if strings.Join(inSpec, "\n") != strings.Join(inRouter, "\n") {
		t.Fatalf("spec and router differ:\nspec:\n%s\nrouter:\n%s", strings.Join(inSpec, "\n"), strings.Join(inRouter, "\n"))
	}
	if len(inRouter) < 6 {
		t.Fatalf("only %d /v1 routes", len(inRouter))
	}
}

func TestMetricsExposeHTTPAndTemporalSeries(t *testing.T) {
	s := sharedStack(t)
	c := s.newUser(t, "user-metrics")
	r, _ := c.startExport(map[string]any{"format": "csv", "columns": []string{"a"}, "rows": [][]any{{"1"}}})
	c.waitRun(r.ID)
	if resp, err := http.Get(s.URL + "/metrics"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("the API's public port serves /metrics: %v %v", resp, err)
	}
	resp, err := http.Get(s.MetricsURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`groundwork_http_requests_total{code="202",method="POST",route="/v1/exports"}`,
		`groundwork_http_request_duration_seconds_bucket{method="GET",route="/v1/runs/{id}"`,
		"temporal_", // the SDK's worker and client metrics
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestCORSAllowsOnlyConfiguredOrigins(t *testing.T) {
	s := startStack(t, stackOptions{workers: "none", ratePerSec: 100, ratePerMin: 1000, cors: []string{"https://app.example.com"}}, true)
	preflight := func(origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, s.URL+"/v1/exports", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type, idempotency-key")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	ok := preflight("https://app.example.com")
	if ok.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		!strings.Contains(strings.ToLower(ok.Header.Get("Access-Control-Allow-Headers")), "idempotency-key") {
		t.Fatalf("allowed origin preflight: %d %v", ok.StatusCode, ok.Header)
	}
	if evil := preflight("https://evil.example.com"); evil.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("foreign origin allowed: %v", evil.Header)
	}
	// Every method the API serves passes a preflight.
	for _, m := range []string{http.MethodPut, http.MethodDelete} {
		req, _ := http.NewRequest(http.MethodOptions, s.URL+"/v1/airtable/mappings/map_x", nil)
		req.Header.Set("Origin", "https://app.example.com")
		req.Header.Set("Access-Control-Request-Method", m)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), m) {
			t.Errorf("preflight of %s: %d %v", m, resp.StatusCode, resp.Header)
		}
	}
	// A script can read the headers it needs.
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/v1/runs", nil)
	req.Header.Set("Origin", "https://app.example.com")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	exposed := strings.ToLower(resp.Header.Get("Access-Control-Expose-Headers"))
	for _, h := range []string{"content-disposition", "etag", "location", "retry-after", "x-request-id", "ratelimit"} {
		if !strings.Contains(exposed, h) {
			t.Errorf("%s is not exposed: %q", h, exposed)
		}
	}
}

// TestCommittedOpenAPIIsServed compares the document the API serves with
// api/openapi.json, the copy clients are generated from: a change to an
// operation must come with the regenerated file
// (go run ./cmd/groundwork openapi > api/openapi.json).
func TestCommittedOpenAPIIsServed(t *testing.T) {
	s := sharedStack(t)
	resp, err := http.Get(s.URL + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var served, committed any
	if err := json.NewDecoder(resp.Body).Decode(&served); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "api", "openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &committed); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(served, committed) {
		sb, _ := json.MarshalIndent(served, "", "  ")
		t.Fatalf("api/openapi.json differs from the served document: run `go run ./cmd/groundwork openapi > api/openapi.json` and commit it (served is %d bytes, committed %d)", len(sb), len(b))
	}
}
