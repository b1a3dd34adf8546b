package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/groundwork-dev/groundwork/internal/testkit/llmfake"
)

// GenerateResult is the generate scenario: many generations at once
// against a fake provider that enforces the same tokens-per-minute limit
// Groundwork is configured with.
type GenerateResult struct {
	Generations     int     `json:"generations"`
	TokensPerMinute int     `json:"tokens_per_minute_limit"`
	Succeeded       int     `json:"succeeded"`
	Failed          int     `json:"failed"`
	ProviderCalls   int     `json:"provider_calls"`
	Provider429s    int     `json:"provider_429s" doc:"429s the fake sent because we overran its limit"`
	Tokens          int64   `json:"tokens"`
	WallSeconds     float64 `json:"wall_seconds"`
	OverallRate     float64 `json:"overall_tokens_per_minute"`
	// SteadyRate leaves out the bucket's initial burst: tokens served after
	// the first Burst tokens, over the time they took.
	SteadyRate    float64 `json:"steady_tokens_per_minute"`
	SteadyOfLimit float64 `json:"steady_rate_of_limit"`
	EndToEnd      Summary `json:"end_to_end"`
}

// startGenerateFake starts the fake provider the generate scenario's stack
// is pointed at, and returns the server settings that point it there.
func startGenerateFake(o options) (*llmfake.Server, []string) {
	fake := llmfake.New(llmfake.Options{TokensPerMinute: o.llmTPM})
	env := []string{
		"GROUNDWORK_LLM_PROVIDERS=openai",
		"OPENAI_API_KEY=bench-not-a-secret",
		"OPENAI_BASE_URL=" + fake.OpenAIBaseURL(),
		fmt.Sprintf("GROUNDWORK_LLM_TOKENS_PER_MINUTE=%d", o.llmTPM),
		// Every generation comes from a few bench users at once.
		"GROUNDWORK_RATE_PER_SECOND=100000", "GROUNDWORK_RATE_PER_MINUTE=1000000",
	}
	return fake, env
}

// runGenerate starts o.generations generations at once, with prompts that
// differ so the cache cannot answer, waits for all of them and measures
// the token rate the fake provider served.
func runGenerate(ctx context.Context, e *env, o options, fake *llmfake.Server) (*Results, error) {
	users, err := e.createUsers(ctx, "generate", 20)
	if err != nil {
		return nil, err
	}
	logf("starting %d generations against a fake limited to %d tokens/min…", o.generations, o.llmTPM)
	e2e := newSample("POST → generation succeeded")
	var mu sync.Mutex
	res := &GenerateResult{Generations: o.generations, TokensPerMinute: o.llmTPM}
	var wg sync.WaitGroup
	start := time.Now()
	for i := range o.generations {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, _ := json.Marshal(map[string]any{
				"template":   "company-summary",
				"max_tokens": o.genMaxTokens,
				"inputs": map[string]any{
					"company": fmt.Sprintf("Company %04d", i),
					"notes":   fmt.Sprintf("Company %04d sells software to mid-sized logistics firms in Europe.", i),
				},
			})
			t0 := time.Now()
			status, err := generateOnce(ctx, e.api, users[i%len(users)], body)
			addTiming(e2e, t0, err)
			mu.Lock()
			defer mu.Unlock()
			if status == "succeeded" {
				res.Succeeded++
			} else {
				res.Failed++
				if err != nil {
					logf("generation %d: %v", i, err)
				}
			}
		}()
	}
	wg.Wait()
	res.WallSeconds = round2(time.Since(start).Seconds())
	res.EndToEnd = e2e.summary()

	st, served := fake.Stats(), fake.Served()
	res.ProviderCalls, res.Provider429s = st.Requests, st.RateLimited
	slices.SortFunc(served, func(a, b llmfake.Served) int { return a.At.Compare(b.At) })
	var cum int64
	burstAt, burstTokens := time.Time{}, int64(0)
	for _, s := range served {
		cum += int64(s.InputTokens + s.OutputTokens)
		if burstAt.IsZero() && cum >= int64(o.llmTPM) {
			burstAt, burstTokens = s.At, cum
		}
	}
	res.Tokens = cum
	if len(served) > 1 {
		span := served[len(served)-1].At.Sub(served[0].At).Minutes()
		if span > 0 {
			res.OverallRate = math.Round(float64(cum) / span)
		}
		if !burstAt.IsZero() {
			if steady := served[len(served)-1].At.Sub(burstAt).Minutes(); steady > 0 {
				res.SteadyRate = math.Round(float64(cum-burstTokens) / steady)
				res.SteadyOfLimit = math.Round(res.SteadyRate/float64(o.llmTPM)*1000) / 1000
			}
		}
	}
	return &Results{Scenario: "generate", Generate: res}, nil
}

// generateOnce POSTs one generation and polls its run every second until
// it ends; it returns the final status.
func generateOnce(ctx context.Context, api string, u user, body []byte) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Minute)
	defer cancel()
	call := func(method, url string, body []byte) ([]byte, error) {
		return callAPI(ctx, method, url, u.Token, body)
	}
	b, err := call(http.MethodPost, api+"/v1/generations", body)
	if err != nil {
		return "", err
	}
	id, err := runID(b)
	if err != nil {
		return "", err
	}
	for {
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(time.Second):
		}
		b, err := call(http.MethodGet, api+"/v1/runs/"+id, nil)
		if err != nil {
			return "", err
		}
		var run struct {
			Status string `json:"status"`
			Error  *struct {
				Type    string `json:"type"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(b, &run); err != nil {
			return "", err
		}
		switch run.Status {
		case "succeeded":
			return run.Status, nil
		case "failed", "canceled", "timed_out":
			if run.Error != nil {
				return run.Status, fmt.Errorf("run %s %s: %s: %s", id, run.Status, run.Error.Type, run.Error.Message)
			}
			return run.Status, fmt.Errorf("run %s %s", id, run.Status)
		}
	}
}

func printGenerate(w io.Writer, g *GenerateResult) {
	fmt.Fprintf(w, "\n%d generations, fake provider limited to %d tokens/min (Groundwork configured the same)\n", g.Generations, g.TokensPerMinute)
	fmt.Fprintf(w, "  succeeded %d, failed %d; provider calls %d; provider 429s caused by us: %d\n", g.Succeeded, g.Failed, g.ProviderCalls, g.Provider429s)
	fmt.Fprintf(w, "  tokens served %d in %.0f s wall\n", g.Tokens, g.WallSeconds)
	fmt.Fprintf(w, "  overall rate %.0f tokens/min (includes the initial burst of one minute's tokens)\n", g.OverallRate)
	fmt.Fprintf(w, "  steady rate  %.0f tokens/min = %.3f × the limit\n", g.SteadyRate, g.SteadyOfLimit)
	tw := table(w, "end to end")
	row(tw, "POST → succeeded", g.EndToEnd)
	_ = tw.Flush()
}
