package test

import (
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/groundwork-dev/groundwork/internal/testkit/testenv"
)

// span is one received span.
type span struct {
	trace, id, parent, name string
}

// otlpReceiver is an OTLP/HTTP traces endpoint on loopback that keeps
// what it is sent, decoded from the protobuf wire format.
type otlpReceiver struct {
	srv   *httptest.Server
	mu    sync.Mutex
	spans []span
}

func newOTLPReceiver(t *testing.T) *otlpReceiver {
	r := &otlpReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var msg collectortrace.ExportTraceServiceRequest
		if req.URL.Path != "/v1/traces" || proto.Unmarshal(body, &msg) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		for _, rs := range msg.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					r.spans = append(r.spans, span{trace: hex.EncodeToString(s.TraceId), id: hex.EncodeToString(s.SpanId),
						parent: hex.EncodeToString(s.ParentSpanId), name: s.Name})
				}
			}
		}
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
		_, _ = w.Write(out)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *otlpReceiver) trace(id string) []span {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []span
	for _, s := range r.spans {
		if s.trace == id {
			out = append(out, s)
		}
	}
	return out
}

// TestExportIsOneTrace starts an export with tracing on and checks that
// its spans, from the POST through StartWorkflow, the workflow, its local
// activities and the render activity to their Postgres queries, are one
// tree under the request's span.
func TestExportIsOneTrace(t *testing.T) {
	testenv.SkipShort(t, "Postgres and Temporal")
	rcv := newOTLPReceiver(t)
	s := startStack(t, stackOptions{temporalHostPort: testenv.StartTemporal(t).FrontendHostPort(), workers: "all",
		ratePerSec: 10000, ratePerMin: 1000000, tracesEndpoint: rcv.srv.URL + "/v1/traces"}, true)
	c := s.newUser(t, "trace-user")
	// The caller's own trace: the API continues it.
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	r, resp := c.startExport(map[string]any{"format": "csv", "columns": []string{"n"}, "rows": [][]any{{1}}},
		"traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	if resp.Status != http.StatusAccepted {
		t.Fatalf("export: %d %s", resp.Status, resp.Body)
	}
	if d := c.waitRun(r.ID); d.Status != "succeeded" {
		t.Fatalf("run: %+v", d)
	}
	want := []string{"POST /v1/exports", "StartWorkflow:Export", "RunWorkflow:Export", "RunActivity:ExportRender"}
	testenv.Eventually(t, 30*time.Second, "the export's spans", func() bool {
		_ = s.App.Traces.Flush(context.Background())
		names := map[string]bool{}
		for _, sp := range rcv.trace(traceID) {
			names[sp.name] = true
		}
		for _, w := range want {
			if !names[w] {
				return false
			}
		}
		return true
	})
	spans := rcv.trace(traceID)
	ids := map[string]span{}
	for _, sp := range spans {
		ids[sp.id] = sp
	}
	// One tree: every span's parent is in the trace but for the request's,
	// whose parent is the caller's span.
	var roots []string
	pg := 0
	for _, sp := range spans {
		if _, ok := ids[sp.parent]; !ok {
			roots = append(roots, sp.name+" (parent "+sp.parent+")")
		}
		if strings.HasPrefix(sp.name, "query") || strings.Contains(sp.name, "SELECT") || strings.Contains(sp.name, "INSERT") || strings.Contains(sp.name, "UPDATE") {
			pg++
		}
	}
	if len(roots) != 1 || !strings.HasPrefix(roots[0], "POST /v1/exports (parent 00f067aa0ba902b7)") {
		t.Errorf("roots %v of %d spans", roots, len(spans))
	}
	// The render descends from the request through the workflow.
	render := ""
	for _, sp := range spans {
		if sp.name == "RunActivity:ExportRender" {
			render = sp.id
		}
	}
	var chain []string
	for id := render; id != ""; id = ids[id].parent {
		sp, ok := ids[id]
		if !ok {
			break
		}
		chain = append([]string{sp.name}, chain...)
	}
	if len(chain) < 4 || chain[0] != "POST /v1/exports" {
		t.Errorf("render's ancestry: %v", chain)
	}
	if pg == 0 {
		t.Errorf("no Postgres query spans among %d", len(spans))
	}
	t.Logf("%d spans in the export's trace; the render's ancestry: %s", len(spans), strings.Join(chain, " → "))
}
