package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/oklog/ulid/v2"
	vegeta "github.com/tsenart/vegeta/v12/lib"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/workflows"
)

// The raw baseline's workflows go to a queue nobody polls and time out
// after a minute, so they cost a start and a timeout and then vanish.
const (
	rawWorkflow  = "BenchRaw"
	rawTaskQueue = "bench-raw"
	rawTimeout   = time.Minute
	// rawStartTimeout is the API's own bound on a start (api/start.go).
	rawStartTimeout = 5 * time.Second
)

// rawServer is a loopback HTTP server whose every request does what the
// API's start path does at its core, without the API: one Postgres insert
// and one StartWorkflow. vegeta attacks it like the API, so both are
// measured the same way; loopback HTTP adds well under a millisecond.
type rawServer struct {
	*httptest.Server
}

func newRawServer(ctx context.Context, e *env) (*rawServer, error) {
	if _, err := e.pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS bench_raw (
		id text PRIMARY KEY,
		created_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return nil, fmt.Errorf("create bench_raw: %w", err)
	}
	h := &rawStarter{pool: e.pool, temporal: e.temporal, owner: "bench-" + e.tag + "-raw"}
	return &rawServer{Server: httptest.NewServer(h)}, nil
}

// measure attacks the raw server at rate per second for du.
func (s *rawServer) measure(ctx context.Context, rate float64, du time.Duration) Summary {
	smp := newSample("raw start+insert")
	tr := vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodPost, URL: s.URL + "/start"})
	attack(ctx, tr, steady(rate, du), du, "raw", smp.add)
	return smp.summary()
}

type rawStarter struct {
	pool     *pgxpool.Pool
	temporal client.Client
	owner    string
}

// ServeHTTP inserts a row and then starts the workflow, in the API's order,
// with the API's start options: ID reuse policy, search attributes and
// timeout on the call.
func (h *rawStarter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := "bench-raw-" + ulid.Make().String()
	if _, err := h.pool.Exec(ctx, `INSERT INTO bench_raw (id) VALUES ($1)`, id); err != nil {
		http.Error(w, "insert: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	sctx, cancel := context.WithTimeout(ctx, rawStartTimeout)
	defer cancel()
	_, err := h.temporal.ExecuteWorkflow(sctx, client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                rawTaskQueue,
		WorkflowExecutionTimeout: rawTimeout,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.SearchAttrOwner.ValueSet(h.owner),
			workflows.SearchAttrKind.ValueSet(string(groundwork.KindExport)),
		),
	}, rawWorkflow, groundwork.ExportInput{RunID: id, OwnerID: h.owner})
	if err != nil {
		http.Error(w, "start: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// drain waits until this run's exports are no longer running, so the raw
// baseline does not share the Temporal server with the API's backlog. It
// gives up after timeout and says so: the baseline is then pessimistic.
func drain(ctx context.Context, e *env, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	query := fmt.Sprintf("%s = '%s' AND ExecutionStatus = 'Running' AND %s STARTS_WITH 'bench-%s-'",
		groundwork.SearchAttrKindName, groundwork.KindExport, groundwork.SearchAttrOwnerName, e.tag)
	began := time.Now()
	for {
		resp, err := e.temporal.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: query})
		switch {
		case err != nil && ctx.Err() == nil:
			logf("drain: cannot count running exports (%v); waiting 5s instead", err)
			sleep(ctx, 5*time.Second)
			return
		case err != nil:
			logf("drain: still running after %s; the raw baseline shares the server with them", timeout)
			return
		case resp.GetCount() == 0:
			logf("drain: no exports running (waited %s)", time.Since(began).Round(100*time.Millisecond))
			return
		}
		if !sleep(ctx, 500*time.Millisecond) {
			logf("drain: %d exports still running after %s; the raw baseline shares the server with them", resp.GetCount(), timeout)
			return
		}
	}
}

// sleep waits d or until ctx is done and reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
