package activities

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sony/gobreaker/v2"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/config"
	"github.com/groundwork-dev/groundwork/internal/document"
	"github.com/groundwork-dev/groundwork/internal/llm"
	"github.com/groundwork-dev/groundwork/internal/metrics"
	"github.com/groundwork-dev/groundwork/internal/pglimit"
	"github.com/groundwork-dev/groundwork/internal/pricing"
	"github.com/groundwork-dev/groundwork/internal/prompts"
)

// LLM generates text with the configured providers: it owns the fallback
// chain, the circuit breakers, the shared token budget, the response cache
// and the usage ledger.
type LLM struct {
	Pool *pgxpool.Pool
	// Providers is the fallback chain, first choice first.
	Providers []llm.Provider
	// Allowed are the models requests may name per provider; nil skips
	// the check (the API made it already).
	Allowed []groundwork.LLMProvider
	// Tokens is the tokens-per-minute budget shared by every worker, as
	// weighted slots (PerSecond tokens per second, Burst at once).
	Tokens *pglimit.SlotLimiter
	Prices pricing.Table
	// CacheTTL is how long an answer is served from the cache (default 24h).
	CacheTTL time.Duration
	// MonthlyTokenBudget caps each user's tokens per UTC month (0: none).
	MonthlyTokenBudget int64
	// BreakerFailures consecutive retryable failures open a provider's
	// circuit for BreakerCooldown.
	BreakerFailures int
	BreakerCooldown time.Duration
	// HeartbeatEvery is how often streamed text is reported (default 250 ms).
	HeartbeatEvery time.Duration
	Log            *slog.Logger
	// Now is the clock of cache expiry and budgets; tests replace it.
	Now func() time.Time

	breakersOnce sync.Once
	breakers     map[string]*gobreaker.TwoStepCircuitBreaker[struct{}]
}

// candidate is one provider of a request's chain with the model to ask.
type candidate struct {
	provider llm.Provider
	model    string
}

func (a *LLM) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// breaker returns the provider's circuit breaker. A breaker counts only
// failures that say the provider is unwell; a request it rejected (bad
// input, bad key) or our own cancellation leaves it alone.
func (a *LLM) breaker(name string) *gobreaker.TwoStepCircuitBreaker[struct{}] {
	a.breakersOnce.Do(func() {
		failures := uint32(max(a.BreakerFailures, 1))
		if a.BreakerFailures == 0 {
			failures = config.DefaultLLMBreakerFailures
		}
		cooldown := a.BreakerCooldown
		if cooldown <= 0 {
			cooldown = config.DefaultLLMBreakerCooldown
		}
		a.breakers = map[string]*gobreaker.TwoStepCircuitBreaker[struct{}]{}
		for _, p := range a.Providers {
			a.breakers[p.Name()] = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
				Name:        p.Name(),
				MaxRequests: 1,
				Timeout:     cooldown,
				ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= failures },
				IsExcluded: func(err error) bool {
					var pe *llm.Error
					return errors.Is(err, context.Canceled) || (errors.As(err, &pe) && !pe.Retryable())
				},
				OnStateChange: func(name string, from, to gobreaker.State) {
					if a.Log != nil {
						a.Log.Warn("llm circuit breaker", "provider", name, "from", from.String(), "to", to.String())
					}
				},
			})
		}
	})
	return a.breakers[name]
}

// BreakerState reports a provider's circuit state ("closed", "open",
// "half-open"), for tests and metrics.
func (a *LLM) BreakerState(provider string) string {
	if b := a.breaker(provider); b != nil {
		return b.State().String()
	}
	return ""
}

// LLMGenerate answers a Generate run: from the cache when it can, else from
// the first provider of the chain that is healthy, within the owner's
// budget and the shared token rate. The answer and one ledger row per call
// are stored in Postgres; the run ID is the idempotency key throughout, so
// a retried attempt never stores or bills anything twice.
func (a *LLM) LLMGenerate(ctx context.Context, in groundwork.GenerateInput) (groundwork.GenerateOutcome, error) {
	q := sqlc.New(a.Pool)
	if g, err := q.GenerationGet(ctx, in.RunID); err == nil {
		return outcomeOf(g), nil // an earlier attempt stored it
	} else if !db.IsNotFound(err) {
		return groundwork.GenerateOutcome{}, fmt.Errorf("load generation: %w", err)
	}
	req, tmpl, err := a.loadRequest(ctx, in.RunID)
	if err != nil {
		return groundwork.GenerateOutcome{}, err
	}
	if len(a.Providers) == 0 {
		if rule, ok := ruleAnswers[req.Template]; ok {
			return a.answerByRules(ctx, in.RunID, in.OwnerID, tmpl, req, rule)
		}
		return groundwork.GenerateOutcome{}, temporal.NewNonRetryableApplicationError(
			"no LLM provider is configured on the worker: set GROUNDWORK_LLM_PROVIDERS and the providers' API keys", groundwork.ErrTypeNoProvider, nil)
	}
	return a.answer(ctx, in.RunID, in.OwnerID, req, tmpl)
}

