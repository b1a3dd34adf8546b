package groundwork

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

func TestRunIDRoundTrip(t *testing.T) {
	id := NewRunID(KindExport, time.Now())
	kind, _, err := ParseRunID(id)
	if err != nil || kind != KindExport {
		t.Fatalf("ParseRunID(%q) = %q, %v", id, kind, err)
	}
	later := NewRunID(KindExport, time.Now().Add(time.Millisecond))
	if later <= id {
		t.Errorf("IDs must sort by time: %q <= %q", later, id)
	}
	for _, bad := range []string{"", "export", "export-", "pdf-01JD4X7Q2W6ZC5D3V9N8K1M2P3", "export-01JD4X7Q2W6ZC5D3V9N8K1M2P3/../x", "export-zzzzzzzzzzzzzzzzzzzzzzzzzz"} {
		if _, _, err := ParseRunID(bad); err == nil {
			t.Errorf("ParseRunID(%q) accepted", bad)
		}
	}
}

func TestPercent(t *testing.T) {
	for _, tc := range []struct {
		done, total int64
		want        int
	}{{0, 0, 0}, {3, 10, 30}, {10, 10, 100}, {12, 10, 100}, {-1, 10, 0}} {
		if got := (Progress{Done: tc.done, Total: tc.total}).Percent(); got != tc.want {
			t.Errorf("Percent(%d/%d) = %d, want %d", tc.done, tc.total, got, tc.want)
		}
	}
}

// TestRunInputEncodesEveryKindsInput holds the API to starting every kind
// with a RunInput: each kind's own input type must encode the same bytes.
func TestRunInputEncodesEveryKindsInput(t *testing.T) {
	want, _ := json.Marshal(RunInput{RunID: "r", OwnerID: "o"})
	for kind, in := range map[Kind]any{
		KindExport:       ExportInput{RunID: "r", OwnerID: "o"},
		KindGeneration:   GenerateInput{RunID: "r", OwnerID: "o"},
		KindResearch:     ResearchInput{RunID: "r", OwnerID: "o"},
		KindAirtableSync: AirtableSyncInput{RunID: "r", OwnerID: "o"},
	} {
		got, err := json.Marshal(in)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s input encodes %s (%v), RunInput %s", kind, got, err, want)
		}
	}
}

func TestEveryKindHasASpec(t *testing.T) {
	for _, k := range Kinds {
		if s := k.Spec(); s.Workflow == "" || s.ExecutionTimeout <= 0 {
			t.Errorf("kind %s: incomplete spec %+v", k, s)
		}
	}
	if Kind("nope").Valid() || Kind("nope").Exportable() {
		t.Error("an unknown kind is valid")
	}
	if msg := ExportSourceRefusal(string(KindResearch), RunSucceeded); msg != "" {
		t.Errorf("a succeeded research is refused: %s", msg)
	}
	for _, c := range [][2]string{{string(KindExport), RunSucceeded}, {string(KindResearch), RunRunning}} {
		if ExportSourceRefusal(c[0], c[1]) == "" {
			t.Errorf("%v accepted as an export source", c)
		}
	}
}

// TestWireNamesAreStable pins the names Temporal knows workflows, task
// queues and activities by: histories in flight replay, and workers of the
// previous release keep polling, only while these stay byte for byte.
func TestWireNamesAreStable(t *testing.T) {
	for got, want := range map[string]string{
		WorkflowExport: "Export", WorkflowExportsCleanup: "ExportsCleanup", WorkflowGenerate: "Generate",
		WorkflowResearch: "Research", WorkflowAirtableSync: "AirtableSync", WorkflowAirtableSyncScheduled: "AirtableSyncScheduled",
		TaskQueueDefault: "groundwork", TaskQueueRender: "render", TaskQueueBrowser: "browser", TaskQueueLLM: "llm", TaskQueueAirtable: "airtable",
		ActivityExportPrepare: "ExportPrepare", ActivityExportRender: "ExportRender", ActivityExportRecord: "ExportRecord",
		ActivityExportDiscard: "ExportDiscard", ActivityExportsDeleteExpired: "ExportsDeleteExpired",
		ActivityLLMGenerate: "LLMGenerate", ActivityGenerateRecord: "GenerateRecord", ActivityGenerateDiscard: "GenerateDiscard",
		ActivityResearchPrepare: "ResearchPrepare", ActivityResearchFetch: "ResearchFetch", ActivityResearchDiscover: "ResearchDiscover",
		ActivityResearchSummarize: "ResearchSummarize", ActivityResearchReport: "ResearchReport", ActivityResearchRecord: "ResearchRecord",
		ActivityResearchDiscard: "ResearchDiscard", ActivityAirtablePrepare: "AirtablePrepare", ActivityAirtableFetch: "AirtableFetch",
		ActivityAirtablePlan: "AirtablePlan", ActivityAirtableApply: "AirtableApply", ActivityAirtableFinish: "AirtableFinish",
		ActivityAirtableDiscard: "AirtableDiscard", ActivityAirtableLaunch: "AirtableLaunch",
		QueryProgress: "progress", SearchAttrOwnerName: "GroundworkOwner", SearchAttrKindName: "GroundworkKind",
		ScheduleExportsCleanup: "exports-cleanup",
	} {
		if got != want {
			t.Errorf("a wire name changed: %q, was %q", got, want)
		}
	}
}
