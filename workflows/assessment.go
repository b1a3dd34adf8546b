package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/groundwork-dev/groundwork"
)

// Assessment scores a customer's assessment on the assessment queue, then,
// when a provider is configured, asks the LLM chain for recommendations;
// without one, or if that fails for good, the deterministic
// recommendations the score stored stand.
func Assessment(ctx workflow.Context, in groundwork.RunInput) (groundwork.AssessmentScoreOutput, error) {
	prog, err := newProgressTracker(ctx)
	if err != nil {
		return groundwork.AssessmentScoreOutput{}, err
	}
	out, err := assess(ctx, prog, in)
	if err != nil {
		return groundwork.AssessmentScoreOutput{}, closeFailedRun(ctx, prog, in.RunID, err, groundwork.ActivityAssessmentDiscard)
	}
	return out, nil
}

func assess(ctx workflow.Context, prog *progressTracker, in groundwork.RunInput) (groundwork.AssessmentScoreOutput, error) {
	prog.set(ctx, groundwork.StageScoring, 0, 2, "scoring the answers")
	var out groundwork.AssessmentScoreOutput
	sctx := withActivity(ctx, groundwork.ActivityAssessmentScore)
	if err := workflow.ExecuteActivity(sctx, groundwork.ActivityAssessmentScore, in).Get(ctx, &out); err != nil {
		return out, err
	}
	rec := groundwork.AssessmentRecommendOutput{By: "rules"}
	if out.Recommend {
		prog.set(ctx, groundwork.StageRecommending, 1, 2, fmt.Sprintf("scored %.1f (%s); writing recommendations", out.Overall, out.Level))
		rctx := withActivity(ctx, groundwork.ActivityAssessmentRecommend)
		if err := workflow.ExecuteActivity(rctx, groundwork.ActivityAssessmentRecommend, in).Get(ctx, &rec); err != nil {
			if ctx.Err() != nil {
				return out, err // canceled
			}
			workflow.GetLogger(ctx).Warn("recommendations by LLM failed; the rules' stand", "error", err)
			rec.By = "rules"
		}
	}
	scored := prog.p
	prog.set(ctx, groundwork.StageDone, 2, 2, fmt.Sprintf("scored %.1f (%s); %d milestones achieved; recommendations by %s", out.Overall, out.Level, out.Milestones, rec.By))
	lctx := withLocal(ctx)
	if err := workflow.ExecuteLocalActivity(lctx, groundwork.ActivityAssessmentRecord, groundwork.AssessmentRecordInput{RunID: in.RunID, Progress: prog.p}).Get(lctx, nil); err != nil {
		prog.p = scored
		return out, err
	}
	return out, nil
}
