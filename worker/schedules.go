package worker

import (
	"cmp"
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

// Schedules are the intervals of Groundwork's own Temporal Schedules; a
// zero interval is the default's.
type Schedules struct {
	// CleanupEvery runs ExportsCleanup.
	CleanupEvery time.Duration
	// RollupHourlyEvery and RollupDailyEvery run AnalyticsRollup for hour
	// and day buckets.
	RollupHourlyEvery, RollupDailyEvery time.Duration
	// PartitionsEvery runs EventPartitions.
	PartitionsEvery time.Duration
	// StalledEvery runs StalledCustomers.
	StalledEvery time.Duration
}

// Digest times: the daily digest at 08:00 UTC, the weekly one on Mondays.
var (
	dailyDigestAt = client.ScheduleCalendarSpec{
		Hour: []client.ScheduleRange{{Start: 8}}, DayOfWeek: []client.ScheduleRange{{Start: 0, End: 6}},
		Comment: "08:00 UTC daily",
	}
	weeklyDigestAt = client.ScheduleCalendarSpec{
		Hour: []client.ScheduleRange{{Start: 8}}, DayOfWeek: []client.ScheduleRange{{Start: 1}},
		Comment: "08:00 UTC on Mondays",
	}
)

// schedule is one Temporal Schedule Groundwork relies on.
type schedule struct {
	id, workflow string
	// every or at: an interval or a calendar time.
	every   time.Duration
	at      *client.ScheduleCalendarSpec
	timeout time.Duration
	args    []any
}

// EnsureSchedules creates the Temporal Schedules Groundwork relies on, or
// updates their interval. Every worker calls it at start; it is idempotent.
func EnsureSchedules(ctx context.Context, c client.Client, s Schedules) error {
	all := []schedule{
		{id: groundwork.ScheduleExportsCleanup, workflow: groundwork.WorkflowExportsCleanup,
			every: cmp.Or(s.CleanupEvery, config.DefaultCleanupEvery), timeout: groundwork.ExportsCleanupTimeout},
		{id: groundwork.ScheduleAnalyticsRollup + "-hour", workflow: groundwork.WorkflowAnalyticsRollup,
			every: cmp.Or(s.RollupHourlyEvery, config.DefaultRollupHourlyEvery), timeout: groundwork.MaintenanceTimeout,
			args: []any{groundwork.RollupInput{Granularity: groundwork.GranularityHour}}},
		{id: groundwork.ScheduleAnalyticsRollup + "-day", workflow: groundwork.WorkflowAnalyticsRollup,
			every: cmp.Or(s.RollupDailyEvery, config.DefaultRollupDailyEvery), timeout: groundwork.MaintenanceTimeout,
			args: []any{groundwork.RollupInput{Granularity: groundwork.GranularityDay}}},
		{id: groundwork.ScheduleEventPartitions, workflow: groundwork.WorkflowEventPartitions,
			every: cmp.Or(s.PartitionsEvery, config.DefaultEventPartitionsEvery), timeout: groundwork.MaintenanceTimeout},
		{id: groundwork.ScheduleStalledCustomers, workflow: groundwork.WorkflowStalledCustomers,
			every: cmp.Or(s.StalledEvery, config.DefaultStalledEvery), timeout: groundwork.MaintenanceTimeout},
		{id: groundwork.ScheduleDailyDigest, workflow: groundwork.WorkflowEmailDigest, at: &dailyDigestAt,
			timeout: groundwork.MaintenanceTimeout, args: []any{groundwork.DigestInput{Kind: groundwork.DigestDaily}}},
		{id: groundwork.ScheduleWeeklyDigest, workflow: groundwork.WorkflowEmailDigest, at: &weeklyDigestAt,
			timeout: groundwork.MaintenanceTimeout, args: []any{groundwork.DigestInput{Kind: groundwork.DigestWeekly}}},
	}
	for _, sc := range all {
		if err := ensureSchedule(ctx, c, sc); err != nil {
			return err
		}
	}
	return nil
}

func ensureSchedule(ctx context.Context, c client.Client, sc schedule) error {
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: sc.every}}}
	if sc.at != nil {
		spec = client.ScheduleSpec{Calendars: []client.ScheduleCalendarSpec{*sc.at}}
	}
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:      sc.id,
		Spec:    spec,
		Overlap: enums.SCHEDULE_OVERLAP_POLICY_SKIP,
		Action: &client.ScheduleWorkflowAction{
			ID:                       sc.id,
			Workflow:                 sc.workflow,
			Args:                     sc.args,
			TaskQueue:                groundwork.TaskQueueDefault,
			WorkflowExecutionTimeout: sc.timeout,
			TypedSearchAttributes: temporal.NewSearchAttributes(
				workflows.SearchAttrKind.ValueSet(sc.id),
			),
		},
	})
	if err == nil {
		return nil
	}
	var exists *serviceerror.AlreadyExists
	if !errors.As(err, &exists) && !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return fmt.Errorf("create schedule %s: %w", sc.id, err)
	}
	h := c.ScheduleClient().GetHandle(ctx, sc.id)
	err = h.Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			in.Description.Schedule.Spec = &spec
			return &client.ScheduleUpdate{Schedule: &in.Description.Schedule}, nil
		},
	})
	if err != nil {
		return fmt.Errorf("update schedule %s: %w", sc.id, err)
	}
	return nil
}
