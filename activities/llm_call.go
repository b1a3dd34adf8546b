package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/llm"
	"github.com/groundwork-dev/groundwork/internal/metrics"
)

// callProvider makes one provider call: it takes the call's tokens from the
// shared bucket, writes the ledger row before the call (so a crash cannot
// lose it), streams the answer while heartbeating the text so far, and
// settles tokens and ledger row with the actual usage.
func (a *LLM) callProvider(ctx context.Context, g generation, c candidate, key string) (llm.Response, error) {
	hb := newStreamHeartbeat(ctx, a.heartbeatEvery(), groundwork.GenerateHeartbeat{
		Phase: "waiting", Provider: c.provider.Name(), Model: c.model, MaxTokens: g.req.MaxTokens,
	})
	slot, err := a.Tokens.ReserveN(ctx, tokenKey(c.provider.Name()), float64(g.estimate), func(time.Duration) { hb.beat(true) })
	if err != nil {
		return llm.Response{}, fmt.Errorf("llm token budget: %w", err)
	}
	taken := slot.N()
	q := sqlc.New(a.Pool)
	inputEstimate := g.estimate - g.req.MaxTokens
	start := time.Now()
	if err := q.LLMCallStart(ctx, sqlc.LLMCallStartParams{
		CallKey: key, OwnerID: g.owner, RunID: &g.runID, Provider: c.provider.Name(), Model: c.model,
		InputTokens: inputEstimate, StartedAt: a.now(),
	}); err != nil {
		_ = a.Tokens.Settle(context.WithoutCancel(ctx), tokenKey(c.provider.Name()), taken, 0)
		return llm.Response{}, fmt.Errorf("record llm call: %w", err)
	}
	hb.startCall(key, inputEstimate)

	req := g.req
	req.Model = c.model
	// Beat while the provider thinks, too: before its first token (a long
	// prompt, an overloaded provider) nothing else would, and without
	// heartbeats the attempt dies by its heartbeat timeout and a cancel
	// never reaches the call.
	stopBeating := hb.keepAlive(keepAliveEvery)
	resp, callErr := c.provider.Stream(ctx, req, hb.delta)
	stopBeating()
	latency := int32(min(time.Since(start).Milliseconds(), 1<<31-1))

	// Settle even when the activity was canceled mid-call: the tokens
	// were spent and the provider bills them.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	u := resp.Usage
	outcome, errText := "ok", (*string)(nil)
	if callErr != nil {
		outcome = callOutcome(ctx, callErr)
		msg := callErr.Error()
		errText = &msg
	}
	if err := a.Tokens.Settle(sctx, tokenKey(c.provider.Name()), taken, float64(u.InputTokens+u.OutputTokens)); err != nil {
		a.logWarn("settle llm tokens", err)
	}
	now := a.now()
	if err := q.LLMCallFinish(sctx, sqlc.LLMCallFinishParams{
		CallKey: key, Outcome: outcome, InputTokens: u.InputTokens, OutputTokens: u.OutputTokens,
		CachedTokens: u.CachedInputTokens, CostUsd: a.cost(c, u), LatencyMs: &latency, Error: errText, FinishedAt: &now,
	}); err != nil {
		// The row stays "started"; the next attempt settles it as interrupted.
		return llm.Response{}, fmt.Errorf("settle llm call: %w", err)
	}
	metrics.LLMTokens.WithLabelValues(c.provider.Name(), c.model, "input").Add(float64(u.InputTokens))
	metrics.LLMTokens.WithLabelValues(c.provider.Name(), c.model, "output").Add(float64(u.OutputTokens))
	metrics.LLMCost.WithLabelValues(c.provider.Name(), c.model).Add(a.cost(c, u))
	return resp, callErr
}

// callOutcome names a failed call in the ledger.
func callOutcome(ctx context.Context, err error) string {
	if ctx.Err() != nil {
		return "canceled"
	}
	var pe *llm.Error
	if errors.As(err, &pe) {
		return string(pe.Kind)
	}
	return "error"
}

