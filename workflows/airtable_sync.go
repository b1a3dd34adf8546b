package workflows

import (
	"encoding/json"
	"fmt"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Activity names of the AirtableSync workflow.
const (
	// ActivityAirtablePrepare loads the run's mapping and cursors (local activity).
	ActivityAirtablePrepare = "AirtablePrepare"
	// ActivityAirtableFetch reads changed Airtable records into the run's staging (airtable queue).
	ActivityAirtableFetch = "AirtableFetch"
	// ActivityAirtablePlan decides every record's writes (default queue).
	ActivityAirtablePlan = "AirtablePlan"
	// ActivityAirtableApply writes a batch of decisions to both sides (airtable queue).
	ActivityAirtableApply = "AirtableApply"
	// ActivityAirtableFinish saves the cursors and closes the run (local activity).
	ActivityAirtableFinish = "AirtableFinish"
	// ActivityAirtableDiscard closes a failed or canceled run (local activity).
	ActivityAirtableDiscard = "AirtableDiscard"
	// ActivityAirtableLaunch records a scheduled sync's run (local activity).
	ActivityAirtableLaunch = "AirtableLaunch"
)

// Stages of an AirtableSync run.
const (
	StageReading  = "reading"
	StagePlanning = "planning"
	StageWriting  = "writing"
)

// Batch sizes: one fetch activity reads at most this many pages of 100
// records, one apply activity applies at most this many decisions; the
// workflow continues as new when its history grows, so a table of any
// size syncs in bounded histories.
const (
	airtablePagesPerFetch    = 20
	airtableDecisionsPerPass = 1000
	// airtableBatchesPerRun bounds the activity batches of one run of the
	// workflow before it continues as new, whatever the server suggests.
	airtableBatchesPerRun = 100
)

// AirtableSyncInput starts (or continues) an AirtableSync run.
type AirtableSyncInput struct {
	RunID   string `json:"run_id"`
	OwnerID string `json:"owner_id"`
	// State carries a continued run's progress; nil on the first start.
	State *AirtableSyncState `json:"state,omitempty"`
	// Batches overrides the batch sizes (tests); zero values are the
	// defaults.
	Batches AirtableBatches `json:"batches,omitzero"`
}

// AirtableBatches sizes a sync's activity batches.
type AirtableBatches struct {
	PagesPerFetch    int `json:"pages_per_fetch,omitempty"`
	DecisionsPerPass int `json:"decisions_per_pass,omitempty"`
	BatchesPerRun    int `json:"batches_per_run,omitempty"`
}

func (b AirtableBatches) withDefaults() AirtableBatches {
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

// AirtableSyncState is what a run has done so far.
type AirtableSyncState struct {
	Prepared AirtablePrepared `json:"prepared"`
	// Offset is the Airtable list offset to continue reading from.
	Offset   string              `json:"offset,omitempty"`
	Fetched  int                 `json:"fetched"`
	ReadDone bool                `json:"read_done"`
	Plan     *AirtablePlanResult `json:"plan,omitempty"`
	Applied  int                 `json:"applied"`
	Failed   int                 `json:"failed"`
}

// AirtablePrepared is the run's mapping and where the last sync stopped.
type AirtablePrepared struct {
	MappingID string `json:"mapping_id"`
	DryRun    bool   `json:"dry_run"`
	// Since is the Airtable cursor: records modified after it are read;
	// nil reads everything (first sync, or deletes to detect).
	Since *time.Time `json:"since,omitempty"`
}

// AirtableFetchInput reads one batch of changed Airtable records.
type AirtableFetchInput struct {
	RunID     string     `json:"run_id"`
	MappingID string     `json:"mapping_id"`
	Since     *time.Time `json:"since,omitempty"`
	Offset    string     `json:"offset,omitempty"`
	MaxPages  int        `json:"max_pages"`
}

// AirtableFetchOutput says how far reading got.
type AirtableFetchOutput struct {
	Records int    `json:"records"`
	Offset  string `json:"offset,omitempty"`
	Done    bool   `json:"done"`
}

// AirtablePlanInput decides a run's writes.
type AirtablePlanInput struct {
	RunID     string `json:"run_id"`
	MappingID string `json:"mapping_id"`
	DryRun    bool   `json:"dry_run"`
	// FullScan says the whole Airtable table was read, so a linked record
	// missing from it was deleted there.
	FullScan bool `json:"full_scan"`
}

// SyncCounts counts a plan's writes per side.
type SyncCounts struct {
	AirtableCreates int `json:"airtable_creates"`
	AirtableUpdates int `json:"airtable_updates"`
	AirtableDeletes int `json:"airtable_deletes"`
	PostgresCreates int `json:"postgres_creates"`
	PostgresUpdates int `json:"postgres_updates"`
	PostgresDeletes int `json:"postgres_deletes"`
	Conflicts       int `json:"conflicts"`
	Unchanged       int `json:"unchanged"`
}

// AirtablePlanResult is a plan's size and the cursors the run will save.
type AirtablePlanResult struct {
	Counts          SyncCounts `json:"counts"`
	Decisions       int        `json:"decisions"`
	ScannedAirtable int        `json:"scanned_airtable"`
	ScannedPostgres int        `json:"scanned_postgres"`
	AirtableCursor  *time.Time `json:"airtable_cursor,omitempty"`
	PostgresCursor  *time.Time `json:"postgres_cursor,omitempty"`
	// Diff is a dry run's diff: counts and sample decisions per kind.
	Diff json.RawMessage `json:"diff,omitempty"`
}

// AirtableApplyInput applies up to Max pending decisions with an Airtable
// write and up to Max without.
type AirtableApplyInput struct {
	RunID     string `json:"run_id"`
	MappingID string `json:"mapping_id"`
	Max       int    `json:"max"`
}

// AirtableApplyOutput counts what one pass applied.
type AirtableApplyOutput struct {
	Applied   int  `json:"applied"`
	Failed    int  `json:"failed"`
	Remaining bool `json:"remaining"`
}

// AirtableFinishInput closes a run.
type AirtableFinishInput struct {
	RunID    string            `json:"run_id"`
	State    AirtableSyncState `json:"state"`
	Progress Progress          `json:"progress"`
}

// AirtableScheduledInput is what a mapping's Temporal Schedule starts.
type AirtableScheduledInput struct {
	MappingID string `json:"mapping_id"`
	OwnerID   string `json:"owner_id"`
}

// airtableRetry retries Airtable and Postgres outages; a 429 waits out
// Airtable's lockout through the error's next retry delay.
var airtableRetry = &temporal.RetryPolicy{
	InitialInterval:        2 * time.Second,
	BackoffCoefficient:     2,
	MaximumInterval:        time.Minute,
	MaximumAttempts:        10,
	NonRetryableErrorTypes: []string{ErrTypeInvalidInput, ErrTypeNotFound, ErrTypeSyncRunning},
}

// AirtableSync syncs one mapping both ways: it reads the Airtable records
// changed since the last sync, decides field by field what to write where
// (three-way merge against the values both sides last agreed on, conflicts
// by the mapping's policy), and applies the decisions in batches, each
// remembered as done so an interrupted run resumes without repeating a
// create. A dry run stops after deciding, and its result is the diff.
func AirtableSync(ctx workflow.Context, in AirtableSyncInput) (AirtableSyncState, error) {
	prog, err := newProgressTracker(ctx)
	if err != nil {
		return AirtableSyncState{}, err
	}
	st, err := airtableSync(ctx, prog, in)
	if err != nil {
		if workflow.IsContinueAsNewError(err) {
			return AirtableSyncState{}, err
		}
		return AirtableSyncState{}, closeFailedRun(ctx, prog, in.RunID, err, ActivityAirtableDiscard)
	}
	return st, nil
}

func airtableSync(ctx workflow.Context, prog *progressTracker, in AirtableSyncInput) (AirtableSyncState, error) {
	lctx := workflow.WithLocalActivityOptions(ctx, localActivityOptions)
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           TaskQueueAirtable,
		StartToCloseTimeout: 30 * time.Minute,
		// Fetch heartbeats after every page, apply after every chunk of
		// 200 decisions and while it waits for the rate limit: a dead
		// worker's batch moves on within this.
		HeartbeatTimeout: 20 * time.Second,
		RetryPolicy:      airtableRetry,
	})
	st := AirtableSyncState{}
	if in.State != nil {
		st = *in.State
	} else if err := workflow.ExecuteLocalActivity(lctx, ActivityAirtablePrepare, in).Get(ctx, &st.Prepared); err != nil {
		return st, err
	}
	p := st.Prepared
	sizes := in.Batches.withDefaults()
	batches := 0
	// continueAsNew starts a fresh history once this one has done enough
	// batches, or the server finds it large.
	continueAsNew := func() error {
		batches++
		if batches < sizes.BatchesPerRun && !workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return nil
		}
		next := in
		next.State = &st
		return workflow.NewContinueAsNewError(ctx, AirtableSync, next)
	}

	for !st.ReadDone {
		prog.set(ctx, StageReading, int64(st.Fetched), 0, fmt.Sprintf("read %d changed Airtable records", st.Fetched))
		var out AirtableFetchOutput
		err := workflow.ExecuteActivity(actx, ActivityAirtableFetch, AirtableFetchInput{
			RunID: in.RunID, MappingID: p.MappingID, Since: p.Since, Offset: st.Offset, MaxPages: sizes.PagesPerFetch,
		}).Get(ctx, &out)
		if err != nil {
			return st, err
		}
		st.Fetched += out.Records
		st.Offset, st.ReadDone = out.Offset, out.Done
		if !st.ReadDone {
			if err := continueAsNew(); err != nil {
				return st, err
			}
		}
	}

	if st.Plan == nil {
		prog.set(ctx, StagePlanning, int64(st.Fetched), 0, fmt.Sprintf("deciding what to write for %d Airtable records and Postgres's changes", st.Fetched))
		pctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: 10 * time.Minute,
			HeartbeatTimeout:    time.Minute,
			RetryPolicy:         airtableRetry,
		})
		var plan AirtablePlanResult
		if err := workflow.ExecuteActivity(pctx, ActivityAirtablePlan, AirtablePlanInput{RunID: in.RunID, MappingID: p.MappingID, DryRun: p.DryRun, FullScan: p.Since == nil}).Get(ctx, &plan); err != nil {
			return st, err
		}
		st.Plan = &plan
	}

	total := int64(st.Plan.Decisions)
	for !p.DryRun && int64(st.Applied+st.Failed) < total {
		prog.set(ctx, StageWriting, int64(st.Applied+st.Failed), total,
			fmt.Sprintf("applied %d of %d decisions (%d failed)", st.Applied, total, st.Failed))
		var out AirtableApplyOutput
		err := workflow.ExecuteActivity(actx, ActivityAirtableApply, AirtableApplyInput{RunID: in.RunID, MappingID: p.MappingID, Max: sizes.DecisionsPerPass}).Get(ctx, &out)
		if err != nil {
			return st, err
		}
		st.Applied += out.Applied
		st.Failed += out.Failed
		if !out.Remaining {
			break
		}
		if err := continueAsNew(); err != nil {
			return st, err
		}
	}

	msg := fmt.Sprintf("applied %d decisions (%d failed)", st.Applied, st.Failed)
	if p.DryRun {
		msg = fmt.Sprintf("dry run: %d decisions, nothing written", st.Plan.Decisions)
	}
	before := prog.p
	prog.set(ctx, StageDone, total, total, msg)
	if err := workflow.ExecuteLocalActivity(lctx, ActivityAirtableFinish, AirtableFinishInput{RunID: in.RunID, State: st, Progress: prog.p}).Get(ctx, nil); err != nil {
		prog.p = before
		return st, err
	}
	return st, nil
}

