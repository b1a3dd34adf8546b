// Package worker wires workflows and activities to their dependencies and
// polls Groundwork's task queues.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"gocloud.dev/blob"

	"github.com/groundwork-dev/groundwork/activities"
	"github.com/groundwork-dev/groundwork/workflows"
)

// Deps are the dependencies every activity set is built from.
type Deps struct {
	Client client.Client
	Pool   *pgxpool.Pool
	Bucket *blob.Bucket
	Log    *slog.Logger
	// Pollers is the number of pollers per task queue and task type. The
	// SDK's default of 2 stalls for seconds under concurrency.
	Pollers int
	// RenderConcurrency bounds CPU-bound renders per process.
	RenderConcurrency int
	ExportTTL         time.Duration
	MaxFileBytes      int64
	// QuotaBytes caps each user's unexpired exports (0: no quota).
	QuotaBytes int64
	// CleanupEvery is the interval of the ExportsCleanup schedule.
	CleanupEvery time.Duration
	// Now is the activities' clock; tests replace it to expire exports.
	Now func() time.Time
}

// Run starts one Temporal worker per task queue and blocks until ctx is
// done, then stops them, letting running activities finish within their
// stop timeout.
func Run(ctx context.Context, d Deps) error {
	workers, err := New(d)
	if err != nil {
		return err
	}
	if err := EnsureSchedules(ctx, d.Client, d.CleanupEvery); err != nil {
		return err
	}
	for i, w := range workers {
		if err := w.Start(); err != nil {
			for _, started := range workers[:i] {
				started.Stop()
			}
			return fmt.Errorf("start worker: %w", err)
		}
	}
	d.Log.Info("worker started", "task_queues", []string{workflows.TaskQueueDefault, workflows.TaskQueueRender}, "pollers", d.Pollers)
	<-ctx.Done()
	d.Log.Info("worker stopping")
	for _, w := range workers {
		w.Stop()
	}
	return nil
}

// New builds (without starting) the workers for every task queue.
func New(d Deps) ([]sdkworker.Worker, error) {
	if d.Client == nil || d.Pool == nil || d.Bucket == nil {
		return nil, errors.New("worker: client, pool and bucket are required")
	}
	pollers := d.Pollers
	if pollers <= 0 {
		pollers = 8
	}
	renderConc := d.RenderConcurrency
	if renderConc <= 0 {
		renderConc = 4
	}
	exports := &activities.Exports{
		Pool:         d.Pool,
		Bucket:       d.Bucket,
		TTL:          d.ExportTTL,
		MaxFileBytes: d.MaxFileBytes,
		QuotaBytes:   d.QuotaBytes,
		Sources:      activities.Sources{Pool: d.Pool},
		Now:          d.Now,
	}

	main := sdkworker.New(d.Client, workflows.TaskQueueDefault, sdkworker.Options{
		MaxConcurrentWorkflowTaskPollers: pollers,
		MaxConcurrentActivityTaskPollers: pollers,
		WorkerStopTimeout:                30 * time.Second,
	})
	main.RegisterWorkflowWithOptions(workflows.Export, workflow.RegisterOptions{Name: "Export"})
	main.RegisterWorkflowWithOptions(workflows.ExportsCleanup, workflow.RegisterOptions{Name: "ExportsCleanup"})
	main.RegisterActivityWithOptions(exports.ExportsDeleteExpired, activity.RegisterOptions{Name: workflows.ActivityExportsDeleteExpired})
	// Local activities run inside this worker's workflow tasks.
	main.RegisterActivityWithOptions(exports.ExportPrepare, activity.RegisterOptions{Name: workflows.ActivityExportPrepare})
	main.RegisterActivityWithOptions(exports.ExportRecord, activity.RegisterOptions{Name: workflows.ActivityExportRecord})
	main.RegisterActivityWithOptions(exports.ExportDiscard, activity.RegisterOptions{Name: workflows.ActivityExportDiscard})

	render := sdkworker.New(d.Client, workflows.TaskQueueRender, sdkworker.Options{
		MaxConcurrentActivityTaskPollers:   pollers,
		MaxConcurrentActivityExecutionSize: renderConc,
		WorkerStopTimeout:                  30 * time.Second,
	})
	render.RegisterActivityWithOptions(exports.ExportRender, activity.RegisterOptions{Name: workflows.ActivityExportRender})
	return []sdkworker.Worker{main, render}, nil
}
