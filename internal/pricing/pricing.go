// Package pricing turns token usage into US dollars with a price table that
// operators can override, because providers change their prices more often
// than we release.
package pricing

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"
)

// Price is what one model costs, in US dollars per million tokens.
type Price struct {
	Input       float64 `json:"input"`
	Output      float64 `json:"output"`
	CachedInput float64 `json:"cached_input"`
}

// Table maps a model name, or "provider/model" for a provider-specific
// price, to its price.
type Table map[string]Price

// defaults are list prices (USD per million tokens) of the providers'
// default models; GROUNDWORK_LLM_PRICES overrides and extends them.
var defaults = Table{
	"gpt-4.1":           {Input: 2.00, Output: 8.00, CachedInput: 0.50},
	"gpt-4.1-mini":      {Input: 0.40, Output: 1.60, CachedInput: 0.10},
	"gpt-4.1-nano":      {Input: 0.10, Output: 0.40, CachedInput: 0.025},
	"gpt-4o":            {Input: 2.50, Output: 10.00, CachedInput: 1.25},
	"gpt-4o-mini":       {Input: 0.15, Output: 0.60, CachedInput: 0.075},
	"claude-haiku-4-5":  {Input: 1.00, Output: 5.00, CachedInput: 0.10},
	"claude-sonnet-4-5": {Input: 3.00, Output: 15.00, CachedInput: 0.30},
	"claude-opus-4-1":   {Input: 15.00, Output: 75.00, CachedInput: 1.50},
}

// Default returns a copy of the built-in table.
func Default() Table { return maps.Clone(defaults) }

// Parse reads a JSON object of prices (e.g. `{"gpt-4.1-mini": {"input":
// 0.4, "output": 1.6}}`) over the built-in table.
func Parse(s string) (Table, error) {
	t := Default()
	if strings.TrimSpace(s) == "" {
		return t, nil
	}
	var extra Table
	if err := json.Unmarshal([]byte(s), &extra); err != nil {
		return nil, fmt.Errorf("parse price table: %w", err)
	}
	for name, p := range extra {
		if p.Input < 0 || p.Output < 0 || p.CachedInput < 0 {
			return nil, fmt.Errorf("price of %q is negative", name)
		}
		t[name] = p
	}
	return t, nil
}

// Lookup finds the price of a model served by provider: "provider/model"
// first, then the model alone; ok is false for an unknown model.
func (t Table) Lookup(provider, model string) (Price, bool) {
	if p, ok := t[provider+"/"+model]; ok {
		return p, true
	}
	p, ok := t[model]
	return p, ok
}

// Cost prices a call. Cached input tokens are part of the input count, as
// both providers' usage reports them, and are billed at the cached rate.
func (p Price) Cost(input, output, cached int64) float64 {
	cached = min(max(cached, 0), input)
	uncached := input - cached
	return (float64(uncached)*p.Input + float64(cached)*p.CachedInput + float64(output)*p.Output) / 1e6
}
