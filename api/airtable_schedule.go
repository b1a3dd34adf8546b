package api

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
)

// putSyncSchedule creates, updates or (every == 0) removes a mapping's
// Temporal Schedule. Overlapping syncs of one mapping are skipped: the
// next tick picks up whatever the running one did not.
func (s *Server) putSyncSchedule(ctx context.Context, mappingID, owner string, every time.Duration) error {
	if every == 0 {
		return s.deleteSyncSchedule(ctx, mappingID)
	}
	id := groundwork.ScheduleIDForMapping(mappingID)
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: every}}}
	sc := s.d.Temporal.ScheduleClient()
	_, err := sc.Create(ctx, client.ScheduleOptions{
		ID:      id,
		Spec:    spec,
		Overlap: enums.SCHEDULE_OVERLAP_POLICY_SKIP,
		Action: &client.ScheduleWorkflowAction{
			ID:                       id,
			Workflow:                 groundwork.WorkflowAirtableSyncScheduled,
			Args:                     []any{groundwork.AirtableScheduledInput{MappingID: mappingID, OwnerID: owner}},
			TaskQueue:                groundwork.TaskQueueDefault,
			WorkflowExecutionTimeout: groundwork.KindAirtableSync.Spec().ExecutionTimeout,
			TypedSearchAttributes: temporal.NewSearchAttributes(
				searchAttrOwner.ValueSet(owner),
				searchAttrKind.ValueSet(groundwork.SearchAttrKindAirtableSchedule),
			),
		},
	})
	var exists *serviceerror.AlreadyExists
	if err == nil || !(errors.As(err, &exists) || errors.Is(err, temporal.ErrScheduleAlreadyRunning)) {
		if err != nil {
			return fmt.Errorf("create schedule %s: %w", id, err)
		}
		return nil
	}
	err = sc.GetHandle(ctx, id).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			in.Description.Schedule.Spec = &spec
			return &client.ScheduleUpdate{Schedule: &in.Description.Schedule}, nil
		},
	})
	if err != nil {
		return fmt.Errorf("update schedule %s: %w", id, err)
	}
	return nil
}

// deleteSyncSchedule removes a mapping's schedule if it has one.
func (s *Server) deleteSyncSchedule(ctx context.Context, mappingID string) error {
	err := s.d.Temporal.ScheduleClient().GetHandle(ctx, groundwork.ScheduleIDForMapping(mappingID)).Delete(ctx)
	var nf *serviceerror.NotFound
	if err != nil && !errors.As(err, &nf) {
		return fmt.Errorf("delete schedule: %w", err)
	}
	return nil
}
