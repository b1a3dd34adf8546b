package test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	"gocloud.dev/blob"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/activities"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/testkit/testenv"
)

// sseEvent is one Server-Sent Event.
type sseEvent struct {
	ID, Event string
	Data      []byte
}

// readEvents reads events until the stream ends or max events arrived.
func readEvents(t *testing.T, resp *http.Response, max int) []sseEvent {
	t.Helper()
	var events []sseEvent
	var cur sseEvent
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() && len(events) < max {
		line := sc.Text()
		switch {
		case line == "":
			if cur.Event != "" {
				events = append(events, cur)
			}
			cur = sseEvent{}
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "id: "):
			cur.ID = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "event: "):
			cur.Event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			cur.Data = []byte(strings.TrimPrefix(line, "data: "))
		}
	}
	return events
}

func openEvents(t *testing.T, c *apiClient, id, lastEventID string) *http.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/v1/runs/"+id+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return resp
}

func TestRunEventsStreamProgressThenDone(t *testing.T) {
	s := sharedStack(t)
	c := s.newUser(t, "user-sse")
	columns, rows := bigTable(20_000, 5)
	r, resp := c.startExport(map[string]any{"format": "csv", "columns": columns, "rows": rows})
	if resp.Status != http.StatusAccepted {
		t.Fatalf("start: %d", resp.Status)
	}
	events := readEvents(t, openEvents(t, c, r.ID, ""), 100)
	if len(events) < 2 {
		t.Fatalf("got %d events: %+v", len(events), events)
	}
	last := events[len(events)-1]
	if last.Event != "done" {
		t.Fatalf("last event %q, want done", last.Event)
	}
	var final run
	if err := json.Unmarshal(last.Data, &final); err != nil || final.Status != "succeeded" {
		t.Fatalf("done event: %s (%v)", last.Data, err)
	}
	prev := int64(-1)
	for _, e := range events[:len(events)-1] {
		if e.Event != "progress" {
			t.Fatalf("unexpected event %q", e.Event)
		}
		var v int64
		// An id repeats when the render reported more rows within one
		// workflow progress version; it never goes back.
		if err := json.Unmarshal([]byte(e.ID), &v); err != nil || v < prev {
			t.Fatalf("event ids must not decrease: %q after %d", e.ID, prev)
		}
		prev = v
	}
	// Resuming after the last event sends no progress again, only done.
	resumed := readEvents(t, openEvents(t, c, r.ID, last.ID), 10)
	if len(resumed) != 1 || resumed[0].Event != "done" {
		t.Fatalf("resume with Last-Event-ID: %+v", resumed)
	}
}

// runHeldAtRender starts an export on a stack without a render worker (on a
// Temporal server of its own, so no other test's worker renders for it):
// the run waits at its render step.
func runHeldAtRender(t *testing.T, user string) (*stack, *apiClient, string) {
	t.Helper()
	s := startStack(t, stackOptions{
		temporalHostPort: testenv.StartTemporal(t).FrontendHostPort(),
		workers:          "main", ratePerSec: 1000, ratePerMin: 100000,
	}, true)
	c := s.newUser(t, user)
	// One cell more than renders locally: the render goes to the render
	// queue, which this stack does not poll.
	rows := make([][]any, groundwork.LocalRenderCells+1)
	for i := range rows {
		rows[i] = []any{i}
	}
	r, resp := c.startExport(map[string]any{"format": "csv", "columns": []string{"a"}, "rows": rows})
	if resp.Status != http.StatusAccepted {
		t.Fatalf("start: %d", resp.Status)
	}
	testenv.Eventually(t, 30*time.Second, "the run to reach rendering", func() bool {
		return c.getRun(r.ID).Progress["stage"] == "rendering"
	})
	return s, c, r.ID
}

// TestCancelLeavesNothingBehind cancels an export waiting at its render step.
func TestCancelLeavesNothingBehind(t *testing.T) {
	s, c, id := runHeldAtRender(t, "user-cancel")
	r := run{ID: id}
	if got := c.getRun(r.ID).Status; got != "running" {
		t.Fatalf("status while rendering = %q", got)
	}
	cancelResp := c.do(http.MethodPost, "/v1/runs/"+r.ID+"/cancel", nil)
	if cancelResp.Status != http.StatusAccepted {
		t.Fatalf("cancel: %d %s", cancelResp.Status, cancelResp.Body)
	}
	done := c.waitRun(r.ID)
	if done.Status != "canceled" || done.Result != nil {
		t.Fatalf("after cancel: %+v", done)
	}
	// Nothing left: no export row, no input, no blob.
	ctx := context.Background()
	q := sqlc.New(s.App.Pool)
	if _, err := q.ExportGet(ctx, r.ID); err == nil {
		t.Error("export row left behind")
	}
	if _, err := q.RunInputGet(ctx, r.ID); err == nil {
		t.Error("run input left behind")
	}
	it := s.App.Bucket.List(&blob.ListOptions{Prefix: activities.ExportBlobPrefix(r.ID)})
	if obj, err := it.Next(ctx); err == nil {
		t.Errorf("blob left behind: %s", obj.Key)
	}
	// Canceling again is a no-op; the download is gone.
	if again := c.do(http.MethodPost, "/v1/runs/"+r.ID+"/cancel", nil); again.Status != http.StatusAccepted {
		t.Errorf("second cancel: %d", again.Status)
	}
	if dl := c.do(http.MethodGet, "/v1/exports/"+r.ID+"/download", nil); dl.Status != http.StatusNotFound {
		t.Errorf("download after cancel: %d", dl.Status)
	}
	replayAndRecord(t, s.App.Temporal, r.ID, "export_canceled.json")
}

