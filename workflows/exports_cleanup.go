package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// ActivityExportsDeleteExpired deletes exports past their TTL.
const ActivityExportsDeleteExpired = "ExportsDeleteExpired"

// ScheduleExportsCleanup is the ID of the Temporal Schedule that runs
// ExportsCleanup, and the workflow ID prefix of its runs.
const ScheduleExportsCleanup = "exports-cleanup"

// CleanupResult counts what a cleanup deleted.
type CleanupResult struct {
	Deleted int   `json:"deleted"`
	Bytes   int64 `json:"bytes"`
}

// ExportsCleanup deletes expired export files and rows. The schedule
// ScheduleExportsCleanup runs it; it is safe to run at any time.
func ExportsCleanup(ctx workflow.Context) (CleanupResult, error) {
	prog, err := newProgressTracker(ctx)
	if err != nil {
		return CleanupResult{}, err
	}
	prog.set(ctx, "deleting", 0, 0, "deleting expired exports")
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    5 * time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    5 * time.Minute,
			MaximumAttempts:    10,
		},
	})
	var res CleanupResult
	if err := workflow.ExecuteActivity(actx, ActivityExportsDeleteExpired).Get(ctx, &res); err != nil {
		prog.set(ctx, StageFailed, 0, 0, "cleanup failed; the next scheduled run retries")
		return res, err
	}
	prog.set(ctx, StageDone, int64(res.Deleted), int64(res.Deleted), fmt.Sprintf("deleted %d expired exports (%d bytes)", res.Deleted, res.Bytes))
	return res, nil
}
