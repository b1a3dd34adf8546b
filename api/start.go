package api

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/metrics"
)

// Typed keys of the search attributes runs are started with.
var (
	searchAttrOwner = temporal.NewSearchAttributeKeyKeyword(groundwork.SearchAttrOwnerName)
	searchAttrKind  = temporal.NewSearchAttributeKeyKeyword(groundwork.SearchAttrKindName)
)

// startBudget bounds recording a run and starting its workflow once the
// API has begun to, on a context of its own.
const startBudget = 10 * time.Second

// startRequest is a validated request to start a run.
type startRequest struct {
	owner string
	// workspace is the workspace the run is started in.
	workspace      string
	kind           groundwork.Kind
	idempotencyKey string
	// body is the validated request, stored for the workflow to load.
	body []byte
	// id is the run's ID when the caller chose it (a replay); else a new one.
	id string
}

// startOutput starts a run of kind for the caller and answers 202 with it;
// with Prefer: wait=N, 200 with the finished run when it ends within N
// seconds.
func (s *Server) startOutput(ctx context.Context, kind groundwork.Kind, h StartHeaders, body []byte) (*startRunOutput, error) {
	wait, err := preferWait(h.Prefer)
	if err != nil {
		return nil, err
	}
	p, _ := PrincipalFrom(ctx)
	row, _, err := s.startRun(ctx, startRequest{owner: p.UserID, workspace: p.WorkspaceID, kind: kind, idempotencyKey: h.IdempotencyKey, body: body})
	if err != nil {
		return nil, err
	}
	out := &startRunOutput{Status: http.StatusAccepted, Location: "/v1/runs/" + row.ID, Body: s.runFromRow(row, nil)}
	if wait == 0 {
		return out, nil
	}
	// A repeated Idempotency-Key may name a run that already ended.
	if row.ClosedAt == nil && !s.awaitRun(ctx, row.ID, wait) {
		return out, nil
	}
	run, err := s.readRun(ctx, p.UserID, row.ID)
	if err != nil || !isTerminal(run.Status) {
		// The run ended in Temporal but its outcome could not be read:
		// the 202 sends the client to GET it.
		return out, nil
	}
	out.Status, out.PreferenceApplied, out.Body = http.StatusOK, fmt.Sprintf("wait=%d", int(wait/time.Second)), run
	return out, nil
}

// startRun records the run and its input in one statement, then starts
// its workflow. If the start fails the run is deleted again, so nothing is
// left half written. A repeated Idempotency-Key returns the first run (and
// created=false), or 409 when the body differs.
func (s *Server) startRun(ctx context.Context, req startRequest) (sqlc.Run, bool, error) {
	sum := groundwork.RequestHash(req.kind, req.body)
	var key *string
	if req.idempotencyKey != "" {
		key = &req.idempotencyKey
	}
	// From here the start is finished whatever the client does: a row
	// committed after the client hung up must get its workflow (or be
	// removed), not stay queued forever counting against the open-run cap.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), startBudget)
	defer cancel()
	created := true
	cr, err := s.q.RunCreate(ctx, sqlc.RunCreateParams{
		ID:             cmp.Or(req.id, groundwork.NewRunID(req.kind, s.d.Now())),
		OwnerID:        req.owner,
		WorkspaceID:    req.workspace,
		Kind:           string(req.kind),
		IdempotencyKey: key,
		RequestHash:    sum,
		MaxOpen:        int64(s.d.MaxOpenRuns),
		Body:           req.body,
	})
	row := sqlc.Run(cr)
	if db.IsNotFound(err) {
		// No row: the key was used before — a repeat gets its run, even at
		// the cap, since the retry of a start whose answer was lost is not
		// a new run — or the caller is at the open-run cap.
		created = false
		if key != nil {
			row, err = s.q.RunGetByIdempotencyKey(ctx, sqlc.RunGetByIdempotencyKeyParams{OwnerID: req.owner, IdempotencyKey: key})
			if err == nil && !bytes.Equal(row.RequestHash, sum) {
				return sqlc.Run{}, false, idempotencyConflict()
			}
		}
		if key == nil || db.IsNotFound(err) {
			return sqlc.Run{}, false, s.tooManyOpenRuns(ctx, req.owner)
		}
	}
	if err != nil {
		s.d.Log.ErrorContext(ctx, "record run", "error", err)
		return sqlc.Run{}, false, dependencyError("postgres", err)
	}
	if !created {
		if row.Status == sqlc.RunStatusQueued && row.ClosedAt == nil {
			// The first try may have died between recording the run and
			// starting its workflow (an API killed mid-start, whose client
			// or load balancer now retries with the key): start it, which
			// is a no-op for a workflow that already runs.
			if err := s.startWorkflow(ctx, row); err != nil {
				s.d.Log.ErrorContext(ctx, "start workflow of a replayed run", "run_id", row.ID, "error", err)
				return sqlc.Run{}, false, dependencyError("temporal", err)
			}
		}
		return row, false, nil
	}
	if err := s.startWorkflow(ctx, row); err != nil {
		s.d.Log.ErrorContext(ctx, "start workflow", "run_id", row.ID, "error", err)
		// Undo on a context of its own: the request's may be gone.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if derr := s.q.RunDelete(dctx, row.ID); derr != nil {
			s.d.Log.ErrorContext(ctx, "undo run after failed start", "run_id", row.ID, "error", derr)
		}
		return sqlc.Run{}, false, dependencyError("temporal", err)
	}
	s.d.Log.InfoContext(ctx, "run started", "run_id", row.ID, "kind", row.Kind, "user_id", row.OwnerID)
	return row, true, nil
}

// tooManyOpenRuns is the 429 of a start refused at the open-run cap.
func (s *Server) tooManyOpenRuns(ctx context.Context, owner string) error {
	open, err := s.q.RunCountOpen(ctx, owner)
	if err != nil {
		return dependencyError("postgres", err)
	}
	return problem(http.StatusTooManyRequests, groundwork.SlugTooManyOpenRuns,
		fmt.Sprintf("you have %d runs that have not ended, the most one user may; wait for one to end or cancel one", open))
}

// startWorkflow starts the run's workflow; starting one that already runs
// is not an error, which makes the call safe to repeat.
func (s *Server) startWorkflow(ctx context.Context, row sqlc.Run) error {
	k := groundwork.Kind(row.Kind).Spec()
	if k.Workflow == "" {
		return fmt.Errorf("no workflow for kind %q", row.Kind)
	}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_, err := s.d.Temporal.ExecuteWorkflow(sctx, client.StartWorkflowOptions{
		ID:                       row.ID,
		TaskQueue:                groundwork.TaskQueueDefault,
		WorkflowExecutionTimeout: k.ExecutionTimeout,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			searchAttrOwner.ValueSet(row.OwnerID),
			searchAttrKind.ValueSet(row.Kind),
		),
		EnableEagerStart: s.d.EagerStart,
	}, k.Workflow, groundwork.RunInput{RunID: row.ID, OwnerID: row.OwnerID})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("start %s workflow: %w", k.Workflow, err)
	}
	metrics.RunsStarted.WithLabelValues(row.Kind).Inc()
	return nil
}

// idempotencyConflict answers a repeated Idempotency-Key with another body.
func idempotencyConflict() *Problem {
	return problem(http.StatusConflict, groundwork.SlugConflict, "this Idempotency-Key was used with a different request body")
}
