package test

// These tests check the Prometheus configuration of deploy/prometheus with
// Prometheus's own promtool — the rules parse, the configuration (with the
// rule files it names) loads, and the alert unit tests of alerts_test.yml
// pass — and check that every metric the alerts and the Grafana dashboards
// query is one the code exports. They need no Postgres or Temporal.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/groundwork-dev/groundwork/internal/testkit/testenv"
)

// promtool returns the promtool binary: $GROUNDWORK_PROMTOOL, else the one
// `make tools` builds into bin/. A missing promtool fails the test rather
// than skipping it, so an unchecked alert file cannot pass `make test`.
func promtool(t *testing.T) string {
	t.Helper()
	p := os.Getenv("GROUNDWORK_PROMTOOL")
	if p == "" {
		p = filepath.Join(testenv.RepoRoot(), "bin", "promtool")
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("promtool not found at %s (%v): run `make tools` (builds bin/promtool), or set GROUNDWORK_PROMTOOL", p, err)
	}
	return p
}

// runPromtool runs promtool with args in the repository root and fails
// the test with its output when it exits non-zero.
func runPromtool(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, promtool(t), args...)
	cmd.Dir = testenv.RepoRoot()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestAlertRulesCheck(t *testing.T) {
	runPromtool(t, "check", "rules", "deploy/prometheus/alerts.yml")
}

// TestAlertPrometheusConfigCheck loads prometheus.yml as the server would,
// including the rule files it names (relative to its own directory, as in
// the container's /etc/prometheus).
func TestAlertPrometheusConfigCheck(t *testing.T) {
	out := runPromtool(t, "check", "config", "deploy/prometheus/prometheus.yml")
	if !strings.Contains(out, "alerts.yml") {
		t.Errorf("promtool check config did not load alerts.yml:\n%s", out)
	}
}

func TestAlertRulesUnitTests(t *testing.T) {
	runPromtool(t, "test", "rules", "deploy/prometheus/alerts_test.yml")
}

var (
	alertNameRe     = regexp.MustCompile(`(?m)^\s*- alert:\s*(\S+)\s*$`)
	alertTestNameRe = regexp.MustCompile(`^\s*alertname:\s*(\S+)\s*$`)
)

// TestAlertsAllTested requires, for every alert of alerts.yml, a unit test
// that expects it to fire and one that expects it quiet. It reads
// alerts_test.yml line by line (the module has no YAML library of its
// own): each `alertname:` line is followed by `exp_alerts: []` (quiet) or
// by `exp_alerts:` and a list (fires), which is how that file is written.
func TestAlertsAllTested(t *testing.T) {
	root := testenv.RepoRoot()
	rules, err := os.ReadFile(filepath.Join(root, "deploy", "prometheus", "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile(filepath.Join(root, "deploy", "prometheus", "alerts_test.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var alerts []string
	for _, m := range alertNameRe.FindAllStringSubmatch(string(rules), -1) {
		alerts = append(alerts, m[1])
	}
	if len(alerts) == 0 {
		t.Fatal("no alerts found in alerts.yml")
	}
	fires, quiet := map[string]bool{}, map[string]bool{}
	lines := strings.Split(string(tests), "\n")
	for i, line := range lines {
		m := alertTestNameRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		next := ""
		for _, l := range lines[i+1:] {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				next = l
				break
			}
		}
		switch next {
		case "exp_alerts: []":
			quiet[m[1]] = true
		case "exp_alerts:":
			fires[m[1]] = true
		default:
			t.Errorf("alerts_test.yml line %d: alertname %s is followed by %q, want exp_alerts", i+1, m[1], next)
		}
	}
	for _, a := range alerts {
		if !fires[a] {
			t.Errorf("alert %s has no unit test in which it fires", a)
		}
		if !quiet[a] {
			t.Errorf("alert %s has no unit test in which it stays quiet", a)
		}
	}
	for a := range fires {
		if !slices.Contains(alerts, a) {
			t.Errorf("alerts_test.yml tests %s, which alerts.yml does not define", a)
		}
	}
}

// metricNameRe finds the Groundwork and Temporal SDK series named in a
// PromQL expression (recording rules, groundwork:…, use a colon).
var metricNameRe = regexp.MustCompile(`\b(?:groundwork|temporal)_[a-z0-9_]*[a-z0-9]`)

// TestAlertAndDashboardMetricsExist checks every groundwork_* and
// temporal_* series the alerts and the dashboards query against the code
// that exports them: groundwork_* names must appear as a string in the
// module's Go sources, temporal_* names among the Temporal SDK's metric
// names (plus the OpenTelemetry exporter's unit suffix). A renamed metric
// would otherwise leave an alert that can never fire and an empty panel.
func TestAlertAndDashboardMetricsExist(t *testing.T) {
	root := testenv.RepoRoot()
	used := map[string][]string{} // metric name → files using it
	add := func(file, expr string) {
		for _, name := range metricNameRe.FindAllString(expr, -1) {
			if !slices.Contains(used[name], file) {
				used[name] = append(used[name], file)
			}
		}
	}
	rules, err := os.ReadFile(filepath.Join(root, "deploy", "prometheus", "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(rules), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			add("alerts.yml", line)
		}
	}
	dashboards, err := filepath.Glob(filepath.Join(root, "deploy", "grafana", "dashboards", "*.json"))
	if err != nil || len(dashboards) == 0 {
		t.Fatalf("no dashboards in deploy/grafana/dashboards: %v", err)
	}
	for _, f := range dashboards {
		for _, expr := range dashboardExprs(t, f) {
			add(filepath.Base(f), expr)
		}
	}

	goSrc := moduleGoSources(t, root)
	sdkNames := temporalSDKMetricNames(t)
	for name, files := range used {
		base := name
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			base = strings.TrimSuffix(base, suffix)
		}
		if strings.HasPrefix(name, "temporal_") {
			if !sdkNames[base] && !sdkNames[strings.TrimSuffix(base, "_total")] && !sdkNames[strings.TrimSuffix(base, "_seconds")] {
				t.Errorf("%s (used in %v) is not a metric of the Temporal SDK", name, files)
			}
			continue
		}
		if !strings.Contains(goSrc, `"`+base+`"`) {
			t.Errorf("%s (used in %v) is not exported by the code (no %q in its Go sources)", name, files, base)
		}
	}
}