// answer renders the request's prompt and answers it from the cache or the
// chain, storing the answer as the run's generation.
func (a *LLM) answer(ctx context.Context, runID, owner string, req groundwork.GenerateRequest, tmpl prompts.Template) (groundwork.GenerateOutcome, error) {
	if err := a.settleInterrupted(ctx, runID); err != nil {
		return groundwork.GenerateOutcome{}, err
	}
	system, user, err := tmpl.Render(tmpl.WithDefaults(req.InputsOrEmpty()))
	if err != nil {
		return groundwork.GenerateOutcome{}, temporal.NewNonRetryableApplicationError("render the prompt: "+err.Error(), groundwork.ErrTypeInvalidInput, err)
	}
	maxTokens := req.MaxTokens
	if maxTokens <= 0 {
		maxTokens = tmpl.MaxTokens
	}
	call := llm.Request{System: system, Prompt: user, MaxTokens: maxTokens}
	chain := a.chain(req)
	// The cache is the workspace's: a cache hit must not tell one team
	// what another asked.
	scope, err := sqlc.New(a.Pool).RunWorkspace(ctx, runID)
	if err != nil && !db.IsNotFound(err) {
		return groundwork.GenerateOutcome{}, fmt.Errorf("load the run's workspace: %w", err)
	}
	if scope == "" {
		scope = owner
	}
	g := generation{runID: runID, owner: owner, scope: scope, tmpl: tmpl, req: call, estimate: EstimateTokens(system+user) + maxTokens}

	if req.Cache != groundwork.CacheBypass {
		if out, ok, err := a.fromCache(ctx, g, chain); err != nil || ok {
			return out, err
		}
	}
	if err := a.checkBudget(ctx, g); err != nil {
		return groundwork.GenerateOutcome{}, err
	}

	attempt := activity.GetInfo(ctx).Attempt
	var failures []string
	var retryAfter time.Duration
	for i, c := range chain {
		done, err := a.breaker(c.provider.Name()).Allow()
		if err != nil {
			failures = append(failures, c.provider.Name()+": circuit open after repeated failures")
			continue
		}
		resp, err := a.callProvider(ctx, g, c, callKey(runID, attempt, i))
		done(err)
		if err == nil {
			return a.store(ctx, g, c, resp, false)
		}
		if ctx.Err() != nil {
			return groundwork.GenerateOutcome{}, ctx.Err()
		}
		var pe *llm.Error
		if !errors.As(err, &pe) {
			return groundwork.GenerateOutcome{}, err // our own failure (Postgres): retry the attempt
		}
		if !pe.Retryable() {
			return groundwork.GenerateOutcome{}, temporal.NewNonRetryableApplicationError(pe.Message, groundwork.ErrTypeProviderRejected, err)
		}
		failures = append(failures, pe.Message)
		retryAfter = max(retryAfter, pe.RetryAfter)
	}
	return groundwork.GenerateOutcome{}, temporal.NewApplicationErrorWithOptions(
		"every LLM provider failed: "+strings.Join(failures, "; "), groundwork.ErrTypeProviderUnavailable,
		temporal.ApplicationErrorOptions{NextRetryDelay: retryAfter})
}

// generation is one request on its way through LLMGenerate.
type generation struct {
	runID, owner string
	// scope is the workspace whose cache serves and keeps the answer.
	scope string
	tmpl  prompts.Template
	req   llm.Request
	// estimate is the most tokens the call can use: the prompt's estimated
	// tokens plus max_tokens.
	estimate int64
}

