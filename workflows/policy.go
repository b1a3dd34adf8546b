package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/groundwork-dev/groundwork"
)

// This file is the one place a step's task queue, timeouts and retry
// policy are set, for every activity of the fourteen workflows. A whole run's
// execution timeout is not here: the API sets it when it starts the run,
// from the root package's table of kinds (groundwork.Kind.Spec, in
// kinds.go), and the schedules from groundwork.ExportsCleanupTimeout and
// groundwork.KindAirtableSync's. Rate limits are not here either: they
// are the task queues' (worker/worker.go, defaults in internal/config) and
// the shared Postgres limiters' (internal/pglimit).

// localActivityOptions suit the short Postgres steps that run in the
// workflow worker: no task-queue round trip, retried with backoff while
// Postgres is away.
var localActivityOptions = workflow.LocalActivityOptions{
	StartToCloseTimeout: 30 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:        500 * time.Millisecond,
		BackoffCoefficient:     2,
		MaximumInterval:        30 * time.Second,
		MaximumAttempts:        20,
		NonRetryableErrorTypes: []string{groundwork.ErrTypeInvalidInput, groundwork.ErrTypeNotFound, groundwork.ErrTypeQuotaExceeded},
	},
}

// localActivities are the activities run as local activities, all with
// localActivityOptions: they read or write a few Postgres rows.
var localActivities = map[string]bool{
	groundwork.ActivityExportPrepare:     true,
	groundwork.ActivityExportRecord:      true,
	groundwork.ActivityExportDiscard:     true,
	groundwork.ActivityGenerateRecord:    true,
	groundwork.ActivityGenerateDiscard:   true,
	groundwork.ActivityResearchPrepare:   true,
	groundwork.ActivityResearchRecord:    true,
	groundwork.ActivityResearchDiscard:   true,
	groundwork.ActivityAirtablePrepare:   true,
	groundwork.ActivityAirtableFinish:    true,
	groundwork.ActivityAirtableDiscard:   true,
	groundwork.ActivityAirtableLaunch:    true,
	groundwork.ActivityAssessmentRecord:  true,
	groundwork.ActivityAssessmentDiscard: true,
	groundwork.ActivityWebhookExhausted:  true,
	groundwork.ActivityInboundFinish:     true,
	groundwork.ActivityEmailFailed:       true,
}

// Retry policies shared by several activities.
var (
	// generateRetry retries provider outages with backoff; a provider's
	// Retry-After overrides the interval through the error's NextRetryDelay.
	generateRetry = &temporal.RetryPolicy{
		InitialInterval:    2 * time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    2 * time.Minute,
		MaximumAttempts:    8,
		NonRetryableErrorTypes: []string{
			groundwork.ErrTypeInvalidInput, groundwork.ErrTypeNotFound, groundwork.ErrTypeBudgetExceeded,
			groundwork.ErrTypeNoProvider, groundwork.ErrTypeProviderRejected,
		},
	}

	// researchPageOptions suit one page: a tab may be busy for a while
	// (the worker runs 5 at once) and the domain's rate limit may make the
	// page wait its turn; the heartbeat notices a dead worker long before.
	researchPageOptions = workflow.ActivityOptions{
		TaskQueue: groundwork.TaskQueueBrowser,
		// A page waits for a free tab and its domain's turn, then loads
		// for at most the page timeout (30 s by default).
		ScheduleToStartTimeout: 30 * time.Minute,
		StartToCloseTimeout:    5 * time.Minute,
		HeartbeatTimeout:       20 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        30 * time.Second,
			MaximumAttempts:        5,
			NonRetryableErrorTypes: []string{groundwork.ErrTypeInvalidInput, groundwork.ErrTypeNotFound},
		},
	}

	// airtableRetry retries Airtable and Postgres outages; a 429 waits out
	// Airtable's lockout through the error's next retry delay.
	airtableRetry = &temporal.RetryPolicy{
		InitialInterval:        2 * time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        time.Minute,
		MaximumAttempts:        10,
		NonRetryableErrorTypes: []string{groundwork.ErrTypeInvalidInput, groundwork.ErrTypeNotFound, groundwork.ErrTypeSyncRunning},
	}

	// airtableIOOptions suit one batch of Airtable calls: fetch heartbeats
	// after every page, apply after every chunk of 200 decisions and while
	// it waits for the rate limit, so a dead worker's batch moves on
	// within the heartbeat timeout.
	airtableIOOptions = workflow.ActivityOptions{
		TaskQueue:           groundwork.TaskQueueAirtable,
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    20 * time.Second,
		RetryPolicy:         airtableRetry,
	}
)

