package test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/groundwork-dev/groundwork/internal/config"
	"github.com/groundwork-dev/groundwork/internal/pricing"
	"github.com/groundwork-dev/groundwork/internal/testkit/llmfake"
	"github.com/groundwork-dev/groundwork/internal/testkit/testenv"
	"github.com/groundwork-dev/groundwork/worker"
)

// longSummary is a company-summary answer long enough that streaming it
// word by word takes seconds.
var longSummary = `{"summary": "` + strings.Repeat("Acme builds durable anvils for demanding desert customers. ", 8) +
	`", "industry": "Manufacturing", "products": ["anvils", "rockets"], "customers": ["Wile E. Coyote"], "key_facts": ["founded 1949"]}`

func summaryReply(llmfake.Request) string { return longSummary }

// llmSettings points generation at two fake providers, OpenAI first.
func llmSettings(openai, anthropic *llmfake.Server) config.LLM {
	return config.LLM{
		Providers: []config.LLMProvider{
			{Name: "openai", Kind: "openai", APIKey: "sk-test", APIKeyVar: "OPENAI_API_KEY", BaseURL: openai.OpenAIBaseURL(), Model: "gpt-4.1-mini"},
			{Name: "anthropic", Kind: "anthropic", APIKey: "sk-ant-test", APIKeyVar: "ANTHROPIC_API_KEY", BaseURL: anthropic.URL(), Model: "claude-haiku-4-5"},
		},
		TokensPerMinute: 1_000_000, TokenBurst: 1_000_000, RequestsPerMinute: 60_000,
		CallTimeout: 20 * time.Second, CacheTTL: time.Hour, MonthlyTokenBudget: 1_000_000,
		BreakerFailures: 100, BreakerCooldown: time.Second, Prices: pricing.Default(),
	}
}

func companyInputs(company string) map[string]any {
	return map[string]any{"company": company, "notes": company + " makes anvils. Its customers are coyotes."}
}

func (c *apiClient) startGeneration(body any) (run, response) {
	c.t.Helper()
	return c.start("/v1/generations", body)
}

func TestGenerationWithoutProviderIs503(t *testing.T) {
	c := sharedStack(t).newUser(t, "gen-offline")
	_, resp := c.startGeneration(map[string]any{"template": "company-summary", "inputs": companyInputs("Acme")})
	var p problemDoc
	resp.json(t, &p)
	if resp.Status != http.StatusServiceUnavailable || !strings.HasSuffix(p.Type, "/no_llm_provider") ||
		!strings.Contains(p.Detail, "OPENAI_API_KEY") || !strings.Contains(p.Detail, "GROUNDWORK_LLM_PROVIDERS") {
		t.Fatalf("%d %s", resp.Status, resp.Body)
	}
	if len(c.listRuns()) != 0 {
		t.Fatal("a refused generation left a run behind")
	}
}

