package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Activity names the Generate workflow calls.
const (
	// ActivityLLMGenerate renders the prompt and calls the providers (llm queue).
	ActivityLLMGenerate = "LLMGenerate"
	// ActivityGenerateRecord closes the run with its stored answer (local activity).
	ActivityGenerateRecord = "GenerateRecord"
	// ActivityGenerateDiscard closes a failed or canceled run (local activity).
	ActivityGenerateDiscard = "GenerateDiscard"
)

// StageGenerating is the stage in which the LLM activity runs; the API adds
// the activity's streamed tokens and partial text to it.
const StageGenerating = "generating"

// GenerateInput starts a Generate run; the request itself stays in Postgres.
type GenerateInput struct {
	RunID   string `json:"run_id"`
	OwnerID string `json:"owner_id"`
}

// GenerateOutcome summarises what LLMGenerate stored; the answer itself is
// in Postgres (generations), not in workflow history.
type GenerateOutcome struct {
	Provider     string  `json:"provider"`
	Model        string  `json:"model"`
	CacheHit     bool    `json:"cache_hit"`
	InputTokens  int64   `json:"input_tokens"`
	OutputTokens int64   `json:"output_tokens"`
	CostUSD      float64 `json:"cost_usd"`
}

// GenerateHeartbeat is LLMGenerate's heartbeat detail. The API shows it as
// the run's live progress, and a retried attempt uses it to settle the
// ledger row of a call its crashed predecessor left open.
type GenerateHeartbeat struct {
	// Phase is "waiting" (for the token budget) or "streaming".
	Phase     string `json:"phase"`
	CallKey   string `json:"call_key,omitempty"`
	Provider  string `json:"provider,omitempty"`
	Model     string `json:"model,omitempty"`
	MaxTokens int64  `json:"max_tokens"`
	// InputTokens is the provider's count once it sent one, else our estimate.
	InputTokens  int64 `json:"input_tokens"`
	OutputTokens int64 `json:"output_tokens"`
	// Text is the answer streamed so far.
	Text string `json:"text,omitempty"`
}

// GenerateRecordInput closes a succeeded Generate run.
type GenerateRecordInput struct {
	RunID    string   `json:"run_id"`
	Progress Progress `json:"progress"`
}

// generateRetryPolicy retries provider outages with backoff; a provider's
// Retry-After overrides the interval through the error's NextRetryDelay.
var generateRetryPolicy = &temporal.RetryPolicy{
	InitialInterval:    2 * time.Second,
	BackoffCoefficient: 2,
	MaximumInterval:    2 * time.Minute,
	MaximumAttempts:    8,
	NonRetryableErrorTypes: []string{
		ErrTypeInvalidInput, ErrTypeNotFound, ErrTypeBudgetExceeded,
		ErrTypeNoProvider, ErrTypeProviderRejected,
	},
}

// Generate asks an LLM provider (or the response cache) to answer a prompt
// template and stores the answer with its usage and cost.
func Generate(ctx workflow.Context, in GenerateInput) (GenerateOutcome, error) {
	prog, err := newProgressTracker(ctx)
	if err != nil {
		return GenerateOutcome{}, err
	}
	out, err := generate(ctx, prog, in)
	if err != nil {
		return GenerateOutcome{}, closeFailedRun(ctx, prog, in.RunID, err, ActivityGenerateDiscard)
	}
	return out, nil
}

func generate(ctx workflow.Context, prog *progressTracker, in GenerateInput) (GenerateOutcome, error) {
	prog.set(ctx, StageGenerating, 0, 0, "waiting for an LLM provider")
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue: TaskQueueLLM,
		// Covers waiting for the shared token budget as well as the call
		// itself, which the activity bounds separately (45 s by default).
		StartToCloseTimeout: 10 * time.Minute,
		// The activity heartbeats while it waits and streams: a worker
		// that dies mid-call is noticed within this.
		HeartbeatTimeout: 10 * time.Second,
		// Let a canceled call settle its ledger row before the run closes.
		WaitForCancellation: true,
		RetryPolicy:         generateRetryPolicy,
	})
	var out GenerateOutcome
	if err := workflow.ExecuteActivity(actx, ActivityLLMGenerate, in).Get(ctx, &out); err != nil {
		return GenerateOutcome{}, err
	}

	msg := fmt.Sprintf("generated %d tokens with %s/%s", out.OutputTokens, out.Provider, out.Model)
	if out.CacheHit {
		msg = fmt.Sprintf("answered from the cache (%s/%s)", out.Provider, out.Model)
	}
	generating := prog.p
	prog.set(ctx, StageDone, out.OutputTokens, out.OutputTokens, msg)
	lctx := workflow.WithLocalActivityOptions(ctx, localActivityOptions)
	if err := workflow.ExecuteLocalActivity(lctx, ActivityGenerateRecord, GenerateRecordInput{RunID: in.RunID, Progress: prog.p}).Get(lctx, nil); err != nil {
		prog.p = generating
		return GenerateOutcome{}, err
	}
	return out, nil
}