// grafanaDatasourceUID is the uid of the Prometheus data source that
// deploy/grafana/provisioning/datasources/datasources.yml provisions and
// every dashboard query names.
const grafanaDatasourceUID = "prometheus"

// TestAlertDashboards checks the Grafana dashboards: unique uids, every query on
// the provisioned Prometheus data source, and every query valid PromQL —
// promtool parses them as recording rules, with Grafana's variables
// replaced by values they take.
func TestAlertDashboards(t *testing.T) {
	root := testenv.RepoRoot()
	prov, err := os.ReadFile(filepath.Join(root, "deploy", "grafana", "provisioning", "datasources", "datasources.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^\s*uid:\s*` + grafanaDatasourceUID + `\s*$`).Match(prov) {
		t.Fatalf("datasources.yml provisions no data source with uid %q", grafanaDatasourceUID)
	}
	files, err := filepath.Glob(filepath.Join(root, "deploy", "grafana", "dashboards", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"api", "workflows", "llm", "airtable"} {
		if !slices.Contains(files, filepath.Join(root, "deploy", "grafana", "dashboards", want+".json")) {
			t.Errorf("no dashboard %s.json", want)
		}
	}
	vars := strings.NewReplacer("$__rate_interval", "1m", "$__interval", "1m", "$__range", "1h", "$instance", ".*")
	type rule struct {
		Record string `json:"record"`
		Expr   string `json:"expr"`
	}
	var rules []rule
	var where []string // where[i]: the dashboard and panel of rules[i]
	uids := map[string]string{}
	for _, f := range files {
		d := readDashboard(t, f)
		if d.UID == "" || d.Title == "" {
			t.Errorf("%s: no uid or title", filepath.Base(f))
		}
		if other, ok := uids[d.UID]; ok {
			t.Errorf("%s and %s share the uid %q", other, filepath.Base(f), d.UID)
		}
		uids[d.UID] = filepath.Base(f)
		for _, tg := range d.targets(t) {
			if tg.Datasource.UID != grafanaDatasourceUID {
				t.Errorf("%s: panel %q queries data source %q, want %q", filepath.Base(f), tg.panel, tg.Datasource.UID, grafanaDatasourceUID)
			}
			if strings.TrimSpace(tg.Expr) == "" {
				t.Errorf("%s: panel %q has an empty query", filepath.Base(f), tg.panel)
				continue
			}
			rules = append(rules, rule{Record: fmt.Sprintf("dashboard:query_%d:check", len(rules)), Expr: vars.Replace(tg.Expr)})
			where = append(where, fmt.Sprintf("%s, panel %q: %s", filepath.Base(f), tg.panel, tg.Expr))
		}
	}
	// JSON is YAML: promtool reads this rule file as it would alerts.yml.
	b, err := json.Marshal(map[string]any{"groups": []any{map[string]any{"name": "dashboards", "rules": rules}}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dashboard_queries.yml")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, promtool(t), "check", "rules", path).CombinedOutput()
	if err != nil {
		var bad []string
		for _, m := range regexp.MustCompile(`dashboard:query_(\d+):check`).FindAllStringSubmatch(string(out), -1) {
			if i, err := strconv.Atoi(m[1]); err == nil && i < len(where) {
				bad = append(bad, where[i])
			}
		}
		t.Fatalf("dashboard queries that are not valid PromQL:\n%s\npromtool: %v\n%s", strings.Join(bad, "\n"), err, out)
	}
}

// dashboard is the part of a Grafana dashboard the tests read.
type dashboard struct {
	UID    string            `json:"uid"`
	Title  string            `json:"title"`
	Panels []json.RawMessage `json:"panels"`
	file   string
}

// dashboardTarget is one query of a panel.
type dashboardTarget struct {
	Expr       string `json:"expr"`
	Datasource struct {
		UID string `json:"uid"`
	} `json:"datasource"`
	panel string
}

func readDashboard(t *testing.T, file string) *dashboard {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	d := &dashboard{file: file}
	if err := json.Unmarshal(b, d); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return d
}

// targets returns the queries of every panel, rows' nested panels included.
func (d *dashboard) targets(t *testing.T) []dashboardTarget {
	t.Helper()
	type panel struct {
		Title   string            `json:"title"`
		Targets []dashboardTarget `json:"targets"`
		Panels  []json.RawMessage `json:"panels"`
	}
	var out []dashboardTarget
	var walk func([]json.RawMessage)
	walk = func(ps []json.RawMessage) {
		for _, raw := range ps {
			var p panel
			if err := json.Unmarshal(raw, &p); err != nil {
				t.Fatalf("%s: panel: %v", d.file, err)
			}
			for _, tg := range p.Targets {
				tg.panel = p.Title
				out = append(out, tg)
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

// dashboardExprs returns the PromQL of every query of a dashboard.
func dashboardExprs(t *testing.T, file string) []string {
	t.Helper()
	var exprs []string
	for _, tg := range readDashboard(t, file).targets(t) {
		exprs = append(exprs, tg.Expr)
	}
	return exprs
}

// moduleGoSources concatenates the module's non-test Go files.
func moduleGoSources(t *testing.T, root string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", ".data", "node_modules", "bin", "testdata":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		b.Write(src)
		return nil
	})
	if err != nil {
		t.Fatalf("read the module's Go sources: %v", err)
	}
	return b.String()
}

var sdkConstRe = regexp.MustCompile(`(?m)^\s*(\w+)\s*=\s*(?:(\w+)\s*\+\s*)?"([^"]*)"`)

// temporalSDKMetricNames resolves the metric name constants of the Temporal
// SDK the module builds with (internal/common/metrics/constants.go), which
// are written as TemporalMetricsPrefix + "…" and TemporalRequest + "_…".
func temporalSDKMetricNames(t *testing.T) map[string]bool {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "go.temporal.io/sdk").Output()
	if err != nil {
		t.Fatalf("locate the Temporal SDK module: %v", err)
	}
	src, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "internal", "common", "metrics", "constants.go"))
	if err != nil {
		t.Fatalf("read the SDK's metric names: %v", err)
	}
	values := map[string]string{}
	matches := sdkConstRe.FindAllStringSubmatch(string(src), -1)
	// Each pass resolves the constants whose operand is known; the file
	// defines them in order, so a few passes suffice.
	for range 4 {
		for _, m := range matches {
			name, ref, lit := m[1], m[2], m[3]
			if ref == "" {
				values[name] = lit
			} else if v, ok := values[ref]; ok {
				values[name] = v + lit
			}
		}
	}
	names := map[string]bool{}
	for _, v := range values {
		if strings.HasPrefix(v, "temporal_") {
			names[v] = true
		}
	}
	if !names["temporal_activity_schedule_to_start_latency"] {
		t.Fatalf("could not read the SDK's metric names (got %d)", len(names))
	}
	return names
}
