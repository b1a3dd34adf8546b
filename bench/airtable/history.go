package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
)

// activityTime is how long one activity type of a sync ran, from the
// workflow's history, and how many Airtable requests it made meanwhile.
type activityTime struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
	// RunSeconds is the sum of started → completed.
	RunSeconds float64 `json:"run_seconds"`
	// QueueSeconds is the sum of scheduled → started: the hop through
	// Temporal's task queue to a worker.
	QueueSeconds float64 `json:"queue_seconds"`
	// Requests is how many Airtable requests arrived while one of them ran;
	// FloorSeconds is those ÷ the rate, OverSeconds what the activity took
	// beyond it.
	Requests     int     `json:"requests"`
	FloorSeconds float64 `json:"floor_seconds"`
	OverSeconds  float64 `json:"over_seconds"`
}

// span is one activity execution.
type span struct {
	name                  string
	scheduled, start, end time.Time
}

// historyReader reads sync workflows' histories.
type historyReader struct {
	c client.Client
}

func newHistoryReader(ctx context.Context, address string) (*historyReader, error) {
	c, err := client.DialContext(ctx, client.Options{
		HostPort: address, Namespace: "default",
		// The SDK logs every dial at info; keep stderr for progress.
		Logger: sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))),
	})
	if err != nil {
		return nil, fmt.Errorf("temporal client for %s: %w", address, err)
	}
	return &historyReader{c: c}, nil
}

func (h *historyReader) Close() { h.c.Close() }

// activities sums a run's activities by type, attributing to each the
// Airtable requests that arrived while it ran. Local activities (prepare,
// finish) leave no timing in the history and are not listed. A run that
// continued as new is read from its last execution only.
func (h *historyReader) activities(ctx context.Context, workflowID string, reqs []proxied, rate int) ([]activityTime, error) {
	it := h.c.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	open := map[int64]*span{}
	var spans []*span
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("history of %s: %w", workflowID, err)
		}
		at := ev.GetEventTime().AsTime()
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			s := &span{name: ev.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName(), scheduled: at}
			open[ev.GetEventId()] = s
			spans = append(spans, s)
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
			if s := open[ev.GetActivityTaskStartedEventAttributes().GetScheduledEventId()]; s != nil {
				s.start = at
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
			if s := open[ev.GetActivityTaskCompletedEventAttributes().GetScheduledEventId()]; s != nil {
				s.end = at
			}
		}
	}
	byName := map[string]*activityTime{}
	var order []string
	for _, s := range spans {
		a := byName[s.name]
		if a == nil {
			a = &activityTime{Name: s.name}
			byName[s.name] = a
			order = append(order, s.name)
		}
		if s.start.IsZero() || s.end.IsZero() {
			continue
		}
		a.Count++
		a.RunSeconds += s.end.Sub(s.start).Seconds()
		a.QueueSeconds += s.start.Sub(s.scheduled).Seconds()
		for _, q := range reqs {
			if !q.At.Before(s.start) && !q.At.After(s.end) {
				a.Requests++
			}
		}
	}
	out := make([]activityTime, 0, len(order))
	for _, n := range order {
		a := byName[n]
		a.FloorSeconds = float64(a.Requests) / float64(rate)
		a.OverSeconds = a.RunSeconds - a.FloorSeconds
		out = append(out, *a)
	}
	slices.SortStableFunc(out, func(a, b activityTime) int { return -cmpFloat(a.RunSeconds, b.RunSeconds) })
	return out, nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// failures lists the failure messages a run's history holds (failed
// activity attempts are only there for the last attempt, with its
// retry count), for the error of a failed sync.
func (h *historyReader) failures(ctx context.Context, workflowID string) []string {
	it := h.c.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var out []string
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return append(out, err.Error())
		}
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED:
			a := ev.GetActivityTaskFailedEventAttributes()
			out = append(out, fmt.Sprintf("activity failed: %s", a.GetFailure().GetMessage()))
			if c := a.GetFailure().GetCause(); c != nil {
				out = append(out, "  cause: "+c.GetMessage())
			}
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
			f := ev.GetWorkflowExecutionFailedEventAttributes().GetFailure()
			out = append(out, "workflow failed: "+f.GetMessage())
			for c := f.GetCause(); c != nil; c = c.GetCause() {
				out = append(out, "  cause: "+c.GetMessage())
			}
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED:
			out = append(out, "workflow task failed: "+ev.GetWorkflowTaskFailedEventAttributes().GetFailure().GetMessage())
		}
	}
	return out
}

// errPanicked ends the wait for a run whose activity panicked: the retry
// policy would take minutes to give up on what no retry can fix.
var errPanicked = errors.New("an activity panicked")

// panicked reports, as errPanicked with the panic and where it happened,
// a pending activity of the run whose last attempt panicked.
func (h *historyReader) panicked(ctx context.Context, workflowID string) error {
	d, err := h.c.DescribeWorkflowExecution(ctx, workflowID, "")
	if err != nil {
		return nil // the next poll tries again
	}
	for _, p := range d.GetPendingActivities() {
		f := p.GetLastFailure()
		if f.GetApplicationFailureInfo().GetType() != "PanicError" {
			continue
		}
		where := ""
		for _, line := range strings.Split(f.GetStackTrace(), "\n") {
			if strings.Contains(line, "/activities/") && strings.Contains(line, ".go:") {
				where = strings.TrimSpace(line)
				break
			}
		}
		return fmt.Errorf("%w: %s attempt %d: %s at %s", errPanicked, p.GetActivityType().GetName(), p.GetAttempt(), f.GetMessage(), where)
	}
	return nil
}