// chain orders the providers for a request: the one it names first, with
// its model; the rest with their default models.
func (a *LLM) chain(req groundwork.GenerateRequest) []candidate {
	var out []candidate
	for _, p := range a.Providers {
		c := candidate{provider: p, model: p.DefaultModel()}
		if p.Name() == req.Provider {
			out = append([]candidate{c}, out...)
		} else {
			out = append(out, c)
		}
	}
	// The model names a model of the provider asked for (or of the first
	// one): never send it to a provider it was not meant for.
	if req.Model != "" && (req.Provider == "" || out[0].provider.Name() == req.Provider) {
		out[0].model = req.Model
	}
	return out
}

func (a *LLM) loadRequest(ctx context.Context, runID string) (groundwork.GenerateRequest, prompts.Template, error) {
	req, err := loadRunInput[groundwork.GenerateRequest](ctx, a.Pool, runID, "generation")
	if err != nil {
		return groundwork.GenerateRequest{}, prompts.Template{}, err
	}
	// The provider list may differ from the API's: a provider the worker
	// lacks is skipped by chain, not an invalid request.
	errs := dropField(req.Validate(prompts.Catalog, a.Allowed), "provider")
	if len(errs) > 0 {
		return groundwork.GenerateRequest{}, prompts.Template{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("invalid generation request: %s: %s", errs[0].Field, errs[0].Message), groundwork.ErrTypeInvalidInput, nil)
	}
	t, _ := prompts.Get(req.Template)
	return req, t, nil
}

// cacheKey identifies an answer: provider, model, template version,
// rendered prompt and every parameter that changes the answer.
func cacheKey(g generation, c candidate) []byte {
	b, _ := json.Marshal([]any{g.scope, c.provider.Name(), c.model, g.tmpl.Key(), g.req.System, g.req.Prompt, g.req.MaxTokens, g.req.Temperature})
	sum := sha256.Sum256(b)
	return sum[:]
}

// fromCache serves the first fresh cached answer of any provider of the
// chain, recording a zero-cost ledger row.
func (a *LLM) fromCache(ctx context.Context, g generation, chain []candidate) (groundwork.GenerateOutcome, bool, error) {
	keys := make([][]byte, len(chain))
	for i, c := range chain {
		keys[i] = cacheKey(g, c)
	}
	hit, err := sqlc.New(a.Pool).LLMCacheGet(ctx, sqlc.LLMCacheGetParams{Keys: keys, Now: a.now()})
	if db.IsNotFound(err) {
		return groundwork.GenerateOutcome{}, false, nil
	}
	if err != nil {
		return groundwork.GenerateOutcome{}, false, fmt.Errorf("read llm cache: %w", err)
	}
	now := a.now()
	err = sqlc.New(a.Pool).LLMCallRecord(ctx, sqlc.LLMCallRecordParams{
		CallKey: g.runID + "/cache", OwnerID: g.owner, RunID: &g.runID,
		Provider: hit.Provider, Model: hit.Model, Outcome: "cache_hit", StartedAt: now, LatencyMs: new(int32),
	})
	if err != nil {
		return groundwork.GenerateOutcome{}, false, fmt.Errorf("record cache hit: %w", err)
	}
	resp := llm.Response{Text: hit.Text, Model: hit.Model, StopReason: hit.StopReason,
		Usage: llm.Usage{InputTokens: hit.InputTokens, OutputTokens: hit.OutputTokens}}
	for _, c := range chain {
		if c.provider.Name() == hit.Provider {
			out, err := a.store(ctx, g, candidate{provider: c.provider, model: hit.Model}, resp, true)
			return out, true, err
		}
	}
	return groundwork.GenerateOutcome{}, false, nil
}

// checkBudget refuses a call that could take the owner past their monthly
// token budget, before any provider is called.
func (a *LLM) checkBudget(ctx context.Context, g generation) error {
	if a.MonthlyTokenBudget <= 0 {
		return nil
	}
	now := a.now().UTC()
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	used, err := sqlc.New(a.Pool).LLMTokensUsedSince(ctx, sqlc.LLMTokensUsedSinceParams{OwnerID: g.owner, Since: month})
	if err != nil {
		return fmt.Errorf("sum token usage: %w", err)
	}
	if used+g.estimate > a.MonthlyTokenBudget {
		metrics.LLMBudgetRefused.Inc()
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
			"this generation may use up to %d tokens, but %d of your %d tokens for %s are used; lower max_tokens or wait for next month",
			g.estimate, used, a.MonthlyTokenBudget, month.Format("January 2006")), groundwork.ErrTypeBudgetExceeded, nil)
	}
	return nil
}

