package workflows

import (
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/worker"
)

// TestReplayRecordedHistories replays every history recorded by the
// end-to-end tests (GROUNDWORK_RECORD_HISTORY=1 go test ./test) against the
// current workflow code: a non-deterministic change fails here, before it
// can break runs in flight. Version such changes with workflow.GetVersion.
func TestReplayRecordedHistories(t *testing.T) {
	// testdata/*.json are the latest recordings; testdata/<release>/ keep
	// earlier releases' until their runs can no longer be open (docs/deploys.md).
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	older, err := filepath.Glob(filepath.Join("testdata", "*", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, older...)
	if len(files) == 0 {
		t.Fatal("no recorded histories in testdata/")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			RegisterAll(r)
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
				t.Fatalf("replay %s: %v", f, err)
			}
		})
	}
}
