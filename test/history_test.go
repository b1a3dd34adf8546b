package test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/groundwork-dev/groundwork/internal/testkit/testenv"
	"github.com/groundwork-dev/groundwork/workflows"
)

// TestRecordedHistoriesReplay replays a fresh real history of every
// workflow against the current code, and with GROUNDWORK_RECORD_HISTORY=1
// stores it under workflows/testdata/ so later changes are replayed against
// it in CI (workflows/replay_test.go).
func TestRecordedHistoriesReplay(t *testing.T) {
	s := sharedStack(t)
	c := s.newUser(t, "user-history")
	r, resp := c.startExport(map[string]any{"format": "csv", "filename": "h", "columns": []string{"a", "b"}, "rows": [][]any{{"1", "=2"}}})
	if resp.Status != http.StatusAccepted {
		t.Fatalf("start: %d", resp.Status)
	}
	if done := c.waitRun(r.ID); done.Status != "succeeded" {
		t.Fatalf("run: %s", done.Status)
	}
	replayAndRecord(t, s.App.Temporal, r.ID, "export_csv_succeeded.json")
}

// replayAndRecord replays the workflow's real history against the current
// code and, with GROUNDWORK_RECORD_HISTORY=1, stores it as testdata.
func replayAndRecord(t *testing.T, c client.Client, id, name string) {
	t.Helper()
	hist := fetchHistory(t, c, id)
	replayer := worker.NewWorkflowReplayer()
	workflows.RegisterAll(replayer)
	if err := replayer.ReplayWorkflowHistory(nil, hist); err != nil {
		t.Fatalf("replay fresh history of %s: %v", id, err)
	}
	if os.Getenv("GROUNDWORK_RECORD_HISTORY") != "1" {
		return
	}
	b, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(hist)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(testenv.RepoRoot(), "workflows", "testdata", name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("recorded %s", path)
}

func fetchHistory(t *testing.T, c client.Client, id string) *history.History {
	t.Helper()
	it := c.GetWorkflowHistory(context.Background(), id, "", false, 0)
	h := &history.History{}
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, ev)
	}
	return h
}