// store records the answer (parsing the structured fields the template
// asks for), caches a provider's answer, and returns the outcome.
func (a *LLM) store(ctx context.Context, g generation, c candidate, resp llm.Response, cacheHit bool) (groundwork.GenerateOutcome, error) {
	var warnings []string
	var fields json.RawMessage
	if g.tmpl.Structured() {
		f, err := g.tmpl.ParseOutput(resp.Text)
		if err != nil {
			warnings = append(warnings, "the answer is not the JSON the template asks for, so fields are empty: "+err.Error())
		} else if fields, err = json.Marshal(f); err != nil {
			return groundwork.GenerateOutcome{}, fmt.Errorf("marshal fields: %w", err)
		}
	}
	if resp.StopReason == "max_tokens" || resp.StopReason == "length" {
		warnings = append(warnings, fmt.Sprintf("the answer was cut off at max_tokens (%d)", g.req.MaxTokens))
	}
	var cost float64
	if !cacheHit {
		cost = a.cost(c, resp.Usage)
	}
	err := db.InTx(ctx, a.Pool, func(tx pgx.Tx) error {
		q := sqlc.New(tx)
		if !cacheHit {
			now := a.now()
			if err := q.LLMCachePut(ctx, sqlc.LLMCachePutParams{
				Key: cacheKey(g, c), Provider: c.provider.Name(), Model: c.model, Template: g.tmpl.Key(),
				Text: resp.Text, StopReason: resp.StopReason, InputTokens: resp.Usage.InputTokens, OutputTokens: resp.Usage.OutputTokens,
				Now: now, ExpiresAt: now.Add(a.cacheTTL()),
			}); err != nil {
				return fmt.Errorf("write llm cache: %w", err)
			}
		}
		usage := resp.Usage
		if cacheHit {
			usage = llm.Usage{} // a hit consumed nothing
		}
		_, err := q.GenerationInsert(ctx, sqlc.GenerationInsertParams{
			RunID: g.runID, OwnerID: g.owner, Template: g.tmpl.Name, TemplateVersion: int32(g.tmpl.Version),
			Provider: c.provider.Name(), Model: c.model, Text: resp.Text, Fields: fields, Warnings: nonNil(warnings),
			StopReason: resp.StopReason, InputTokens: usage.InputTokens, OutputTokens: usage.OutputTokens,
			CachedTokens: usage.CachedInputTokens, CostUsd: cost, CacheHit: cacheHit,
		})
		if err != nil {
			return fmt.Errorf("store generation: %w", err)
		}
		return nil
	})
	if err != nil {
		return groundwork.GenerateOutcome{}, err
	}
	row, err := sqlc.New(a.Pool).GenerationGet(ctx, g.runID)
	if err != nil {
		return groundwork.GenerateOutcome{}, fmt.Errorf("load generation: %w", err)
	}
	return outcomeOf(row), nil
}

func (a *LLM) cost(c candidate, u llm.Usage) float64 {
	p, ok := a.Prices.Lookup(c.provider.Name(), c.model)
	if !ok {
		if a.Log != nil {
			a.Log.Warn("no price for model; its calls are recorded at zero cost", "provider", c.provider.Name(), "model", c.model)
		}
		return 0
	}
	return p.Cost(u.InputTokens, u.OutputTokens, u.CachedInputTokens)
}

func (a *LLM) cacheTTL() time.Duration {
	if a.CacheTTL > 0 {
		return a.CacheTTL
	}
	return 24 * time.Hour
}

func outcomeOf(g sqlc.Generation) groundwork.GenerateOutcome {
	return groundwork.GenerateOutcome{
		Provider: g.Provider, Model: g.Model, CacheHit: g.CacheHit,
		InputTokens: g.InputTokens, OutputTokens: g.OutputTokens, CostUSD: g.CostUsd,
	}
}

// callKey names one provider call in the ledger: run, attempt and place in
// the chain for people, plus a random suffix, because a workflow reset
// replays an activity with its attempt count starting over.
func callKey(runID string, attempt int32, i int) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%d/%s", runID, attempt, i, hex.EncodeToString(b[:]))
}

// EstimateTokens over-estimates the tokens of a text (a token is about four
// characters of English; three keeps the reservation on the safe side).
func EstimateTokens(s string) int64 {
	return int64(len(s)+2)/3 + 1
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// dropField removes the errors about one field.
func dropField(errs []document.FieldError, field string) []document.FieldError {
	out := errs[:0]
	for _, e := range errs {
		if e.Field != field {
			out = append(out, e)
		}
	}
	return out
}
