package workflows

import (
	"errors"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/groundwork-dev/groundwork"
)

// WebhookInbound carries out one inbound message's action: tracking
// happens in InboundPrepare; a run starts as an abandoned child workflow
// whose ID derives from the message (so a re-delivery cannot start it
// again); a signal goes to the run it names. How it ended is recorded on
// the message.
func WebhookInbound(ctx workflow.Context, in groundwork.InboundInput) error {
	finish := groundwork.InboundFinishInput{SourceID: in.SourceID, WebhookID: in.WebhookID}
	var plan groundwork.InboundPlan
	actx := withActivity(ctx, groundwork.ActivityInboundPrepare)
	err := workflow.ExecuteActivity(actx, groundwork.ActivityInboundPrepare, in).Get(ctx, &plan)
	switch {
	case err != nil:
		finish.Error = runErrorOf(err).Message
	case plan.Kind != "":
		finish.RunID = plan.RunID
		spec := plan.Kind.Spec()
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID:               plan.RunID,
			TaskQueue:                groundwork.TaskQueueDefault,
			WorkflowExecutionTimeout: spec.ExecutionTimeout,
			WorkflowIDReusePolicy:    enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
			ParentClosePolicy:        enums.PARENT_CLOSE_POLICY_ABANDON,
			TypedSearchAttributes: temporal.NewSearchAttributes(
				SearchAttrOwner.ValueSet(plan.OwnerID), SearchAttrKind.ValueSet(string(plan.Kind))),
		})
		f := workflow.ExecuteChildWorkflow(cctx, spec.Workflow, groundwork.RunInput{RunID: plan.RunID, OwnerID: plan.OwnerID})
		var started *temporal.ChildWorkflowExecutionAlreadyStartedError
		if err := f.GetChildWorkflowExecution().Get(ctx, nil); err != nil && !errors.As(err, &started) {
			finish.Error = "the run did not start: " + err.Error()
		}
	case plan.Signal != "":
		finish.RunID = plan.RunID
		if err := workflow.SignalExternalWorkflow(ctx, plan.RunID, "", plan.Signal, plan.Payload).Get(ctx, nil); err != nil {
			finish.Error = "the signal was not delivered: " + err.Error()
		}
	}
	lctx := withLocal(ctx)
	return workflow.ExecuteLocalActivity(lctx, groundwork.ActivityInboundFinish, finish).Get(lctx, nil)
}
