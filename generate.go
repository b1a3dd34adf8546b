package groundwork

import "time"

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

// GenerationResult is a succeeded generation as runs and GET
// /v1/generations/{id} show it.
type GenerationResult struct {
	Template        string          `json:"template"`
	TemplateVersion int             `json:"template_version"`
	Provider        string          `json:"provider" doc:"Who answered; \"extractive\" is the offline summarizer, not an LLM."`
	Model           string          `json:"model"`
	Text            string          `json:"text"`
	Fields          map[string]any  `json:"fields,omitempty" doc:"The structured answer of templates with output_fields."`
	Usage           GenerationUsage `json:"usage"`
	CostUSD         float64         `json:"cost_usd"`
	CacheHit        bool            `json:"cache_hit"`
	StopReason      string          `json:"stop_reason,omitempty"`
	Warnings        []string        `json:"warnings,omitempty"`
	CreatedAt       time.Time       `json:"created_at"`
}

// GenerationUsage is what a generation consumed; zero for a cache hit.
type GenerationUsage struct {
	InputTokens  int64 `json:"input_tokens"`
	OutputTokens int64 `json:"output_tokens"`
	CachedTokens int64 `json:"cached_tokens"`
}