func TestGenerationsEndToEnd(t *testing.T) {
	openai := llmfake.New(llmfake.Options{Reply: summaryReply, ChunkDelay: 40 * time.Millisecond})
	defer openai.Close()
	anthropic := llmfake.New(llmfake.Options{Reply: summaryReply})
	defer anthropic.Close()
	s := startStack(t, stackOptions{
		temporalHostPort: testenv.StartTemporal(t).FrontendHostPort(),
		workers:          "all", ratePerSec: 10000, ratePerMin: 1000000,
		llm: llmSettings(openai, anthropic),
	}, true)
	alice, bob := s.newUser(t, "gen-alice"), s.newUser(t, "gen-bob")

	t.Run("templates describe their inputs", func(t *testing.T) {
		alice := alice.with(t)
		resp := alice.do(http.MethodGet, "/v1/generations/templates", nil)
		var list struct {
			Templates []struct {
				Name        string         `json:"name"`
				Version     int            `json:"version"`
				InputSchema map[string]any `json:"input_schema"`
			} `json:"templates"`
		}
		resp.json(t, &list)
		names := map[string]bool{}
		for _, tpl := range list.Templates {
			names[tpl.Name] = true
			if tpl.Version < 1 || tpl.InputSchema["type"] != "object" || tpl.InputSchema["properties"] == nil {
				t.Errorf("template %s: version %d, schema %v", tpl.Name, tpl.Version, tpl.InputSchema)
			}
		}
		for _, want := range []string{"company-summary", "icp-analysis", "buyer-persona", "email-sequence", "value-proposition"} {
			if !names[want] {
				t.Errorf("template %s missing from %v", want, names)
			}
		}
	})

	t.Run("bad requests name the field", func(t *testing.T) {
		alice := alice.with(t)
		for _, tc := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"template": "nope", "inputs": map[string]any{}}, "template"},
			{map[string]any{"template": "company-summary", "inputs": map[string]any{"notes": "x"}}, "inputs.company"},
			{map[string]any{"template": "company-summary", "inputs": companyInputs("Acme"), "provider": "mistral"}, "provider"},
			{map[string]any{"template": "company-summary", "inputs": companyInputs("Acme"), "max_tokens": 0}, "max_tokens"},
		} {
			_, resp := alice.startGeneration(tc.body)
			var p problemDoc
			resp.json(t, &p)
			if resp.Status != http.StatusUnprocessableEntity || len(p.Errors) == 0 || p.Errors[0].Field != tc.field {
				t.Errorf("%v: %d %s, want 422 naming %s", tc.body, resp.Status, resp.Body, tc.field)
			}
		}
	})

	t.Run("streams progress, then stores the answer", func(t *testing.T) {
		alice, bob := alice.with(t), bob.with(t)
		r, resp := alice.startGeneration(map[string]any{"template": "company-summary", "inputs": companyInputs("Acme")})
		if resp.Status != http.StatusAccepted || r.Kind != "generation" || resp.Header.Get("Location") != "/v1/runs/"+r.ID {
			t.Fatalf("start: %d %s", resp.Status, resp.Body)
		}
		events := readEvents(t, openEvents(t, alice, r.ID, ""), 1000)
		partial := ""
		for _, e := range events {
			var ev run
			_ = json.Unmarshal(e.Data, &ev)
			if text, _ := ev.Progress["text"].(string); e.Event == "progress" && ev.Status == "running" && text != "" && len(text) < len(longSummary) {
				partial = text
			}
		}
		if partial == "" || !strings.HasPrefix(longSummary, partial) {
			t.Fatalf("no event carried part of the streamed text (%d events)", len(events))
		}
		first := alice.waitRun(r.ID)
		res := first.Result
		if first.Status != "succeeded" || res["text"] != longSummary || res["provider"] != "openai" || res["model"] != "gpt-4.1-mini" ||
			res["cache_hit"] != false || res["cost_usd"].(float64) <= 0 {
			t.Fatalf("run %+v", first)
		}
		if fields, _ := res["fields"].(map[string]any); fields["industry"] != "Manufacturing" {
			t.Fatalf("fields %v", res["fields"])
		}
		replayAndRecord(t, s.App.Temporal, r.ID, "generate_succeeded.json")
		resp = alice.do(http.MethodGet, "/v1/generations/"+r.ID, nil)
		var g map[string]any
		resp.json(t, &g)
		if resp.Status != http.StatusOK || g["text"] != longSummary || g["id"] != r.ID {
			t.Fatalf("get generation: %d %s", resp.Status, resp.Body)
		}
		if resp := bob.do(http.MethodGet, "/v1/generations/"+r.ID, nil); resp.Status != http.StatusNotFound {
			t.Fatalf("another user's generation: %d", resp.Status)
		}
	})

	t.Run("a repeated request is a free cache hit", func(t *testing.T) {
		alice := alice.with(t)
		before := len(openai.Requests()) + len(anthropic.Requests())
		r, _ := alice.startGeneration(map[string]any{"template": "company-summary", "inputs": companyInputs("Acme")})
		got := alice.waitRun(r.ID)
		if got.Status != "succeeded" || got.Result["cache_hit"] != true || got.Result["cost_usd"] != 0.0 || got.Result["text"] != longSummary {
			t.Fatalf("run %+v", got)
		}
		if after := len(openai.Requests()) + len(anthropic.Requests()); after != before {
			t.Fatalf("a cache hit called a provider (%d → %d requests)", before, after)
		}
	})

	t.Run("first provider 5xx: the second serves", func(t *testing.T) {
		alice := alice.with(t)
		openai.FailAll(&llmfake.Fault{Kind: llmfake.FaultServerError})
		defer openai.FailAll(nil)
		for i := range 3 {
			r, _ := alice.startGeneration(map[string]any{"template": "company-summary", "inputs": companyInputs(fmt.Sprintf("Fallback %d", i))})
			got := alice.waitRun(r.ID)
			if got.Status != "succeeded" || got.Result["provider"] != "anthropic" || got.Result["model"] != "claude-haiku-4-5" {
				t.Fatalf("run %+v", got)
			}
		}
	})

	t.Run("usage sums the ledger", func(t *testing.T) {
		alice := alice.with(t)
		resp := alice.do(http.MethodGet, "/v1/usage", nil)
		var u struct {
			Providers []struct {
				Provider     string  `json:"provider"`
				Calls        int64   `json:"calls"`
				FailedCalls  int64   `json:"failed_calls"`
				CacheHits    int64   `json:"cache_hits"`
				InputTokens  int64   `json:"input_tokens"`
				OutputTokens int64   `json:"output_tokens"`
				CostUSD      float64 `json:"cost_usd"`
			} `json:"providers"`
			Budget *struct {
				UsedTokens int64 `json:"used_tokens"`
			} `json:"budget"`
		}
		resp.json(t, &u)
		by := map[string]int{}
		for i, l := range u.Providers {
			by[l.Provider] = i
		}
		oa, an := u.Providers[by["openai"]], u.Providers[by["anthropic"]]
		// openai: the streamed call and three 500s; anthropic: three answers.
		if len(u.Providers) != 2 || oa.Calls != 4 || oa.FailedCalls != 3 || oa.CacheHits != 1 || an.Calls != 3 || an.FailedCalls != 0 {
			t.Fatalf("usage %s", resp.Body)
		}
		oaStats, anStats := openai.Stats(), anthropic.Stats()
		if oa.InputTokens != oaStats.InputTokens || oa.OutputTokens != oaStats.OutputTokens ||
			an.InputTokens != anStats.InputTokens || an.OutputTokens != anStats.OutputTokens {
			t.Fatalf("ledger %+v / %+v, providers saw %+v / %+v", oa, an, oaStats, anStats)
		}
		if u.Budget == nil || u.Budget.UsedTokens != oa.InputTokens+oa.OutputTokens+an.InputTokens+an.OutputTokens {
			t.Fatalf("budget %s", resp.Body)
		}
		if resp := alice.do(http.MethodGet, "/v1/usage?from=2026-13-01", nil); resp.Status != http.StatusUnprocessableEntity {
			t.Fatalf("bad from: %d", resp.Status)
		}
	})

	t.Run("over budget: the run fails and no provider is called", func(t *testing.T) {
		carol := s.newUser(t, "gen-carol")
		_, err := s.App.Pool.Exec(context.Background(), `INSERT INTO llm_calls (call_key, owner_id, provider, model, outcome, input_tokens, output_tokens)
			VALUES ('seed-carol', 'gen-carol', 'openai', 'gpt-4.1-mini', 'ok', 600000, 399990)`)
		if err != nil {
			t.Fatal(err)
		}
		before := len(openai.Requests()) + len(anthropic.Requests())
		r, _ := carol.startGeneration(map[string]any{"template": "company-summary", "inputs": companyInputs("Budget Co")})
		got := carol.waitRun(r.ID)
		if got.Status != "failed" || got.Error == nil || got.Error.Type != "budget_exceeded" || !strings.Contains(got.Error.Message, "1000000") {
			t.Fatalf("run %+v", got)
		}
		if after := len(openai.Requests()) + len(anthropic.Requests()); after != before {
			t.Fatal("a provider was called over budget")
		}
		replayAndRecord(t, s.App.Temporal, r.ID, "generate_budget_exceeded.json")
		if resp := carol.do(http.MethodGet, "/v1/generations/"+r.ID, nil); resp.Status != http.StatusConflict {
			t.Fatalf("failed generation: %d %s", resp.Status, resp.Body)
		}
	})

	t.Run("a cancel reaches a call waiting for its provider's first token", func(t *testing.T) {
		erin := s.newUser(t, "gen-erin").with(t)
		// Both providers hold their answer far longer than a heartbeat
		// timeout: the call must keep beating, and see the cancel.
		hold := &llmfake.Fault{Kind: llmfake.FaultSlow, Delay: 2 * time.Minute}
		openai.FailAll(hold)
		anthropic.FailAll(hold)
		defer openai.FailAll(nil)
		defer anthropic.FailAll(nil)
		before := openai.Stats().Requests
		r, resp := erin.startGeneration(map[string]any{"template": "company-summary", "inputs": companyInputs("Held Co")})
		if resp.Status != http.StatusAccepted {
			t.Fatalf("start: %d %s", resp.Status, resp.Body)
		}
		testenv.Eventually(t, 30*time.Second, "the provider to receive the call", func() bool { return openai.Stats().Requests > before })
		if resp := erin.do(http.MethodPost, "/v1/runs/"+r.ID+"/cancel", nil); resp.Status != http.StatusAccepted {
			t.Fatalf("cancel: %d %s", resp.Status, resp.Body)
		}
		if got := erin.waitRun(r.ID); got.Status != "canceled" {
			t.Fatalf("a run canceled while its provider held the answer ended %s (%+v)", got.Status, got.Error)
		}
	})

	t.Run("Prefer: wait answers 200 with the answer, or 202 when it outlasts the wait", func(t *testing.T) {
		dave := s.newUser(t, "gen-dave").with(t)
		r, resp := dave.start("/v1/generations", map[string]any{"template": "company-summary", "inputs": companyInputs("Prefer Co")}, "Prefer", "wait=10")
		if resp.Status != http.StatusOK || resp.Header.Get("Preference-Applied") != "wait=10" || r.Status != "succeeded" || r.Result["text"] != longSummary {
			t.Fatalf("%d (Preference-Applied %q): %s", resp.Status, resp.Header.Get("Preference-Applied"), resp.Body)
		}

		// Both providers hold their answer three times the wait.
		hold := &llmfake.Fault{Kind: llmfake.FaultSlow, Delay: 3 * time.Second}
		openai.FailAll(hold)
		anthropic.FailAll(hold)
		defer openai.FailAll(nil)
		defer anthropic.FailAll(nil)
		r, resp = dave.start("/v1/generations", map[string]any{"template": "company-summary", "inputs": companyInputs("Slow Co")}, "Prefer", "wait=1")
		if resp.Status != http.StatusAccepted || resp.Header.Get("Preference-Applied") != "" || resp.Header.Get("Location") != "/v1/runs/"+r.ID {
			t.Fatalf("%d (Preference-Applied %q): %s", resp.Status, resp.Header.Get("Preference-Applied"), resp.Body)
		}
		if r.Status != "queued" && r.Status != "running" {
			t.Fatalf("the 202's run is %s", r.Status)
		}
		if got := dave.waitRun(r.ID); got.Status != "succeeded" || got.Result["text"] != longSummary {
			t.Fatalf("run %+v", got)
		}
	})
}

