package test

import (
	"net/http"
	"testing"
)

// TestBusinessMetrics runs an export and reads the process's /metrics:
// runs started, finished by status, and their durations moved by it.
func TestBusinessMetrics(t *testing.T) {
	s := sharedStack(t)
	c := s.newUser(t, "metrics-user")
	series := map[string]string{
		"started":   `groundwork_runs_started_total{kind="export"}`,
		"succeeded": `groundwork_runs_finished_total{kind="export",status="succeeded"}`,
		"durations": `groundwork_run_duration_seconds_count{kind="export",status="succeeded"}`,
	}
	before := map[string]float64{}
	for k, name := range series {
		before[k] = metricValue(t, s, name)
	}
	ok, resp := c.startExport(map[string]any{"format": "csv", "columns": []string{"n"}, "rows": [][]any{{1}}})
	if resp.Status != http.StatusAccepted {
		t.Fatalf("export: %d %s", resp.Status, resp.Body)
	}
	if r := c.waitRun(ok.ID); r.Status != "succeeded" {
		t.Fatalf("export: %+v", r)
	}
	for _, k := range []string{"started", "succeeded", "durations"} {
		if after := metricValue(t, s, series[k]); after < before[k]+1 {
			t.Errorf("%s: %v → %v", series[k], before[k], after)
		}
	}
}
