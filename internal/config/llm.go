package config

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/internal/llm"
	"github.com/groundwork-dev/groundwork/internal/pricing"
)

// LLM holds the generation settings.
type LLM struct {
	// Providers is the fallback chain, first choice first; empty means
	// generation is off and POST /v1/generations answers 503.
	Providers []LLMProvider
	// TokensPerMinute is each provider's token budget per minute, shared
	// by every worker through Postgres.
	TokensPerMinute int
	// TokenBurst is the most tokens a provider's bucket holds.
	TokenBurst int
	// RequestsPerMinute limits LLM activities started per minute across
	// all workers (the llm task queue's server-side rate limit).
	RequestsPerMinute int
	// CallTimeout bounds one provider call.
	CallTimeout time.Duration
	// CacheTTL is how long a cached answer is served.
	CacheTTL time.Duration
	// MonthlyTokenBudget is each user's tokens per calendar month (UTC);
	// 0 means no budget.
	MonthlyTokenBudget int64
	// BreakerFailures consecutive retryable failures open a provider's
	// circuit for BreakerCooldown.
	BreakerFailures int
	BreakerCooldown time.Duration
	// Prices turns usage into cost.
	Prices pricing.Table
}

// LLMProvider configures one provider of the chain.
type LLMProvider struct {
	// Name is how runs, the ledger and requests refer to the provider.
	Name string
	// Kind is the wire protocol: "openai" or "anthropic".
	Kind      string
	APIKey    string
	APIKeyVar string
	BaseURL   string
	Model     string
	// Models are the models a request may ask of this provider
	// (<NAME>_MODELS, comma-separated; default: Model alone).
	Models []string
}

// Allowed lists the providers in chain order with the models requests may
// name, for request validation.
func (l LLM) Allowed() []groundwork.LLMProvider {
	out := make([]groundwork.LLMProvider, len(l.Providers))
	for i, p := range l.Providers {
		out[i] = groundwork.LLMProvider{Name: p.Name, Models: p.Models}
	}
	return out
}

// Names lists the configured providers in chain order.
func (l LLM) Names() []string {
	names := make([]string, len(l.Providers))
	for i, p := range l.Providers {
		names[i] = p.Name
	}
	return names
}

var providerName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)