// AirtableSyncScheduled is what a mapping's Temporal Schedule starts: it
// records a run for the mapping's owner, so scheduled syncs show in
// GET /v1/runs like any other, and runs AirtableSync as its child.
func AirtableSyncScheduled(ctx workflow.Context, in AirtableScheduledInput) error {
	// The ULID's randomness is recorded by the side effect; its time is
	// the workflow's.
	now := workflow.Now(ctx)
	var runID string
	err := workflow.SideEffect(ctx, func(workflow.Context) any {
		return NewRunID(KindAirtableSync, now)
	}).Get(&runID)
	if err != nil {
		return fmt.Errorf("run id: %w", err)
	}
	lctx := workflow.WithLocalActivityOptions(ctx, localActivityOptions)
	if err := workflow.ExecuteLocalActivity(lctx, ActivityAirtableLaunch, AirtableLaunchInput{RunID: runID, MappingID: in.MappingID, OwnerID: in.OwnerID}).Get(ctx, nil); err != nil {
		return err
	}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID: runID,
		TaskQueue:  TaskQueueDefault,
		// A terminated schedule run takes its sync along.
		ParentClosePolicy: enums.PARENT_CLOSE_POLICY_TERMINATE,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			SearchAttrOwner.ValueSet(in.OwnerID), SearchAttrKind.ValueSet(string(KindAirtableSync)),
		),
	})
	return workflow.ExecuteChildWorkflow(cctx, AirtableSync, AirtableSyncInput{RunID: runID, OwnerID: in.OwnerID}).Get(ctx, nil)
}

// AirtableLaunchInput records a scheduled sync's run.
type AirtableLaunchInput struct {
	RunID     string `json:"run_id"`
	MappingID string `json:"mapping_id"`
	OwnerID   string `json:"owner_id"`
}

// ScheduleIDForMapping names a mapping's Temporal Schedule.
func ScheduleIDForMapping(mappingID string) string { return "airtable-sync-" + mappingID }
