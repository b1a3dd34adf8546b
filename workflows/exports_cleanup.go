package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/groundwork-dev/groundwork"
)

// ExportsCleanup deletes expired export files and rows. The schedule
// ScheduleExportsCleanup runs it; it is safe to run at any time.
func ExportsCleanup(ctx workflow.Context) (groundwork.CleanupResult, error) {
	prog, err := newProgressTracker(ctx)
	if err != nil {
		return groundwork.CleanupResult{}, err
	}
	prog.set(ctx, groundwork.StageDeleting, 0, 0, "deleting expired exports")
	actx := withActivity(ctx, groundwork.ActivityExportsDeleteExpired)
	var res groundwork.CleanupResult
	if err := workflow.ExecuteActivity(actx, groundwork.ActivityExportsDeleteExpired).Get(ctx, &res); err != nil {
		prog.set(ctx, groundwork.StageFailed, 0, 0, "cleanup failed; the next scheduled run retries")
		return res, err
	}
	prog.set(ctx, groundwork.StageDone, int64(res.Deleted), int64(res.Deleted), fmt.Sprintf("deleted %d expired exports (%d bytes)", res.Deleted, res.Bytes))
	return res, nil
}
