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
)

// Stand-ins for the Generate workflow's activities.
func llmGenerate(context.Context, GenerateInput) (GenerateOutcome, error) {
	return GenerateOutcome{}, nil
}
func generateRecord(context.Context, GenerateRecordInput) error { return nil }

func newGenerateEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(Generate, workflow.RegisterOptions{Name: "Generate"})
	env.RegisterActivityWithOptions(llmGenerate, activity.RegisterOptions{Name: ActivityLLMGenerate})
	env.RegisterActivityWithOptions(generateRecord, activity.RegisterOptions{Name: ActivityGenerateRecord})
	env.RegisterActivityWithOptions(discard, activity.RegisterOptions{Name: ActivityGenerateDiscard})
	return env
}

func TestGenerateRecordsTheAnswer(t *testing.T) {
	env := newGenerateEnv(t)
	in := GenerateInput{RunID: "generation-01JD4X7Q2W6ZC5D3V9N8K1M2P3", OwnerID: "u1"}
	out := GenerateOutcome{Provider: "anthropic", Model: "claude-haiku-4-5", InputTokens: 120, OutputTokens: 80, CostUSD: 0.00052}
	var during Progress
	env.OnActivity(ActivityLLMGenerate, ctxAny, in).Return(func(context.Context, GenerateInput) (GenerateOutcome, error) {
		during = queryProgress(t, env)
		return out, nil
	})
	var recorded GenerateRecordInput
	env.OnActivity(ActivityGenerateRecord, ctxAny, anyArg).Return(func(_ context.Context, r GenerateRecordInput) error {
		recorded = r
		return nil
	})
	env.ExecuteWorkflow(Generate, in)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var got GenerateOutcome
	if err := env.GetWorkflowResult(&got); err != nil || got != out {
		t.Fatalf("result %+v (%v), want %+v", got, err, out)
	}
	if during.Stage != StageGenerating {
		t.Fatalf("progress during the call: %+v", during)
	}
	if recorded.RunID != in.RunID || recorded.Progress.Stage != StageDone || recorded.Progress.Done != 80 {
		t.Fatalf("recorded %+v", recorded)
	}
}

func TestGenerateFailureIsDiscardedWithItsType(t *testing.T) {
	for _, tc := range []struct {
		errType string
		want    string
	}{
		{ErrTypeBudgetExceeded, ErrTypeBudgetExceeded},
		{ErrTypeProviderRejected, ErrTypeProviderRejected},
		{"PgError", "internal"},
	} {
		t.Run(tc.errType, func(t *testing.T) {
			env := newGenerateEnv(t)
			in := GenerateInput{RunID: "generation-01JD4X7Q2W6ZC5D3V9N8K1M2P3", OwnerID: "u1"}
			calls := 0
			env.OnActivity(ActivityLLMGenerate, ctxAny, in).Return(func(context.Context, GenerateInput) (GenerateOutcome, error) {
				calls++
				return GenerateOutcome{}, temporal.NewNonRetryableApplicationError("user-facing words", tc.errType, nil)
			})
			var discarded RunDiscardInput
			env.OnActivity(ActivityGenerateDiscard, ctxAny, anyArg).Return(func(_ context.Context, d RunDiscardInput) error {
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
	in := GenerateInput{RunID: "generation-01JD4X7Q2W6ZC5D3V9N8K1M2P3", OwnerID: "u1"}
	calls := 0
	env.OnActivity(ActivityLLMGenerate, ctxAny, in).Return(func(context.Context, GenerateInput) (GenerateOutcome, error) {
		calls++
		if calls < 3 {
			return GenerateOutcome{}, temporal.NewApplicationError("every LLM provider failed", ErrTypeProviderUnavailable)
		}
		return GenerateOutcome{Provider: "openai", Model: "m"}, nil
	})
	env.OnActivity(ActivityGenerateRecord, ctxAny, anyArg).Return(nil)
	env.ExecuteWorkflow(Generate, in)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if calls != 3 {
		t.Fatalf("calls = %d, want 3", calls)
	}
}