// providerVars are the variables of the official APIs, spelled out so a
// search for a variable's name finds where it is read.
var providerVars = map[string]struct{ key, baseURL, model string }{
	"openai":    {"OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MODEL"},
	"anthropic": {"ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "ANTHROPIC_MODEL"},
}

// loadLLM reads GROUNDWORK_LLM_PROVIDERS and each provider's variables.
// Without the list, the providers whose API key is set are used, OpenAI
// first.
func loadLLM(getenv func(string) string, role Role, errs *[]error) LLM {
	l := LLM{
		TokensPerMinute:    intVar(getenv, "GROUNDWORK_LLM_TOKENS_PER_MINUTE", DefaultLLMTokensPerMinute, errs),
		RequestsPerMinute:  intVar(getenv, "GROUNDWORK_LLM_REQUESTS_PER_MINUTE", DefaultLLMRequestsPerMinute, errs),
		CallTimeout:        durVar(getenv, "GROUNDWORK_LLM_CALL_TIMEOUT", DefaultLLMCallTimeout, errs),
		CacheTTL:           durVar(getenv, "GROUNDWORK_LLM_CACHE_TTL", DefaultLLMCacheTTL, errs),
		MonthlyTokenBudget: int64(intVar(getenv, "GROUNDWORK_LLM_MONTHLY_TOKEN_BUDGET", DefaultLLMMonthlyTokenBudget, errs)),
		BreakerFailures:    intVar(getenv, "GROUNDWORK_LLM_BREAKER_FAILURES", DefaultLLMBreakerFailures, errs),
		BreakerCooldown:    durVar(getenv, "GROUNDWORK_LLM_BREAKER_COOLDOWN", DefaultLLMBreakerCooldown, errs),
	}
	l.TokenBurst = intVar(getenv, "GROUNDWORK_LLM_TOKEN_BURST", l.TokensPerMinute, errs)
	if l.TokensPerMinute == 0 || l.RequestsPerMinute == 0 || l.BreakerFailures == 0 {
		*errs = append(*errs, errors.New("GROUNDWORK_LLM_TOKENS_PER_MINUTE, GROUNDWORK_LLM_REQUESTS_PER_MINUTE and GROUNDWORK_LLM_BREAKER_FAILURES must be positive"))
	}
	prices, err := pricing.Parse(getenv("GROUNDWORK_LLM_PRICES"))
	if err != nil {
		*errs = append(*errs, fmt.Errorf("GROUNDWORK_LLM_PRICES: %w", err))
	}
	l.Prices = prices

	var names []string
	if list := getenv("GROUNDWORK_LLM_PROVIDERS"); strings.TrimSpace(list) != "" {
		for _, n := range strings.Split(list, ",") {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
	} else {
		for _, n := range []string{"openai", "anthropic"} {
			if getenv(providerVars[n].key) != "" {
				names = append(names, n)
			}
		}
	}
	seen := map[string]bool{}
	for _, n := range names {
		if !providerName.MatchString(n) || seen[n] {
			*errs = append(*errs, fmt.Errorf("GROUNDWORK_LLM_PROVIDERS: %q is not a valid, unique provider name (lower-case letters, digits, dashes)", n))
			continue
		}
		seen[n] = true
		p, err := loadProvider(getenv, n, role)
		if err != nil {
			*errs = append(*errs, err)
			continue
		}
		l.Providers = append(l.Providers, p)
	}
	return l
}

// loadProvider reads <NAME>_API_KEY, <NAME>_BASE_URL and <NAME>_MODEL.
// openai and anthropic are the official APIs; any other name is an
// OpenAI-compatible endpoint (Ollama, vLLM, LM Studio, OpenRouter), which
// needs a base URL and a model. Only workers call providers, so only a
// worker insists on the keys; the API needs just the names.
func loadProvider(getenv func(string) string, name string, role Role) (LLMProvider, error) {
	pre := envPrefix(name)
	vars, official := providerVars[name]
	if !official {
		vars.key, vars.baseURL, vars.model = pre+"_API_KEY", pre+"_BASE_URL", pre+"_MODEL"
	}
	p := LLMProvider{
		Name:      name,
		Kind:      "openai",
		APIKey:    getenv(vars.key),
		APIKeyVar: vars.key,
		BaseURL:   getenv(vars.baseURL),
		Model:     getenv(vars.model),
	}
	if p.Model == "" {
		switch name {
		case "openai":
			p.Model = llm.DefaultOpenAIModel
		case "anthropic":
			p.Model = llm.DefaultAnthropicModel
		}
	}
	for _, m := range strings.Split(getenv(pre+"_MODELS"), ",") {
		if m = strings.TrimSpace(m); m != "" {
			p.Models = append(p.Models, m)
		}
	}
	if len(p.Models) == 0 && p.Model != "" {
		p.Models = []string{p.Model}
	}
	if role&RoleWorker == 0 {
		if name == "anthropic" {
			p.Kind = "anthropic"
		}
		return p, nil
	}
	switch name {
	case "anthropic":
		p.Kind = "anthropic"
		fallthrough
	case "openai":
		if p.APIKey == "" {
			return p, fmt.Errorf("%s is required when %s is in GROUNDWORK_LLM_PROVIDERS", p.APIKeyVar, name)
		}
	default:
		if p.BaseURL == "" || p.Model == "" {
			return p, fmt.Errorf("%s_BASE_URL and %s_MODEL are required for the OpenAI-compatible provider %q", pre, pre, name)
		}
	}
	return p, nil
}

// envPrefix turns a provider name into its variables' prefix: "lm-studio"
// → "LM_STUDIO".
func envPrefix(name string) string {
	return strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}
