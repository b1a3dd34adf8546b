package workflows

import (
	"fmt"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/groundwork-dev/groundwork"
)

// AirtableSync syncs one mapping both ways: it reads the Airtable records
// changed since the last sync, decides field by field what to write where
// (three-way merge against the values both sides last agreed on, conflicts
// by the mapping's policy), and applies the decisions in batches, each
// remembered as done so an interrupted run resumes without repeating a
// create. A dry run stops after deciding, and its result is the diff.
func AirtableSync(ctx workflow.Context, in groundwork.AirtableSyncInput) (groundwork.AirtableSyncState, error) {
	prog, err := newProgressTracker(ctx)
	if err != nil {
		return groundwork.AirtableSyncState{}, err
	}
	st, err := airtableSync(ctx, prog, in)
	if err != nil {
		if workflow.IsContinueAsNewError(err) {
			return groundwork.AirtableSyncState{}, err
		}
		return groundwork.AirtableSyncState{}, closeFailedRun(ctx, prog, in.RunID, err, groundwork.ActivityAirtableDiscard)
	}
	return st, nil
}

func airtableSync(ctx workflow.Context, prog *progressTracker, in groundwork.AirtableSyncInput) (groundwork.AirtableSyncState, error) {
	lctx := withLocal(ctx)
	fetch := withActivity(ctx, groundwork.ActivityAirtableFetch)
	apply := withActivity(ctx, groundwork.ActivityAirtableApply)
	st := groundwork.AirtableSyncState{}
	if in.State != nil {
		st = *in.State
	} else if err := workflow.ExecuteLocalActivity(lctx, groundwork.ActivityAirtablePrepare, in).Get(ctx, &st.Prepared); err != nil {
		return st, err
	}
	p := st.Prepared
	sizes := airtableBatchSizes(in.Batches)
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
		return workflow.NewContinueAsNewError(ctx, groundwork.WorkflowAirtableSync, next)
	}

	for !st.ReadDone {
		prog.set(ctx, groundwork.StageReading, int64(st.Fetched), 0, fmt.Sprintf("read %d changed Airtable records", st.Fetched))
		var out groundwork.AirtableFetchOutput
		err := workflow.ExecuteActivity(fetch, groundwork.ActivityAirtableFetch, groundwork.AirtableFetchInput{
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
		prog.set(ctx, groundwork.StagePlanning, int64(st.Fetched), 0, fmt.Sprintf("deciding what to write for %d Airtable records and Postgres's changes", st.Fetched))
		pctx := withActivity(ctx, groundwork.ActivityAirtablePlan)
		var plan groundwork.AirtablePlanResult
		if err := workflow.ExecuteActivity(pctx, groundwork.ActivityAirtablePlan, groundwork.AirtablePlanInput{RunID: in.RunID, MappingID: p.MappingID, DryRun: p.DryRun, FullScan: p.Since == nil}).Get(ctx, &plan); err != nil {
			return st, err
		}
		st.Plan = &plan
	}

	total := int64(st.Plan.Decisions)
	for !p.DryRun && int64(st.Applied+st.Failed) < total {
		prog.set(ctx, groundwork.StageWriting, int64(st.Applied+st.Failed), total,
			fmt.Sprintf("applied %d of %d decisions (%d failed)", st.Applied, total, st.Failed))
		var out groundwork.AirtableApplyOutput
		err := workflow.ExecuteActivity(apply, groundwork.ActivityAirtableApply, groundwork.AirtableApplyInput{RunID: in.RunID, MappingID: p.MappingID, Max: sizes.DecisionsPerPass}).Get(ctx, &out)
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
	prog.set(ctx, groundwork.StageDone, total, total, msg)
	if err := workflow.ExecuteLocalActivity(lctx, groundwork.ActivityAirtableFinish, groundwork.AirtableFinishInput{RunID: in.RunID, State: st, Progress: prog.p}).Get(ctx, nil); err != nil {
		prog.p = before
		return st, err
	}
	return st, nil
}

// AirtableSyncScheduled is what a mapping's Temporal Schedule starts: it
// records a run for the mapping's owner, so scheduled syncs show in
// GET /v1/runs like any other, and runs AirtableSync as its child.
func AirtableSyncScheduled(ctx workflow.Context, in groundwork.AirtableScheduledInput) error {
	// The ULID's randomness is recorded by the side effect; its time is
	// the workflow's.
	now := workflow.Now(ctx)
	var runID string
	err := workflow.SideEffect(ctx, func(workflow.Context) any {
		return groundwork.NewRunID(groundwork.KindAirtableSync, now)
	}).Get(&runID)
	if err != nil {
		return fmt.Errorf("run id: %w", err)
	}
	lctx := withLocal(ctx)
	if err := workflow.ExecuteLocalActivity(lctx, groundwork.ActivityAirtableLaunch, groundwork.AirtableLaunchInput{RunID: runID, MappingID: in.MappingID, OwnerID: in.OwnerID}).Get(ctx, nil); err != nil {
		return err
	}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID: runID,
		TaskQueue:  groundwork.TaskQueueDefault,
		// A terminated schedule run takes its sync along.
		ParentClosePolicy: enums.PARENT_CLOSE_POLICY_TERMINATE,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			SearchAttrOwner.ValueSet(in.OwnerID), SearchAttrKind.ValueSet(string(groundwork.KindAirtableSync)),
		),
	})
	return workflow.ExecuteChildWorkflow(cctx, groundwork.WorkflowAirtableSync, groundwork.AirtableSyncInput{RunID: runID, OwnerID: in.OwnerID}).Get(ctx, nil)
}
