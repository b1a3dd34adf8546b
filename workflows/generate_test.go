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

// Stand-ins for the Generate workflow's activities.
func llmGenerate(context.Context, groundwork.GenerateInput) (groundwork.GenerateOutcome, error) {
	return groundwork.GenerateOutcome{}, nil
}
func generateRecord(context.Context, groundwork.GenerateRecordInput) error { return nil }

func newGenerateEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(Generate, workflow.RegisterOptions{Name: "Generate"})
	env.RegisterActivityWithOptions(llmGenerate, activity.RegisterOptions{Name: groundwork.ActivityLLMGenerate})
	env.RegisterActivityWithOptions(generateRecord, activity.RegisterOptions{Name: groundwork.ActivityGenerateRecord})
	env.RegisterActivityWithOptions(discard, activity.RegisterOptions{Name: groundwork.ActivityGenerateDiscard})
	return env
}

func TestGenerateRecordsTheAnswer(t *testing.T) {
	env := newGenerateEnv(t)
	in := groundwork.GenerateInput{RunID: "generation-01JD4X7Q2W6ZC5D3V9N8K1M2P3", OwnerID: "u1"}
	out := groundwork.GenerateOutcome{Provider: "anthropic", Model: "claude-haiku-4-5", InputTokens: 120, OutputTokens: 80, CostUSD: 0.00052}
	var during groundwork.Progress
	env.OnActivity(groundwork.ActivityLLMGenerate, ctxAny, in).Return(func(context.Context, groundwork.GenerateInput) (groundwork.GenerateOutcome, error) {
		during = queryProgress(t, env)
		return out, nil
	})
	var recorded groundwork.GenerateRecordInput
	env.OnActivity(groundwork.ActivityGenerateRecord, ctxAny, anyArg).Return(func(_ context.Context, r groundwork.GenerateRecordInput) error {
		recorded = r
		return nil
	})
	env.ExecuteWorkflow(Generate, in)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var got groundwork.GenerateOutcome
	if err := env.GetWorkflowResult(&got); err != nil || got != out {
		t.Fatalf("result %+v (%v), want %+v", got, err, out)
	}
	if during.Stage != groundwork.StageGenerating {
		t.Fatalf("progress during the call: %+v", during)
	}
	if recorded.RunID != in.RunID || recorded.Progress.Stage != groundwork.StageDone || recorded.Progress.Done != 80 {
		t.Fatalf("recorded %+v", recorded)
	}
}

func TestGenerateFailureIsDiscardedWithItsType(t *testing.T) {
	for _, tc := range []struct {
		errType string
		want    string
	}{
		{groundwork.ErrTypeBudgetExceeded, groundwork.ErrTypeBudgetExceeded},
		{groundwork.ErrTypeProviderRejected, groundwork.ErrTypeProviderRejected},
		{"PgError", "internal"},
	} {
		t.Run(tc.errType, func(t *testing.T) {
			env := newGenerateEnv(t)
			in := groundwork.GenerateInput{RunID: "generation-01JD4X7Q2W6ZC5D3V9N8K1M2P3", OwnerID: "u1"}
			calls := 0
			env.OnActivity(groundwork.ActivityLLMGenerate, ctxAny, in).Return(func(context.Context, groundwork.GenerateInput) (groundwork.GenerateOutcome, error) {
				calls++
				return groundwork.GenerateOutcome{}, temporal.NewNonRetryableApplicationError("user-facing words", tc.errType, nil)
			})
			var discarded groundwork.RunDiscardInput
			env.OnActivity(groundwork.ActivityGenerateDiscard, ctxAny, anyArg).Return(func(_ context.Context, d groundwork.RunDiscardInput) error {
				discarded = d
				return nil
			})
			env.ExecuteWorkflow(Generate, in)
			if env.GetWorkflowError() == nil {
				t.Fatal("want the workflow to fail")
			}
			if calls != 1 {
				t.Fatalf("a non-retryable error was retried: %d calls", calls)
			}
			if discarded.Status != "failed" || discarded.Error == nil || discarded.Error.Type != tc.want {
				t.Fatalf("discarded %+v", discarded)
			}
			if tc.want != "internal" && discarded.Error.Message != "user-facing words" {
				t.Fatalf("message %q", discarded.Error.Message)
			}
		})
	}
}

func TestGenerateRetriesUnavailableProviders(t *testing.T) {
	env := newGenerateEnv(t)
	in := groundwork.GenerateInput{RunID: "generation-01JD4X7Q2W6ZC5D3V9N8K1M2P3", OwnerID: "u1"}
	calls := 0
	env.OnActivity(groundwork.ActivityLLMGenerate, ctxAny, in).Return(func(context.Context, groundwork.GenerateInput) (groundwork.GenerateOutcome, error) {
		calls++
		if calls < 3 {
			return groundwork.GenerateOutcome{}, temporal.NewApplicationError("every LLM provider failed", groundwork.ErrTypeProviderUnavailable)
		}
		return groundwork.GenerateOutcome{Provider: "openai", Model: "m"}, nil
	})
	env.OnActivity(groundwork.ActivityGenerateRecord, ctxAny, anyArg).Return(nil)
	env.ExecuteWorkflow(Generate, in)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if calls != 3 {
		t.Fatalf("calls = %d, want 3", calls)
	}
}
