package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/groundwork-dev/groundwork"
)

// AnalyticsRollup recomputes one granularity's analytics rollups from its
// watermark (minus the lateness window) to the last complete bucket. Its
// schedules run it hourly and daily; re-running a window gives the same
// figures.
func AnalyticsRollup(ctx workflow.Context, in groundwork.RollupInput) (groundwork.RollupResult, error) {
	prog, err := newProgressTracker(ctx)
	if err != nil {
		return groundwork.RollupResult{}, err
	}
	prog.set(ctx, groundwork.StageRollingUp, 0, 0, "rolling up "+in.Granularity+" buckets")
	var res groundwork.RollupResult
	actx := withActivity(ctx, groundwork.ActivityAnalyticsRollup)
	if err := workflow.ExecuteActivity(actx, groundwork.ActivityAnalyticsRollup, in).Get(ctx, &res); err != nil {
		prog.set(ctx, groundwork.StageFailed, 0, 0, "rollup failed; the next scheduled run retries")
		return res, err
	}
	prog.set(ctx, groundwork.StageDone, res.Rows, res.Rows, fmt.Sprintf("%d rows for %s buckets up to %s", res.Rows, in.Granularity, res.Through))
	return res, nil
}

// EventPartitions creates the events table's partitions ahead and drops
// those past retention. Its schedule runs it daily; it is safe at any time.
func EventPartitions(ctx workflow.Context) (groundwork.PartitionsResult, error) {
	prog, err := newProgressTracker(ctx)
	if err != nil {
		return groundwork.PartitionsResult{}, err
	}
	prog.set(ctx, groundwork.StagePartitioning, 0, 0, "creating and dropping event partitions")
	var res groundwork.PartitionsResult
	actx := withActivity(ctx, groundwork.ActivityEventPartitions)
	if err := workflow.ExecuteActivity(actx, groundwork.ActivityEventPartitions).Get(ctx, &res); err != nil {
		prog.set(ctx, groundwork.StageFailed, 0, 0, "partitioning failed; the next scheduled run retries")
		return res, err
	}
	prog.set(ctx, groundwork.StageDone, 0, 0, fmt.Sprintf("created %d and dropped %d partitions", res.Created, res.Dropped))
	return res, nil
}
