package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/internal/config"
	"github.com/groundwork-dev/groundwork/workflows"
)

// EnsureSchedules creates the Temporal Schedules Groundwork relies on, or
// updates their interval. Every worker calls it at start; it is idempotent.
func EnsureSchedules(ctx context.Context, c client.Client, cleanupEvery time.Duration) error {
	if cleanupEvery <= 0 {
		cleanupEvery = config.DefaultCleanupEvery
	}
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: cleanupEvery}}}
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:      groundwork.ScheduleExportsCleanup,
		Spec:    spec,
		Overlap: enums.SCHEDULE_OVERLAP_POLICY_SKIP,
		Action: &client.ScheduleWorkflowAction{
			ID:                       groundwork.ScheduleExportsCleanup,
			Workflow:                 groundwork.WorkflowExportsCleanup,
			TaskQueue:                groundwork.TaskQueueDefault,
			WorkflowExecutionTimeout: groundwork.ExportsCleanupTimeout,
			TypedSearchAttributes: temporal.NewSearchAttributes(
				workflows.SearchAttrKind.ValueSet(groundwork.ScheduleExportsCleanup),
			),
		},
	})
	if err == nil {
		return nil
	}
	var exists *serviceerror.AlreadyExists
	if !errors.As(err, &exists) && !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return fmt.Errorf("create schedule %s: %w", groundwork.ScheduleExportsCleanup, err)
	}
	h := c.ScheduleClient().GetHandle(ctx, groundwork.ScheduleExportsCleanup)
	err = h.Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			in.Description.Schedule.Spec = &spec
			return &client.ScheduleUpdate{Schedule: &in.Description.Schedule}, nil
		},
	})
	if err != nil {
		return fmt.Errorf("update schedule %s: %w", groundwork.ScheduleExportsCleanup, err)
	}
	return nil
}