// activityPolicy is every (non-local) activity's options, by workflow,
// keyed by the activity's registered name.
var activityPolicy = map[string]workflow.ActivityOptions{
	// Export
	groundwork.ActivityExportRender: {
		TaskQueue:           groundwork.TaskQueueRender,
		StartToCloseTimeout: 5 * time.Minute,
		// The SDK sends heartbeats at most every 0.8 × this, and a
		// cancellation reaches the activity only with a heartbeat reply:
		// 10 s keeps a canceled render stopping within seconds.
		HeartbeatTimeout: 10 * time.Second,
		// Wait for the render to stop before discarding, or a late upload
		// could land after the cleanup and leave an orphan file.
		WaitForCancellation: true,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			MaximumAttempts:        5,
			NonRetryableErrorTypes: []string{groundwork.ErrTypeInvalidInput, groundwork.ErrTypeFileTooLarge, groundwork.ErrTypeNotFound},
		},
	},

	// ExportsCleanup
	groundwork.ActivityExportsDeleteExpired: {
		TaskQueue:           groundwork.TaskQueueDefault,
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    5 * time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    5 * time.Minute,
			MaximumAttempts:    10,
		},
	},

	// Generate
	groundwork.ActivityLLMGenerate: {
		TaskQueue: groundwork.TaskQueueLLM,
		// Covers waiting for the shared token budget as well as the call
		// itself, which the activity bounds separately (45 s by default).
		StartToCloseTimeout: 10 * time.Minute,
		// The activity heartbeats while it waits and streams: a worker
		// that dies mid-call is noticed within this.
		HeartbeatTimeout: 10 * time.Second,
		// Let a canceled call settle its ledger row before the run closes.
		WaitForCancellation: true,
		RetryPolicy:         generateRetry,
	},

	// Research
	groundwork.ActivityResearchFetch:    researchPageOptions,
	groundwork.ActivityResearchDiscover: researchPageOptions,
	groundwork.ActivityResearchSummarize: {
		TaskQueue:           groundwork.TaskQueueLLM,
		StartToCloseTimeout: 10 * time.Minute,
		HeartbeatTimeout:    10 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    2 * time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
			// Fewer tries than a generation: the extractive profile is a
			// good answer too, so a long outage should not hold the report.
			MaximumAttempts:        4,
			NonRetryableErrorTypes: generateRetry.NonRetryableErrorTypes,
		},
	},
	groundwork.ActivityResearchReport: {
		TaskQueue:           groundwork.TaskQueueDefault,
		StartToCloseTimeout: 2 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second, MaximumAttempts: 10,
			NonRetryableErrorTypes: []string{groundwork.ErrTypeInvalidInput, groundwork.ErrTypeNotFound},
		},
	},

	// AirtableSync
	groundwork.ActivityAirtableFetch: airtableIOOptions,
	groundwork.ActivityAirtableApply: airtableIOOptions,
	groundwork.ActivityAirtablePlan: {
		TaskQueue:           groundwork.TaskQueueDefault,
		StartToCloseTimeout: 10 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy:         airtableRetry,
	},

	// Assessment
	groundwork.ActivityAssessmentScore: {
		TaskQueue:           groundwork.TaskQueueAssessment,
		StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second, MaximumAttempts: 10,
			NonRetryableErrorTypes: []string{groundwork.ErrTypeInvalidInput, groundwork.ErrTypeNotFound},
		},
	},
	groundwork.ActivityAssessmentRecommend: {
		TaskQueue:           groundwork.TaskQueueLLM,
		StartToCloseTimeout: 10 * time.Minute,
		HeartbeatTimeout:    10 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    2 * time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
			// The rules' recommendations are a good answer too: a long
			// outage should not hold the result.
			MaximumAttempts:        4,
			NonRetryableErrorTypes: generateRetry.NonRetryableErrorTypes,
		},
	},

	// WebhookDelivery: an HTTP failure is the attempt's answer, not an
	// error; these retries only cover our own failures (Postgres).
	groundwork.ActivityWebhookAttempt: {
		TaskQueue: groundwork.TaskQueueDelivery,
		// The 15 s request plus the wait for the endpoint's rate limit.
		StartToCloseTimeout: 3 * time.Minute,
		// The attempt beats while it waits and posts: a worker killed
		// mid-delivery has its attempt retried within seconds.
		HeartbeatTimeout: 10 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second, MaximumAttempts: 5,
			NonRetryableErrorTypes: []string{groundwork.ErrTypeInvalidInput, groundwork.ErrTypeNotFound},
		},
	},

	// WebhookInbound
	groundwork.ActivityInboundPrepare: {
		TaskQueue:           groundwork.TaskQueueDefault,
		StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second, MaximumAttempts: 10,
			NonRetryableErrorTypes: []string{groundwork.ErrTypeInvalidInput, groundwork.ErrTypeNotFound},
		},
	},

	// EmailSend: emailSendOptions scales the retry policy in tests.
	groundwork.ActivityEmailSend: {
		TaskQueue: groundwork.TaskQueueDelivery,
		// The SMTP session is bounded at 30 s (internal/notify); the send
		// beats meanwhile, so a worker killed mid-send is noticed in 10 s.
		StartToCloseTimeout: time.Minute,
		HeartbeatTimeout:    10 * time.Second,
		RetryPolicy:         emailSendRetry(1),
	},

	// AnalyticsRollup, EventPartitions, EmailDigest and StalledCustomers
	groundwork.ActivityAnalyticsRollup:  maintenanceOptions,
	groundwork.ActivityEventPartitions:  maintenanceOptions,
	groundwork.ActivityEmailDigest:      maintenanceOptions,
	groundwork.ActivityStalledCustomers: maintenanceOptions,
}

