package workflows

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"go.temporal.io/sdk/activity"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/groundwork-dev/groundwork"
)

// Stand-ins for the Assessment workflow's activities.
func assessmentScore(context.Context, groundwork.RunInput) (groundwork.AssessmentScoreOutput, error) {
	return groundwork.AssessmentScoreOutput{}, nil
}
func assessmentRecommend(context.Context, groundwork.RunInput) (groundwork.AssessmentRecommendOutput, error) {
	return groundwork.AssessmentRecommendOutput{}, nil
}
func assessmentRecord(context.Context, groundwork.AssessmentRecordInput) error { return nil }

func newAssessmentEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(Assessment, workflow.RegisterOptions{Name: groundwork.WorkflowAssessment})
	env.RegisterActivityWithOptions(assessmentScore, activity.RegisterOptions{Name: groundwork.ActivityAssessmentScore})
	env.RegisterActivityWithOptions(assessmentRecommend, activity.RegisterOptions{Name: groundwork.ActivityAssessmentRecommend})
	env.RegisterActivityWithOptions(assessmentRecord, activity.RegisterOptions{Name: groundwork.ActivityAssessmentRecord})
	env.RegisterActivityWithOptions(discard, activity.RegisterOptions{Name: groundwork.ActivityAssessmentDiscard})
	return env
}

// TestAssessmentKeepsRulesWhenTheLLMFails: a provider outage that outlasts
// the retries leaves the deterministic recommendations and the run succeeds.
func TestAssessmentKeepsRulesWhenTheLLMFails(t *testing.T) {
	env := newAssessmentEnv(t)
	in := groundwork.RunInput{RunID: "assessment-01JD4X7Q2W6ZC5D3V9N8K1M2P3", OwnerID: "u1"}
	score := groundwork.AssessmentScoreOutput{AssessmentID: in.RunID, Overall: 72.5, Level: "Developing", Milestones: 1, Recommend: true}
	var during groundwork.Progress
	env.OnActivity(groundwork.ActivityAssessmentScore, ctxAny, in).Return(func(context.Context, groundwork.RunInput) (groundwork.AssessmentScoreOutput, error) {
		during = queryProgress(t, env)
		return score, nil
	})
	calls := 0
	env.OnActivity(groundwork.ActivityAssessmentRecommend, ctxAny, in).Return(func(context.Context, groundwork.RunInput) (groundwork.AssessmentRecommendOutput, error) {
		calls++
		return groundwork.AssessmentRecommendOutput{}, temporal.NewApplicationError("every provider failed", groundwork.ErrTypeProviderUnavailable)
	})
	var recorded groundwork.AssessmentRecordInput
	env.OnActivity(groundwork.ActivityAssessmentRecord, ctxAny, anyArg).Return(func(_ context.Context, r groundwork.AssessmentRecordInput) error {
		recorded = r
		return nil
	})
	env.ExecuteWorkflow(Assessment, in)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if during.Stage != groundwork.StageScoring {
		t.Errorf("progress while scoring: %+v", during)
	}
	if want := int(activityPolicy[groundwork.ActivityAssessmentRecommend].RetryPolicy.MaximumAttempts); calls != want {
		t.Errorf("recommend tried %d times, want %d", calls, want)
	}
	if recorded.Progress.Stage != groundwork.StageDone || recorded.Progress.Done != 2 ||
		recorded.Progress.Message != "scored 72.5 (Developing); 1 milestones achieved; recommendations by rules" {
		t.Errorf("recorded %+v", recorded)
	}
}

// TestAssessmentInvalidAnswersFailTheRun: scoring refuses for good and the
// run is discarded with the user-facing error.
func TestAssessmentInvalidAnswersFailTheRun(t *testing.T) {
	env := newAssessmentEnv(t)
	in := groundwork.RunInput{RunID: "assessment-01JD4X7Q2W6ZC5D3V9N8K1M2P3", OwnerID: "u1"}
	calls := 0
	env.OnActivity(groundwork.ActivityAssessmentScore, ctxAny, in).Return(func(context.Context, groundwork.RunInput) (groundwork.AssessmentScoreOutput, error) {
		calls++
		return groundwork.AssessmentScoreOutput{}, temporal.NewNonRetryableApplicationError("invalid answers: answers.q1: not answered", groundwork.ErrTypeInvalidInput, nil)
	})
	var discarded groundwork.RunDiscardInput
	env.OnActivity(groundwork.ActivityAssessmentDiscard, ctxAny, anyArg).Return(func(_ context.Context, d groundwork.RunDiscardInput) error {
		discarded = d
		return nil
	})
	env.ExecuteWorkflow(Assessment, in)
	if env.GetWorkflowError() == nil || calls != 1 {
		t.Fatalf("error %v after %d calls", env.GetWorkflowError(), calls)
	}
	if discarded.Status != groundwork.RunFailed || discarded.Error == nil || discarded.Error.Type != groundwork.ErrTypeInvalidInput {
		t.Errorf("discarded %+v", discarded)
	}
}

// TestAssessmentWithoutProviderSkipsTheLLMQueue: with no provider the
// run never schedules AssessmentRecommend.
func TestAssessmentWithoutProviderSkipsTheLLMQueue(t *testing.T) {
	env := newAssessmentEnv(t)
	in := groundwork.RunInput{RunID: "assessment-01JD4X7Q2W6ZC5D3V9N8K1M2P3", OwnerID: "u1"}
	env.OnActivity(groundwork.ActivityAssessmentScore, ctxAny, in).Return(groundwork.AssessmentScoreOutput{AssessmentID: in.RunID, Overall: 10, Level: "Starting"}, nil)
	recommended := false
	env.OnActivity(groundwork.ActivityAssessmentRecommend, ctxAny, anyArg).Return(func(context.Context, groundwork.RunInput) (groundwork.AssessmentRecommendOutput, error) {
		recommended = true
		return groundwork.AssessmentRecommendOutput{}, nil
	})
	env.OnActivity(groundwork.ActivityAssessmentRecord, ctxAny, anyArg).Return(nil)
	env.ExecuteWorkflow(Assessment, in)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if recommended {
		t.Error("AssessmentRecommend ran without a provider")
	}
}
