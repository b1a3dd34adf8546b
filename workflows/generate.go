package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/groundwork-dev/groundwork"
)

// Generate asks an LLM provider (or the response cache) to answer a prompt
// template and stores the answer with its usage and cost.
func Generate(ctx workflow.Context, in groundwork.GenerateInput) (groundwork.GenerateOutcome, error) {
	prog, err := newProgressTracker(ctx)
	if err != nil {
		return groundwork.GenerateOutcome{}, err
	}
	out, err := generate(ctx, prog, in)
	if err != nil {
		return groundwork.GenerateOutcome{}, closeFailedRun(ctx, prog, in.RunID, err, groundwork.ActivityGenerateDiscard)
	}
	return out, nil
}

func generate(ctx workflow.Context, prog *progressTracker, in groundwork.GenerateInput) (groundwork.GenerateOutcome, error) {
	prog.set(ctx, groundwork.StageGenerating, 0, 0, "waiting for an LLM provider")
	actx := withActivity(ctx, groundwork.ActivityLLMGenerate)
	var out groundwork.GenerateOutcome
	if err := workflow.ExecuteActivity(actx, groundwork.ActivityLLMGenerate, in).Get(ctx, &out); err != nil {
		return groundwork.GenerateOutcome{}, err
	}

	msg := fmt.Sprintf("generated %d tokens with %s/%s", out.OutputTokens, out.Provider, out.Model)
	if out.CacheHit {
		msg = fmt.Sprintf("answered from the cache (%s/%s)", out.Provider, out.Model)
	}
	generating := prog.p
	prog.set(ctx, groundwork.StageDone, out.OutputTokens, out.OutputTokens, msg)
	lctx := withLocal(ctx)
	if err := workflow.ExecuteLocalActivity(lctx, groundwork.ActivityGenerateRecord, groundwork.GenerateRecordInput{RunID: in.RunID, Progress: prog.p}).Get(lctx, nil); err != nil {
		prog.p = generating
		return groundwork.GenerateOutcome{}, err
	}
	return out, nil
}