// emailSendOptions are EmailSend's options with groundwork.EmailSendRetry
// divided by scale: a mail server that is down is retried for about a
// day; one that refuses a message for good fails it at once.
func emailSendOptions(ctx workflow.Context, scale int) workflow.Context {
	opts := activityPolicy[groundwork.ActivityEmailSend]
	opts.RetryPolicy = emailSendRetry(scale)
	return workflow.WithActivityOptions(ctx, opts)
}

func emailSendRetry(scale int) *temporal.RetryPolicy {
	r := groundwork.EmailSendRetry
	return &temporal.RetryPolicy{
		InitialInterval: r.Initial / time.Duration(scale), BackoffCoefficient: 2,
		MaximumInterval: r.Max / time.Duration(scale), MaximumAttempts: r.Attempts,
		NonRetryableErrorTypes: []string{groundwork.ErrTypeInvalidInput},
	}
}

// maintenanceOptions suit a scheduled Postgres job: minutes at most,
// retried through a Postgres outage until the next scheduled run.
var maintenanceOptions = workflow.ActivityOptions{
	TaskQueue:           groundwork.TaskQueueDefault,
	StartToCloseTimeout: 15 * time.Minute,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval: 5 * time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute, MaximumAttempts: 10,
	},
}

// How much one run schedules at once.
const (
	// maxPagesInFlight bounds the fetches a research run schedules at
	// once: enough to keep every browser tab of a couple of workers busy,
	// few enough that one large research does not crowd out everyone
	// else's pages.
	maxPagesInFlight = 10

	// airtablePagesPerFetch is the most pages of 100 records one
	// AirtableFetch reads.
	airtablePagesPerFetch = 20
	// airtableDecisionsPerPass is the most decisions one AirtableApply
	// applies.
	airtableDecisionsPerPass = 1000
	// airtableBatchesPerRun bounds the activity batches of one run of the
	// sync workflow before it continues as new, whatever the server
	// suggests, so a table of any size syncs in bounded histories.
	airtableBatchesPerRun = 100
)

// airtableBatchSizes fills the zero sizes of b with the defaults above.
func airtableBatchSizes(b groundwork.AirtableBatches) groundwork.AirtableBatches {
	if b.PagesPerFetch <= 0 {
		b.PagesPerFetch = airtablePagesPerFetch
	}
	if b.DecisionsPerPass <= 0 {
		b.DecisionsPerPass = airtableDecisionsPerPass
	}
	if b.BatchesPerRun <= 0 {
		b.BatchesPerRun = airtableBatchesPerRun
	}
	return b
}

// withActivity returns ctx with the options of activity name from
// activityPolicy; a name missing there is a programming error that the
// policy test catches before any workflow runs.
func withActivity(ctx workflow.Context, name string) workflow.Context {
	opts, ok := activityPolicy[name]
	if !ok {
		panic(fmt.Sprintf("workflows: no policy for activity %q in policy.go", name))
	}
	return workflow.WithActivityOptions(ctx, opts)
}

// withLocal returns ctx with the local activity options.
func withLocal(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, localActivityOptions)
}
