package test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/internal/testkit/testenv"
)

func readyz(t *testing.T, s *stack) (int, map[string]string) {
	t.Helper()
	resp, err := http.Get(s.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Checks map[string]string `json:"checks"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.Checks
}

func TestTemporalDownAnswers503AndWritesNothing(t *testing.T) {
	dev := testenv.StartTemporal(t)
	s := startStack(t, stackOptions{temporalHostPort: dev.FrontendHostPort(), workers: "none", ratePerSec: 100, ratePerMin: 1000}, true)
	c := s.newUser(t, "user-temporal-down")
	if code, _ := readyz(t, s); code != http.StatusOK {
		t.Fatalf("readyz before: %d", code)
	}
	if err := dev.Stop(); err != nil {
		t.Fatal(err)
	}
	_, resp := c.startExport(map[string]any{"format": "csv", "columns": []string{"a"}, "rows": [][]any{{"1"}}})
	if resp.Status != http.StatusServiceUnavailable || !strings.HasSuffix(problemType(t, resp), "/dependency_unavailable") ||
		resp.Header.Get("Retry-After") != "2" {
		t.Fatalf("start with Temporal down: %d (Retry-After %q) %s", resp.Status, resp.Header.Get("Retry-After"), resp.Body)
	}
	if runs := c.listRuns(); len(runs) != 0 {
		t.Fatalf("a failed start left %d runs", len(runs))
	}
	var inputs int
	if err := s.App.Pool.QueryRow(context.Background(), "SELECT count(*) FROM run_inputs").Scan(&inputs); err != nil || inputs != 0 {
		t.Fatalf("run_inputs left: %d (%v)", inputs, err)
	}
	code, checks := readyz(t, s)
	if code != http.StatusServiceUnavailable || checks["postgres"] != "ok" || !strings.HasPrefix(checks["temporal"], "unreachable") {
		t.Fatalf("readyz with Temporal down: %d %v", code, checks)
	}
}

func TestPostgresDownAnswers503(t *testing.T) {
	pg := testenv.StartPostgres(t)
	pool, err := db.Open(context.Background(), pg.URL, db.PoolConfig{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(context.Background(), pool, testenv.Logger(t)); err != nil {
		t.Fatal(err)
	}
	pool.Close()
	s := startStack(t, stackOptions{databaseURL: pg.URL, workers: "none", ratePerSec: 100, ratePerMin: 1000}, true)
	c := s.newUser(t, "user-pg-down")
	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	_, resp := c.startExport(map[string]any{"format": "csv", "columns": []string{"a"}, "rows": [][]any{{"1"}}})
	if resp.Status != http.StatusServiceUnavailable || !isProblem(resp) || resp.Header.Get("Retry-After") != "2" {
		t.Fatalf("start with Postgres down: %d (Retry-After %q) %s", resp.Status, resp.Header.Get("Retry-After"), resp.Body)
	}
	if got := c.do(http.MethodGet, "/v1/runs", nil); got.Status != http.StatusServiceUnavailable {
		t.Fatalf("list with Postgres down: %d %s", got.Status, got.Body)
	}
	code, checks := readyz(t, s)
	if code != http.StatusServiceUnavailable || !strings.HasPrefix(checks["postgres"], "unreachable") || checks["temporal"] != "ok" {
		t.Fatalf("readyz with Postgres down: %d %v", code, checks)
	}
	if resp, err := http.Get(s.URL + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz must stay up: %v", err)
	}
}

func problemType(t *testing.T, resp response) string {
	t.Helper()
	var p problemDoc
	resp.json(t, &p)
	return p.Type
}
