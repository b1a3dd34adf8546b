package activities

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/llm"
	"github.com/groundwork-dev/groundwork/internal/pglimit"
	"github.com/groundwork-dev/groundwork/internal/pricing"
	"github.com/groundwork-dev/groundwork/internal/testkit/llmfake"
	"github.com/groundwork-dev/groundwork/internal/testkit/testenv"
)

// summaryJSON is a well-formed company-summary answer.
const summaryJSON = `{"summary": "Acme sells anvils to coyotes.", "industry": "Manufacturing", "products": ["anvils"], "customers": ["Wile E. Coyote"], "key_facts": ["founded 1949"]}`

type llmFixture struct {
	pool      *pgxpool.Pool
	acts      *LLM
	env       *testsuite.TestActivityEnvironment
	openai    *llmfake.Server
	anthropic *llmfake.Server
}

func newLLMFixture(t *testing.T) *llmFixture {
	t.Helper()
	pool, _ := testenv.Pool(t)
	reply := func(llmfake.Request) string { return summaryJSON }
	f := &llmFixture{
		pool:      pool,
		openai:    llmfake.New(llmfake.Options{Reply: reply}),
		anthropic: llmfake.New(llmfake.Options{Reply: reply}),
	}
	t.Cleanup(f.openai.Close)
	t.Cleanup(f.anthropic.Close)
	oa, err := llm.New(llm.Config{Name: "openai", Kind: "openai", APIKey: "sk-test", APIKeyVar: "OPENAI_API_KEY", BaseURL: f.openai.OpenAIBaseURL(), Model: "gpt-4.1-mini", CallTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	an, err := llm.New(llm.Config{Name: "anthropic", Kind: "anthropic", APIKey: "sk-ant-test", APIKeyVar: "ANTHROPIC_API_KEY", BaseURL: f.anthropic.URL(), Model: "claude-haiku-4-5", CallTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	f.acts = &LLM{
		Pool:            pool,
		Providers:       []llm.Provider{oa, an},
		Tokens:          &pglimit.SlotLimiter{Pool: pool, PerSecond: 1_000_000 / 60.0, Burst: 1_000_000},
		Prices:          pricing.Default(),
		BreakerFailures: 2,
		BreakerCooldown: time.Hour,
		Log:             testenv.Logger(t),
	}
	var s testsuite.WorkflowTestSuite
	f.env = s.NewTestActivityEnvironment()
	f.env.RegisterActivityWithOptions(f.acts.LLMGenerate, activity.RegisterOptions{Name: groundwork.ActivityLLMGenerate})
	return f
}

// seed stores a generation run and its request the way the API does.
func (f *llmFixture) seed(t *testing.T, req groundwork.GenerateRequest) string {
	t.Helper()
	if req.Template == "" {
		req.Template = "company-summary"
	}
	if req.Inputs == nil {
		req.Inputs = map[string]any{"company": "Acme", "notes": "Acme makes anvils. Its customers are coyotes."}
	}
	b, _ := json.Marshal(req)
	id := groundwork.NewRunID(groundwork.KindGeneration, time.Now())
	_, err := sqlc.New(f.pool).RunCreate(context.Background(), sqlc.RunCreateParams{ID: id, OwnerID: "u1", WorkspaceID: "u1", Kind: "generation", RequestHash: []byte{1}, Body: b, MaxOpen: db.NoOpenRunCap})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (f *llmFixture) generate(runID string) (groundwork.GenerateOutcome, error) {
	var out groundwork.GenerateOutcome
	v, err := f.env.ExecuteActivity(groundwork.ActivityLLMGenerate, groundwork.GenerateInput{RunID: runID, OwnerID: "u1"})
	if err != nil {
		return out, err
	}
	return out, v.Get(&out)
}

// ledger returns the run's ledger rows, oldest first.
func (f *llmFixture) ledger(t *testing.T, runID string) []sqlc.LlmCall {
	t.Helper()
	rows, err := f.pool.Query(context.Background(), `SELECT * FROM llm_calls WHERE run_id = $1 ORDER BY id`, runID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []sqlc.LlmCall
	for rows.Next() {
		var c sqlc.LlmCall
		if err := rows.Scan(&c.ID, &c.CallKey, &c.OwnerID, &c.RunID, &c.Provider, &c.Model, &c.Outcome, &c.InputTokens,
			&c.OutputTokens, &c.CachedTokens, &c.CostUsd, &c.LatencyMs, &c.Error, &c.StartedAt, &c.FinishedAt); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

func appError(t *testing.T, err error) *temporal.ApplicationError {
	t.Helper()
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) {
		t.Fatalf("want an application error, got %v", err)
	}
	return appErr
}

func TestLLMGenerateStoresAnswerUsageAndCost(t *testing.T) {
	f := newLLMFixture(t)
	id := f.seed(t, groundwork.GenerateRequest{})
	out, err := f.generate(id)
	if err != nil {
		t.Fatal(err)
	}
	st := f.openai.Stats()
	if out.Provider != "openai" || out.CacheHit || out.InputTokens != st.InputTokens || out.OutputTokens != st.OutputTokens || out.OutputTokens == 0 {
		t.Fatalf("outcome %+v, fake saw %+v", out, st)
	}
	price, _ := pricing.Default().Lookup("openai", "gpt-4.1-mini")
	if want := price.Cost(out.InputTokens, out.OutputTokens, 0); out.CostUSD < want*0.999 || out.CostUSD > want*1.001 {
		t.Fatalf("cost %v, want %v", out.CostUSD, want)
	}
	g, err := sqlc.New(f.pool).GenerationGet(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	res := db.GenerationResultOf(g)
	if res.Text != summaryJSON || res.Fields["industry"] != "Manufacturing" || len(res.Warnings) != 0 || res.TemplateVersion == 0 {
		t.Fatalf("stored %+v", res)
	}
	calls := f.ledger(t, id)
	if len(calls) != 1 || calls[0].Outcome != "ok" || calls[0].InputTokens != out.InputTokens || calls[0].OutputTokens != out.OutputTokens ||
		calls[0].FinishedAt == nil || calls[0].LatencyMs == nil {
		t.Fatalf("ledger %+v", calls)
	}
	reqs := f.openai.Requests()
	if len(reqs) != 1 || !reqs[0].Stream || !strings.Contains(reqs[0].Prompt, "Acme makes anvils") || reqs[0].Model != "gpt-4.1-mini" {
		t.Fatalf("provider saw %+v", reqs)
	}

	// A retried attempt returns the stored answer and calls nobody.
	again, err := f.generate(id)
	if err != nil || again != out || len(f.openai.Requests()) != 1 || len(f.ledger(t, id)) != 1 {
		t.Fatalf("retry: %+v %v, %d requests", again, err, len(f.openai.Requests()))
	}
}

func TestLLMGenerateFallsBackWhenTheFirstProviderFails(t *testing.T) {
	f := newLLMFixture(t)
	f.openai.FailAll(&llmfake.Fault{Kind: llmfake.FaultServerError})
	id := f.seed(t, groundwork.GenerateRequest{})
	out, err := f.generate(id)
	if err != nil {
		t.Fatal(err)
	}
	if out.Provider != "anthropic" || out.Model != "claude-haiku-4-5" {
		t.Fatalf("served by %s/%s", out.Provider, out.Model)
	}
	calls := f.ledger(t, id)
	if len(calls) != 2 || calls[0].Provider != "openai" || calls[0].Outcome != string(llm.KindServer) || calls[0].CostUsd != 0 ||
		calls[1].Provider != "anthropic" || calls[1].Outcome != "ok" {
		t.Fatalf("ledger %+v", calls)
	}
}

func TestCircuitBreakerOpensThenCloses(t *testing.T) {
	f := newLLMFixture(t)
	f.acts.BreakerCooldown = 300 * time.Millisecond
	f.openai.FailAll(&llmfake.Fault{Kind: llmfake.FaultServerError})
	for i := range 2 {
		if out, err := f.generate(f.seed(t, groundwork.GenerateRequest{Cache: groundwork.CacheBypass})); err != nil || out.Provider != "anthropic" {
			t.Fatalf("generation %d: %+v %v", i, out, err)
		}
	}
	if st := f.acts.BreakerState("openai"); st != "open" {
		t.Fatalf("after 2 failures the breaker is %s", st)
	}
	before := len(f.openai.Requests())
	if out, err := f.generate(f.seed(t, groundwork.GenerateRequest{Cache: groundwork.CacheBypass})); err != nil || out.Provider != "anthropic" {
		t.Fatalf("open circuit: %+v %v", out, err)
	}
	if n := len(f.openai.Requests()); n != before {
		t.Fatalf("an open circuit still called openai (%d → %d requests)", before, n)
	}

	f.openai.FailAll(nil)
	testenv.Eventually(t, 5*time.Second, "the breaker to half-open", func() bool { return f.acts.BreakerState("openai") == "half-open" })
	if out, err := f.generate(f.seed(t, groundwork.GenerateRequest{Cache: groundwork.CacheBypass})); err != nil || out.Provider != "openai" {
		t.Fatalf("half-open probe: %+v %v", out, err)
	}
	if st := f.acts.BreakerState("openai"); st != "closed" {
		t.Fatalf("after a good probe the breaker is %s", st)
	}
}

func TestCacheHitMissAndBypass(t *testing.T) {
	f := newLLMFixture(t)
	first, err := f.generate(f.seed(t, groundwork.GenerateRequest{}))
	if err != nil || first.CacheHit {
		t.Fatalf("miss: %+v %v", first, err)
	}
	hitID := f.seed(t, groundwork.GenerateRequest{})
	hit, err := f.generate(hitID)
	if err != nil || !hit.CacheHit || hit.CostUSD != 0 || hit.InputTokens != 0 || hit.Provider != "openai" {
		t.Fatalf("hit: %+v %v", hit, err)
	}
	if n := len(f.openai.Requests()); n != 1 {
		t.Fatalf("a cache hit called the provider: %d requests", n)
	}
	// Another workspace asking the same is not served this one's answer.
	elsewhere := f.seed(t, groundwork.GenerateRequest{})
	if _, err := f.pool.Exec(context.Background(), `INSERT INTO workspaces (id) VALUES ('other-ws') ON CONFLICT DO NOTHING;
		UPDATE runs SET workspace_id = 'other-ws' WHERE id = '`+elsewhere+`'`); err != nil {
		t.Fatal(err)
	}
	if out, err := f.generate(elsewhere); err != nil || out.CacheHit {
		t.Fatalf("another workspace got a cache hit: %+v %v", out, err)
	}
	calls := f.ledger(t, hitID)
	if len(calls) != 1 || calls[0].Outcome != "cache_hit" || calls[0].CostUsd != 0 || calls[0].InputTokens+calls[0].OutputTokens != 0 {
		t.Fatalf("hit ledger %+v", calls)
	}
	g, _ := sqlc.New(f.pool).GenerationGet(context.Background(), hitID)
	if g.Text != summaryJSON || !g.CacheHit {
		t.Fatalf("hit stored %+v", g)
	}

	if out, err := f.generate(f.seed(t, groundwork.GenerateRequest{Cache: groundwork.CacheBypass})); err != nil || out.CacheHit {
		t.Fatalf("bypass: %+v %v", out, err)
	}
	if n := len(f.openai.Requests()); n != 3 { // the miss, the other workspace, the bypass
		t.Fatalf("bypass did not call the provider: %d requests", n)
	}
	// Another template version, prompt or max_tokens is another key.
	if out, err := f.generate(f.seed(t, groundwork.GenerateRequest{MaxTokens: 99})); err != nil || out.CacheHit {
		t.Fatalf("different max_tokens hit the cache: %+v %v", out, err)
	}
	// An expired entry is not served.
	f.acts.Now = func() time.Time { return time.Now().Add(25 * time.Hour) }
	if out, err := f.generate(f.seed(t, groundwork.GenerateRequest{})); err != nil || out.CacheHit {
		t.Fatalf("expired entry served: %+v %v", out, err)
	}
}

func TestBudgetRefusesBeforeAnyCall(t *testing.T) {
	f := newLLMFixture(t)
	f.acts.MonthlyTokenBudget = 100
	id := f.seed(t, groundwork.GenerateRequest{})
	_, err := f.generate(id)
	appErr := appError(t, err)
	if appErr.Type() != groundwork.ErrTypeBudgetExceeded || !appErr.NonRetryable() || !strings.Contains(appErr.Message(), "100") {
		t.Fatalf("error %v", appErr)
	}
	if len(f.openai.Requests())+len(f.anthropic.Requests()) != 0 || len(f.ledger(t, id)) != 0 {
		t.Fatal("a provider was called or billed over budget")
	}
}

func TestRetryAfterBecomesTheNextRetryDelay(t *testing.T) {
	f := newLLMFixture(t)
	f.acts.Providers = f.acts.Providers[:1]
	f.openai.Enqueue(llmfake.Fault{Kind: llmfake.FaultRateLimited, RetryAfter: 7 * time.Second})
	id := f.seed(t, groundwork.GenerateRequest{})
	_, err := f.generate(id)
	appErr := appError(t, err)
	if appErr.Type() != groundwork.ErrTypeProviderUnavailable || appErr.NonRetryable() || appErr.NextRetryDelay() != 7*time.Second {
		t.Fatalf("error %v (retryable %v, delay %s)", appErr, !appErr.NonRetryable(), appErr.NextRetryDelay())
	}
	if calls := f.ledger(t, id); len(calls) != 1 || calls[0].Outcome != string(llm.KindRateLimited) {
		t.Fatalf("ledger %+v", calls)
	}
}

func TestProviderFaultsAreClassified(t *testing.T) {
	for _, tc := range []struct {
		name      string
		fault     llmfake.Fault
		anthropic bool
		outcome   llm.ErrorKind
		rejected  bool
	}{
		{"anthropic 529", llmfake.Fault{Kind: llmfake.FaultOverloaded}, true, llm.KindOverloaded, false},
		{"openai 500", llmfake.Fault{Kind: llmfake.FaultServerError}, false, llm.KindServer, false},
		{"stream cut", llmfake.Fault{Kind: llmfake.FaultCutStream, AfterChunks: 3}, true, llm.KindNetwork, false},
		{"malformed", llmfake.Fault{Kind: llmfake.FaultMalformed}, false, llm.KindMalformed, false},
		{"slow", llmfake.Fault{Kind: llmfake.FaultSlow, Delay: 3 * time.Second}, false, llm.KindTimeout, false},
		{"unauthorized", llmfake.Fault{Kind: llmfake.FaultUnauthorized}, false, llm.KindAuth, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newLLMFixture(t)
			fake, prov := f.openai, f.acts.Providers[0]
			if tc.anthropic {
				fake, prov = f.anthropic, f.acts.Providers[1]
			}
			if tc.fault.Kind == llmfake.FaultSlow {
				p, err := llm.New(llm.Config{Name: "openai", Kind: "openai", APIKey: "k", APIKeyVar: "OPENAI_API_KEY", BaseURL: f.openai.OpenAIBaseURL(), CallTimeout: 200 * time.Millisecond})
				if err != nil {
					t.Fatal(err)
				}
				prov = p
			}
			f.acts.Providers = []llm.Provider{prov}
			fake.Enqueue(tc.fault)
			id := f.seed(t, groundwork.GenerateRequest{})
			_, err := f.generate(id)
			appErr := appError(t, err)
			if tc.rejected {
				if appErr.Type() != groundwork.ErrTypeProviderRejected || !appErr.NonRetryable() || !strings.Contains(appErr.Message(), "OPENAI_API_KEY") {
					t.Fatalf("error %v", appErr)
				}
			} else if appErr.Type() != groundwork.ErrTypeProviderUnavailable || appErr.NonRetryable() {
				t.Fatalf("error %v", appErr)
			}
			calls := f.ledger(t, id)
			if len(calls) != 1 || calls[0].Outcome != string(tc.outcome) || calls[0].FinishedAt == nil {
				t.Fatalf("ledger %+v", calls)
			}
			if tc.fault.Kind == llmfake.FaultCutStream && calls[0].OutputTokens == 0 {
				t.Fatalf("a cut stream's partial output is not billed: %+v", calls[0])
			}
			// The next attempt succeeds and adds exactly one row.
			if _, err := f.generate(id); err != nil {
				t.Fatal(err)
			}
			if calls := f.ledger(t, id); len(calls) != 2 || calls[1].Outcome != "ok" {
				t.Fatalf("ledger after retry %+v", calls)
			}
		})
	}
}

func TestInterruptedCallIsSettledExactlyOnce(t *testing.T) {
	f := newLLMFixture(t)
	id := f.seed(t, groundwork.GenerateRequest{})
	// A previous attempt recorded its call and died mid-stream.
	key := id + "/1/0"
	err := sqlc.New(f.pool).LLMCallStart(context.Background(), sqlc.LLMCallStartParams{
		CallKey: key, OwnerID: "u1", RunID: &id, Provider: "openai", Model: "gpt-4.1-mini", InputTokens: 400, StartedAt: time.Now(),
	})
	if err != nil {
		t.Fatal(err)
	}
	f.env.SetHeartbeatDetails(groundwork.GenerateHeartbeat{Phase: "streaming", CallKey: key, Provider: "openai", InputTokens: 120, OutputTokens: 17})
	out, err := f.generate(id)
	if err != nil {
		t.Fatal(err)
	}
	calls := f.ledger(t, id)
	if len(calls) != 2 {
		t.Fatalf("ledger %+v", calls)
	}
	if c := calls[0]; c.CallKey != key || c.Outcome != "interrupted" || c.InputTokens != 120 || c.OutputTokens != 17 || c.CostUsd <= 0 {
		t.Fatalf("interrupted call %+v", c)
	}
	if c := calls[1]; c.Outcome != "ok" || c.OutputTokens != out.OutputTokens {
		t.Fatalf("new call %+v", c)
	}
	if _, err := f.generate(id); err != nil || len(f.ledger(t, id)) != 2 {
		t.Fatalf("a repeated attempt changed the ledger: %v", err)
	}
}