func TestCancelSucceededRunConflicts(t *testing.T) {
	s := sharedStack(t)
	c := s.newUser(t, "user-cancel-done")
	r, _ := c.startExport(map[string]any{"format": "csv", "columns": []string{"a"}, "rows": [][]any{{"1"}}})
	c.waitRun(r.ID)
	resp := c.do(http.MethodPost, "/v1/runs/"+r.ID+"/cancel", nil)
	if resp.Status != http.StatusConflict || !isProblem(resp) {
		t.Fatalf("cancel succeeded run: %d %s", resp.Status, resp.Body)
	}
}

// TestPollersShareOneQuery stops the workflow worker under an open run, so
// a progress query can only time out: twenty concurrent polls must still be
// answered (from Postgres) and send one query between them, not twenty.
func TestPollersShareOneQuery(t *testing.T) {
	s, c, id := runHeldAtRender(t, "user-pollers")
	r := run{ID: id}
	s.Workers[0].Stop()
	before := metricValue(t, s, `groundwork_progress_queries_total{outcome="timeout"}`)
	var wg sync.WaitGroup
	statuses := make([]string, 20)
	start := make(chan struct{})
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			statuses[i] = c.getRun(r.ID).Status
		}()
	}
	close(start)
	wg.Wait()
	for i, st := range statuses {
		if st != "running" {
			t.Fatalf("poll %d: status %q", i, st)
		}
	}
	if sent := metricValue(t, s, `groundwork_progress_queries_total{outcome="timeout"}`) - before; sent < 1 || sent > 2 {
		t.Fatalf("%v queries for 20 concurrent polls, want 1 (2 if one poll came late)", sent)
	}
}

// metricValue reads one sample from /metrics.
func metricValue(t *testing.T, s *stack, series string) float64 {
	t.Helper()
	resp, err := http.Get(s.MetricsURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	return 0
}

// TestRunWithoutWorkflow covers a crash between recording a run and
// starting its workflow: a fresh run is started when read, an old one is
// closed as lost instead of redoing stale work.
func TestRunWithoutWorkflow(t *testing.T) {
	s := sharedStack(t)
	c := s.newUser(t, "user-lost-start")
	ctx := context.Background()
	q := sqlc.New(s.App.Pool)
	record := func(id string) {
		body := []byte(`{"format":"csv","columns":["a"],"rows":[["1"]]}`)
		if _, err := q.RunCreate(ctx, sqlc.RunCreateParams{ID: id, OwnerID: "user-lost-start", WorkspaceID: "user-lost-start", Kind: "export", RequestHash: []byte{1}, Body: body, MaxOpen: db.NoOpenRunCap}); err != nil {
			t.Fatal(err)
		}
	}
	fresh := groundwork.NewRunID(groundwork.KindExport, time.Now())
	record(fresh)
	if done := c.waitRun(fresh); done.Status != "succeeded" {
		t.Fatalf("fresh lost start: %s %+v", done.Status, done.Error)
	}
	old := groundwork.NewRunID(groundwork.KindExport, time.Now())
	record(old)
	if _, err := s.App.Pool.Exec(ctx, "UPDATE runs SET created_at = now() - interval '2 hours' WHERE id = $1", old); err != nil {
		t.Fatal(err)
	}
	got := c.getRun(old)
	if got.Status != "failed" || got.Error == nil || got.Error.Type != "lost" {
		t.Fatalf("old lost start: %s %+v", got.Status, got.Error)
	}
	if workflowExists(t, s, old) {
		t.Fatal("an old lost run was started")
	}
}

// TestReplayStartsLostWorkflow covers an API killed between recording a
// keyed run and starting its workflow, whose client (or nginx's keyed
// retry) sends the start again: the replay starts the workflow before it
// answers, rather than returning a run nothing will ever start.
func TestReplayStartsLostWorkflow(t *testing.T) {
	s := sharedStack(t)
	c := s.newUser(t, "user-lost-replay")
	ctx := context.Background()
	body := []byte(`{"format":"csv","columns":["a"],"rows":[["1"]]}`)
	key := "lost-replay-1"
	id := groundwork.NewRunID(groundwork.KindExport, time.Now())
	if _, err := sqlc.New(s.App.Pool).RunCreate(ctx, sqlc.RunCreateParams{ID: id, OwnerID: "user-lost-replay", WorkspaceID: "user-lost-replay",
		Kind: "export", IdempotencyKey: &key, RequestHash: groundwork.RequestHash(groundwork.KindExport, body), Body: body, MaxOpen: db.NoOpenRunCap}); err != nil {
		t.Fatal(err)
	}
	resp := c.do(http.MethodPost, "/v1/exports", body, "Idempotency-Key", key)
	var r run
	resp.json(t, &r)
	if resp.Status != http.StatusAccepted || r.ID != id {
		t.Fatalf("replay: %d %s, want 202 with %s", resp.Status, resp.Body, id)
	}
	if !workflowExists(t, s, id) {
		t.Fatal("the replay answered without starting the run's workflow")
	}
	if done := c.waitRun(id); done.Status != "succeeded" {
		t.Fatalf("replayed run: %s %+v", done.Status, done.Error)
	}
	// A second replay of the now closed run answers it as it is.
	resp = c.do(http.MethodPost, "/v1/exports", body, "Idempotency-Key", key)
	if resp.Status != http.StatusAccepted {
		t.Fatalf("second replay: %d %s", resp.Status, resp.Body)
	}
}

func workflowExists(t *testing.T, s *stack, id string) bool {
	t.Helper()
	_, err := s.App.Temporal.DescribeWorkflowExecution(context.Background(), id, "")
	var nf *serviceerror.NotFound
	if err != nil && !errors.As(err, &nf) {
		t.Fatal(err)
	}
	return err == nil
}