// TestGenerationSurvivesAWorkerKilledMidStream runs the LLM worker as a
// separate process, kills it (SIGKILL) while it streams an answer, and
// checks that another worker finishes the run and that the ledger holds
// both calls exactly once: the interrupted one with what it streamed, and
// the one that answered.
func TestGenerationSurvivesAWorkerKilledMidStream(t *testing.T) {
	testenv.SkipShort(t, "Postgres, Temporal and a worker process")
	openai := llmfake.New(llmfake.Options{Reply: summaryReply, ChunkDelay: 60 * time.Millisecond})
	defer openai.Close()
	anthropic := llmfake.New(llmfake.Options{Reply: summaryReply})
	defer anthropic.Close()
	dev := testenv.StartTemporal(t)
	dbURL := testenv.DatabaseURL(t)
	settings := llmSettings(openai, anthropic)
	s := startStack(t, stackOptions{
		temporalHostPort: dev.FrontendHostPort(), databaseURL: dbURL,
		workers: "main", ratePerSec: 10000, ratePerMin: 1000000, llm: settings,
	}, true)

	proc := startWorkerProcess(t, dev.FrontendHostPort(), dbURL,
		"GROUNDWORK_LLM_PROVIDERS=openai,anthropic",
		"OPENAI_API_KEY=sk-test", "OPENAI_BASE_URL="+openai.OpenAIBaseURL(), "OPENAI_MODEL=gpt-4.1-mini",
		"ANTHROPIC_API_KEY=sk-ant-test", "ANTHROPIC_BASE_URL="+anthropic.URL(), "ANTHROPIC_MODEL=claude-haiku-4-5",
		"GROUNDWORK_LLM_TOKENS_PER_MINUTE=1000000",
	)

	c := s.newUser(t, "gen-crash")
	r, resp := c.startGeneration(map[string]any{"template": "company-summary", "inputs": companyInputs("Crash Co")})
	if resp.Status != http.StatusAccepted {
		t.Fatalf("start: %d %s", resp.Status, resp.Body)
	}
	// Wait until the worker process has reported streamed text, then kill it.
	testenv.Eventually(t, 30*time.Second, "streamed text in the run's progress", func() bool {
		text, _ := c.getRun(r.ID).Progress["text"].(string)
		return text != ""
	})
	if err := proc.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = proc.Wait()

	// A new worker takes the LLM queue over once the dead one's heartbeat
	// times out.
	ws, err := worker.New(s.App.WorkerDeps())
	if err != nil {
		t.Fatal(err)
	}
	llmWorker := ws[2]
	if err := llmWorker.Start(); err != nil {
		t.Fatal(err)
	}
	defer llmWorker.Stop()

	got := c.waitRun(r.ID)
	if got.Status != "succeeded" || got.Result["text"] != longSummary {
		t.Fatalf("run %+v", got)
	}
	rows, err := s.App.Pool.Query(context.Background(), `SELECT outcome, output_tokens FROM llm_calls WHERE run_id = $1 ORDER BY id`, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var outcomes []string
	var interruptedOut int64
	for rows.Next() {
		var o string
		var out int64
		if err := rows.Scan(&o, &out); err != nil {
			t.Fatal(err)
		}
		outcomes = append(outcomes, o)
		if o == "interrupted" {
			interruptedOut = out
		}
	}
	calls := len(openai.Requests()) + len(anthropic.Requests())
	if len(outcomes) != calls || len(outcomes) != 2 || outcomes[0] != "interrupted" || outcomes[1] != "ok" || interruptedOut == 0 {
		t.Fatalf("ledger %v (interrupted call's output %d tokens) for %d provider calls", outcomes, interruptedOut, calls)
	}
}
