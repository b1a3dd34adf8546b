package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
)

// queryTimeout bounds a progress query. A run whose first workflow task has
// not been picked up (no worker yet) cannot answer; it is reported queued.
const queryTimeout = 2 * time.Second

// lostStartWindow is how long after its creation a run whose workflow
// Temporal does not know is taken for a start lost in a crash, and started.
const lostStartWindow = time.Minute

// youngRun is the age under which a read of an open run asks Postgres
// only, not the workflow: a frontend polling a small job every few hundred
// milliseconds then costs Temporal nothing until the job is older.
const youngRun = 500 * time.Millisecond

// liveState is what Temporal says of an open run.
type liveState struct {
	// Progress is set when the workflow answered the query.
	Progress *groundwork.Progress
	// Closed is set when the workflow is no longer running.
	Closed bool
	// Missing is set when Temporal has no such workflow.
	Missing bool
}

// readRun returns the caller's run: from Postgres alone once it closed,
// else with the workflow's live progress.
func (s *Server) readRun(ctx context.Context, owner, id string) (Run, error) {
	row, err := s.ownedRun(ctx, owner, id)
	if err != nil {
		return Run{}, err
	}
	if row.ClosedAt != nil {
		return s.runFromRow(row, nil), nil
	}
	if s.d.Now().Sub(row.CreatedAt) < youngRun {
		// Its progress can hardly have moved yet, and a query would wait
		// for the workflow task in flight — for a small run, the one
		// that ends it: Postgres alone answers, and shows the end as soon
		// as it is recorded.
		return s.runFromRow(row, nil), nil
	}
	st, err := s.live(ctx, id)
	if err != nil {
		// Temporal is away: the stored state is still worth showing.
		s.d.Log.WarnContext(ctx, "progress query failed", "run_id", id, "error", err)
		return s.runFromRow(row, nil), nil
	}
	switch {
	case st.Progress != nil:
		if st.Progress.Stage != groundwork.StageQueued && row.Status == sqlc.RunStatusQueued {
			row.Status = sqlc.RunStatusRunning
		}
		return s.runFromRow(row, st.Progress), nil
	case st.Closed:
		row, err = s.reconcileClosed(ctx, row)
		if err != nil {
			return Run{}, err
		}
		return s.runFromRow(row, nil), nil
	case st.Missing && s.d.Now().Sub(row.CreatedAt) < lostStartWindow:
		// The API stopped between committing the run and starting its
		// workflow: the input is in Postgres, so start it now.
		if err := s.startWorkflow(ctx, row); err != nil {
			s.d.Log.WarnContext(ctx, "restart lost workflow", "run_id", id, "error", err)
		}
		return s.runFromRow(row, nil), nil
	case st.Missing:
		// An old open run whose workflow Temporal no longer has (it closed
		// unrecorded and its history passed retention): restarting it
		// would redo hours-old work nobody waits for, so it is closed.
		row, err = s.closeRun(ctx, row, sqlc.RunStatusFailed, &RunError{Type: "lost", Message: "the run's workflow no longer exists"})
		if err != nil {
			return Run{}, err
		}
		return s.runFromRow(row, nil), nil
	default:
		return s.runFromRow(row, nil), nil
	}
}

// live asks the workflow for its progress. Concurrent readers of one run
// (many pollers, SSE streams) share a single query.
func (s *Server) live(ctx context.Context, id string) (liveState, error) {
	v, err, _ := s.live1.Do(id, func() (any, error) {
		qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), queryTimeout)
		defer cancel()
		resp, err := s.d.Temporal.QueryWorkflowWithOptions(qctx, &client.QueryWorkflowWithOptionsRequest{
			WorkflowID: id,
			QueryType:  groundwork.QueryProgress,
			// A closed workflow is not replayed to answer: its outcome
			// comes from Postgres or DescribeWorkflowExecution.
			QueryRejectCondition: enumspb.QUERY_REJECT_CONDITION_NOT_OPEN,
		})
		var nf *serviceerror.NotFound
		switch {
		case errors.As(err, &nf):
			s.metrics.progressQueries.WithLabelValues("missing").Inc()
			return liveState{Missing: true}, nil
		case isTimeout(err):
			s.metrics.progressQueries.WithLabelValues("timeout").Inc()
			return liveState{}, nil
		case err != nil:
			s.metrics.progressQueries.WithLabelValues("error").Inc()
			return nil, err
		case resp.QueryRejected != nil:
			s.metrics.progressQueries.WithLabelValues("closed").Inc()
			return liveState{Closed: true}, nil
		}
		s.metrics.progressQueries.WithLabelValues("answered").Inc()
		var p groundwork.Progress
		if err := resp.QueryResult.Get(&p); err != nil {
			return nil, fmt.Errorf("decode progress: %w", err)
		}
		switch p.Stage {
		case "rendering", groundwork.StageGenerating, groundwork.StageFetching, groundwork.StageDiscovering:
			s.addActivityProgress(qctx, id, &p)
		}
		return liveState{Progress: &p}, nil
	})
	if err != nil {
		return liveState{}, err
	}
	return v.(liveState), nil
}