// settleInterrupted closes the ledger rows a crashed attempt of this run
// left open, with the usage its last heartbeat reported, so every call is
// in the ledger exactly once.
func (a *LLM) settleInterrupted(ctx context.Context, runID string) error {
	q := sqlc.New(a.Pool)
	open, err := q.LLMCallsUnsettled(ctx, &runID)
	if err != nil {
		return fmt.Errorf("list unsettled llm calls: %w", err)
	}
	if len(open) == 0 {
		return nil
	}
	var last groundwork.GenerateHeartbeat
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &last)
	}
	msg := "the worker stopped during the call"
	for _, row := range open {
		in, out := row.InputTokens, int64(0)
		if row.CallKey == last.CallKey {
			in, out = last.InputTokens, last.OutputTokens
		}
		c := candidate{model: row.Model}
		for _, p := range a.Providers {
			if p.Name() == row.Provider {
				c.provider = p
			}
		}
		var cost float64
		if c.provider != nil {
			cost = a.cost(c, llm.Usage{InputTokens: in, OutputTokens: out})
		}
		now := a.now()
		if err := q.LLMCallFinish(ctx, sqlc.LLMCallFinishParams{
			CallKey: row.CallKey, Outcome: "interrupted", InputTokens: in, OutputTokens: out,
			CostUsd: cost, Error: &msg, FinishedAt: &now,
		}); err != nil {
			return fmt.Errorf("settle interrupted llm call: %w", err)
		}
	}
	return nil
}

func (a *LLM) heartbeatEvery() time.Duration {
	if a.HeartbeatEvery > 0 {
		return a.HeartbeatEvery
	}
	return 250 * time.Millisecond
}

func (a *LLM) logWarn(msg string, err error) {
	if a.Log != nil {
		a.Log.Warn(msg, "error", err)
	}
}

// streamHeartbeat reports a call's progress as activity heartbeats, at most
// every interval: the SDK throttles what reaches the server anyway, and
// serialising the text on every chunk would cost more than the call.
type streamHeartbeat struct {
	ctx   context.Context
	every time.Duration
	// mu guards the rest: keepAlive beats from its own goroutine.
	mu   sync.Mutex
	last time.Time
	d    groundwork.GenerateHeartbeat
	text strings.Builder
}

// keepAliveEvery is how often a call in flight heartbeats when no chunk
// arrives; the SDK sends at most one heartbeat per 0.8 × the heartbeat
// timeout anyway.
const keepAliveEvery = 2 * time.Second

// keepAlive heartbeats every interval until the returned stop is called.
func (h *streamHeartbeat) keepAlive(every time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				h.beat(true)
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

func newStreamHeartbeat(ctx context.Context, every time.Duration, d groundwork.GenerateHeartbeat) *streamHeartbeat {
	return &streamHeartbeat{ctx: ctx, every: every, d: d}
}

func (h *streamHeartbeat) startCall(key string, inputTokens int64) {
	h.mu.Lock()
	h.d.Phase, h.d.CallKey, h.d.InputTokens = "streaming", key, inputTokens
	h.mu.Unlock()
	h.beat(true)
}

func (h *streamHeartbeat) delta(chunk string) {
	h.mu.Lock()
	h.text.WriteString(chunk)
	h.d.OutputTokens = int64(h.text.Len()+3) / 4
	h.mu.Unlock()
	h.beat(false)
}

func (h *streamHeartbeat) beat(force bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !force && time.Since(h.last) < h.every {
		return
	}
	h.last = time.Now()
	h.d.Text = h.text.String()
	activity.RecordHeartbeat(h.ctx, h.d)
}

// tokenKey names a provider's tokens-per-minute bucket.
func tokenKey(provider string) string { return "tpm:" + provider }
