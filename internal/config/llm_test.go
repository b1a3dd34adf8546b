package config

import (
	"slices"
	"strings"
	"testing"
)

func TestLLMProviders(t *testing.T) {
	base := map[string]string{"DATABASE_URL": "postgres://x"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}

	c, err := Load(env(base), RoleWorker)
	if err != nil || len(c.LLM.Providers) != 0 {
		t.Fatalf("no keys: providers %v, err %v", c.LLM.Providers, err)
	}
	if c.LLM.TokensPerMinute != 10_000 || c.LLM.TokenBurst != 10_000 || c.LLM.CallTimeout.Seconds() != 45 {
		t.Fatalf("defaults: %+v", c.LLM)
	}

	c, err = Load(env(with("ANTHROPIC_API_KEY", "a", "OPENAI_API_KEY", "o")), RoleWorker)
	if err != nil || !slices.Equal(c.LLM.Names(), []string{"openai", "anthropic"}) {
		t.Fatalf("detected chain %v, err %v", c.LLM.Names(), err)
	}

	c, err = Load(env(with(
		"GROUNDWORK_LLM_PROVIDERS", "anthropic, lm-studio",
		"ANTHROPIC_API_KEY", "a", "ANTHROPIC_BASE_URL", "http://fake",
		"LM_STUDIO_BASE_URL", "http://localhost:1234/v1", "LM_STUDIO_MODEL", "qwen",
	)), RoleWorker)
	if err != nil {
		t.Fatal(err)
	}
	a, l := c.LLM.Providers[0], c.LLM.Providers[1]
	if a.Kind != "anthropic" || a.BaseURL != "http://fake" || a.APIKeyVar != "ANTHROPIC_API_KEY" {
		t.Fatalf("anthropic: %+v", a)
	}
	if l.Kind != "openai" || l.Model != "qwen" || l.APIKey != "" {
		t.Fatalf("compatible endpoint: %+v", l)
	}

	_, err = Load(env(with("GROUNDWORK_LLM_PROVIDERS", "openai,ollama,Bad Name", "GROUNDWORK_LLM_PRICES", "{")), RoleWorker)
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{"OPENAI_API_KEY", "OLLAMA_BASE_URL", `"Bad Name"`, "GROUNDWORK_LLM_PRICES"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s: %v", want, err)
		}
	}
}

func TestLLMAPINeedsOnlyNames(t *testing.T) {
	c, err := Load(env(map[string]string{
		"DATABASE_URL": "postgres://x", "GROUNDWORK_SIGNING_KEY": strings.Repeat("ab", 32),
		"GROUNDWORK_LLM_PROVIDERS": "openai,anthropic",
	}), RoleAPI)
	if err != nil {
		t.Fatalf("the API must not need provider keys: %v", err)
	}
	if !slices.Equal(c.LLM.Names(), []string{"openai", "anthropic"}) || c.LLM.Providers[1].Kind != "anthropic" {
		t.Fatalf("providers %+v", c.LLM.Providers)
	}
}

func TestLLMModelsAllowList(t *testing.T) {
	var errs []error
	l := loadLLM(env(map[string]string{"GROUNDWORK_LLM_PROVIDERS": "openai,anthropic", "OPENAI_MODELS": "gpt-4.1-mini, gpt-4.1"}), RoleAPI, &errs)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	a := l.Allowed()
	if len(a) != 2 || len(a[0].Models) != 2 || a[0].Models[1] != "gpt-4.1" || len(a[1].Models) != 1 || a[1].Models[0] != "claude-haiku-4-5" {
		t.Fatalf("allowed %+v", a)
	}
	if l.MonthlyTokenBudget != 2_000_000 {
		t.Errorf("default monthly budget %d", l.MonthlyTokenBudget)
	}
}