// reconcileClosed handles a workflow that closed without recording its
// outcome (timed out, terminated by an operator): it records it now.
func (s *Server) reconcileClosed(ctx context.Context, row sqlc.Run) (sqlc.Run, error) {
	// The workflow may have recorded its outcome just after our first read.
	fresh, err := s.q.RunGet(ctx, row.ID)
	if err != nil {
		return sqlc.Run{}, dependencyError("postgres", err)
	}
	if fresh.ClosedAt != nil {
		return fresh, nil
	}
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	desc, err := s.d.Temporal.DescribeWorkflowExecution(dctx, row.ID, "")
	if err != nil {
		return sqlc.Run{}, dependencyError("temporal", err)
	}
	status, runErr := closedStatus(desc.GetWorkflowExecutionInfo().GetStatus())
	if status == "" {
		return fresh, nil
	}
	return s.closeRun(ctx, row, status, runErr)
}

// closeRun records an outcome the workflow could not record itself; a run
// closed meanwhile keeps its first outcome.
func (s *Server) closeRun(ctx context.Context, row sqlc.Run, status sqlc.RunStatus, runErr *RunError) (sqlc.Run, error) {
	var errJSON json.RawMessage
	if runErr != nil {
		errJSON, _ = json.Marshal(runErr)
	}
	prog, _ := json.Marshal(groundwork.Progress{Stage: string(status), UpdatedAt: s.d.Now()})
	closed, err := s.q.RunFinish(ctx, sqlc.RunFinishParams{ID: row.ID, Status: status, Error: errJSON, Progress: prog})
	if db.IsNotFound(err) {
		closed, err = s.q.RunGet(ctx, row.ID)
	}
	if err != nil {
		return sqlc.Run{}, dependencyError("postgres", err)
	}
	return closed, nil
}

// closedStatus maps a Temporal execution status to a run status, "" while
// the workflow runs.
func closedStatus(st enumspb.WorkflowExecutionStatus) (sqlc.RunStatus, *RunError) {
	switch st {
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		// Completed without recording: should not happen; say so.
		return sqlc.RunStatusFailed, &RunError{Type: "internal", Message: "the run completed without recording its result"}
	case enumspb.WORKFLOW_EXECUTION_STATUS_FAILED:
		return sqlc.RunStatusFailed, &RunError{Type: "internal", Message: "the run failed"}
	case enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED:
		return sqlc.RunStatusCanceled, nil
	case enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED:
		return sqlc.RunStatusFailed, &RunError{Type: "terminated", Message: "an operator terminated the run"}
	case enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:
		return sqlc.RunStatusTimedOut, &RunError{Type: "timed_out", Message: "the run did not finish within its time limit"}
	case enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW:
		return "", nil
	default:
		return "", nil
	}
}

// isTimeout reports a query that got no answer in time: the client's own
// deadline, or the server's when no worker picked the query up.
func isTimeout(err error) bool {
	var de *serviceerror.DeadlineExceeded
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &de)
}

// addActivityProgress fills in what a running activity reported in its
// last heartbeat, which the workflow itself never sees: a render's page or
// row count, a generation's tokens and text so far. Best effort: without
// it the stage-level progress stands.
func (s *Server) addActivityProgress(ctx context.Context, id string, p *groundwork.Progress) {
	desc, err := s.d.Temporal.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		return
	}
	dc := converter.GetDefaultDataConverter()
	// Pages being fetched, and pages waiting for their domain's rate.
	var pages, waiting []string
	defer func() {
		if len(pages) > 0 {
			slices.Sort(pages)
			p.Message += "; now fetching " + strings.Join(pages, ", ")
		}
		if len(waiting) > 0 {
			slices.Sort(waiting)
			p.Message += "; waiting for the site's rate limit: " + strings.Join(waiting, ", ")
		}
	}()
	for _, pa := range desc.GetPendingActivities() {
		if pa.GetHeartbeatDetails() == nil {
			continue
		}
		switch pa.GetActivityType().GetName() {
		case groundwork.ActivityExportRender:
			var rp groundwork.RenderProgress
			if err := dc.FromPayloads(pa.GetHeartbeatDetails(), &rp); err != nil || rp.Done == 0 {
				continue
			}
			p.Done, p.Total = rp.Done, rp.Total
			if rp.Total > 0 {
				p.Message = fmt.Sprintf("rendering %s %d of %d", rp.Unit, rp.Done, rp.Total)
			} else {
				p.Message = fmt.Sprintf("rendering %s %d", rp.Unit, rp.Done)
			}
		case groundwork.ActivityResearchFetch:
			var hb groundwork.PageHeartbeat
			switch err := dc.FromPayloads(pa.GetHeartbeatDetails(), &hb); {
			case err != nil || hb.URL == "":
			case hb.Phase == "waiting":
				waiting = append(waiting, hb.URL)
			default:
				pages = append(pages, hb.URL)
			}
		case groundwork.ActivityLLMGenerate:
			var hb groundwork.GenerateHeartbeat
			if err := dc.FromPayloads(pa.GetHeartbeatDetails(), &hb); err != nil {
				continue
			}
			p.Done, p.Total, p.Text = hb.OutputTokens, hb.MaxTokens, hb.Text
			if hb.Phase == "waiting" {
				p.Message = fmt.Sprintf("waiting for %s's token budget", hb.Provider)
			} else {
				p.Message = fmt.Sprintf("%s/%s: %d tokens so far", hb.Provider, hb.Model, hb.OutputTokens)
			}
		}
	}
}
