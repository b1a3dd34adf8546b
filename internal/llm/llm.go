// Package llm adapts the official OpenAI and Anthropic SDKs to one small,
// provider-neutral streaming call whose failures are classified, so that the
// generation activity can decide between retrying, falling back to another
// provider and giving up without knowing either SDK.
//
// Temporal owns retries: every client is built with the SDK's own retries
// off, so one Stream call is exactly one HTTP request and a failure surfaces
// at once, with the provider's retry hint in [Error.RetryAfter].
package llm

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// DefaultCallTimeout bounds one Stream call when Config.CallTimeout is zero.
const DefaultCallTimeout = 45 * time.Second

// Built-in default models, used when neither Config.Model nor Request.Model
// names one.
const (
	DefaultOpenAIModel    = "gpt-4.1-mini"
	DefaultAnthropicModel = "claude-haiku-4-5"
)

// DefaultAnthropicMaxTokens is sent to Anthropic when Request.MaxTokens is
// zero, because its Messages API requires max_tokens while OpenAI's does not.
const DefaultAnthropicMaxTokens = 1024

// Request is one completion request, provider-neutral.
type Request struct {
	// Model is the model to ask; "" asks the provider's default model.
	Model string
	// System is the system prompt; "" sends none.
	System string
	// Prompt is the single user message.
	Prompt string
	// MaxTokens caps the output; 0 leaves it to the provider (Anthropic
	// requires one, so it gets DefaultAnthropicMaxTokens).
	MaxTokens int64
	// Temperature is sent only when set, since reasoning models reject it.
	Temperature *float64
}

// Usage counts tokens as the provider reported them.
//
// InputTokens always includes CachedInputTokens, as OpenAI reports it;
// Anthropic reports cache reads and writes beside input_tokens, so its
// adapter adds them in, and one price formula fits both.
type Usage struct {
	// InputTokens counts the prompt.
	InputTokens int64
	// OutputTokens counts the answer, estimated (len(text)/4 rounded up)
	// when the provider did not report it: a cut stream, or an
	// OpenAI-compatible server that ignores include_usage.
	OutputTokens int64
	// CachedInputTokens counts prompt tokens read from the provider's
	// prompt cache, which are billed at a lower price.
	CachedInputTokens int64
}

// Response is a finished completion.
type Response struct {
	// Text is the answer, every text chunk concatenated.
	Text string
	// Model is the model that answered, as the provider named it (it may
	// be a dated snapshot of the requested alias).
	Model string
	// StopReason is the provider's own reason, e.g. "stop" or "length"
	// from OpenAI, "end_turn" or "max_tokens" from Anthropic.
	StopReason string
	// Usage is what the call consumed, also after a failure.
	Usage Usage
}

// Provider is one configured LLM endpoint.
type Provider interface {
	// Name is the configured name, e.g. "openai", "anthropic", "ollama".
	Name() string
	// DefaultModel is the model asked when Request.Model is empty.
	DefaultModel() string
	// Stream runs the request with the provider's streaming API, calling
	// onDelta with each text chunk as it arrives (onDelta may be nil). On
	// failure it returns *Error; the Response returned alongside holds what
	// streamed before the failure (text so far, usage so far — input tokens
	// if the provider sent them, output tokens estimated as len(text)/4
	// rounded up when the stream was cut before usage arrived).
	Stream(ctx context.Context, req Request, onDelta func(chunk string)) (Response, error)
}

// Config configures one provider.
type Config struct {
	// Name identifies the provider in errors and ledgers: "openai",
	// "anthropic", or any name for an OpenAI-compatible endpoint; "" = Kind.
	Name string
	// Kind is the wire protocol: "openai" or "anthropic" (OpenAI-compatible
	// endpoints such as Ollama or vLLM use "openai").
	Kind string
	// APIKey authenticates the calls; it may be "" only for an
	// OpenAI-compatible endpoint with a BaseURL.
	APIKey string
	// APIKeyVar is the environment variable that holds the key, named in
	// auth error messages, e.g. "OPENAI_API_KEY".
	APIKeyVar string
	// BaseURL is "" for the SDK default. The Anthropic SDK takes the host
	// root (it appends /v1/messages); OpenAI takes the /v1 base (it appends
	// /chat/completions).
	BaseURL string
	// Model is the default model; "" = DefaultOpenAIModel or
	// DefaultAnthropicModel.
	Model string
	// HTTPClient is nil for a client without its own timeout, since
	// CallTimeout bounds each call.
	HTTPClient *http.Client
	// CallTimeout bounds one call, streaming included; 0 =
	// DefaultCallTimeout. A call past it fails as a retryable KindTimeout.
	CallTimeout time.Duration
}

// New builds the provider cfg describes, failing on a configuration that
// could never make a successful call.
func New(cfg Config) (Provider, error) {
	if cfg.Kind != "openai" && cfg.Kind != "anthropic" {
		return nil, fmt.Errorf("llm provider %q: unknown kind %q: use \"openai\" (also for OpenAI-compatible endpoints) or \"anthropic\"", cfg.Name, cfg.Kind)
	}
	b := base{
		name:    cmp.Or(cfg.Name, cfg.Kind),
		key:     cfg.APIKey,
		keyVar:  cfg.APIKeyVar,
		timeout: cfg.CallTimeout,
	}
	if b.timeout <= 0 {
		b.timeout = DefaultCallTimeout
	}
	if cfg.BaseURL != "" {
		u, err := url.Parse(cfg.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("llm provider %q: base URL %q is not an http(s) URL", b.name, cfg.BaseURL)
		}
	}
	// Only an OpenAI-compatible endpoint of our own (Ollama, vLLM) may run
	// without a key; the hosted APIs would reject every call.
	if cfg.APIKey == "" && (cfg.Kind == "anthropic" || cfg.BaseURL == "") {
		if cfg.APIKeyVar != "" {
			return nil, fmt.Errorf("llm provider %q: no API key: set %s", b.name, cfg.APIKeyVar)
		}
		return nil, fmt.Errorf("llm provider %q: no API key configured", b.name)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	if cfg.Kind == "anthropic" {
		b.model = cmp.Or(cfg.Model, DefaultAnthropicModel)
		return newAnthropic(b, cfg.BaseURL, hc), nil
	}
	b.model = cmp.Or(cfg.Model, DefaultOpenAIModel)
	return newOpenAI(b, cfg.BaseURL, hc), nil
}

// base holds what both adapters share: identity, credentials for redaction
// and the call timeout.
type base struct {
	name, model string
	key, keyVar string
	timeout     time.Duration
}

func (b *base) Name() string         { return b.name }
func (b *base) DefaultModel() string { return b.model }

// start checks what the provider would reject anyway, so an empty prompt
// costs no request, and bounds the call by the timeout.
func (b *base) start(ctx context.Context, req Request) (model string, callCtx context.Context, cancel context.CancelFunc, err *Error) {
	model = cmp.Or(req.Model, b.model)
	if req.Prompt == "" {
		return model, nil, nil, &Error{Provider: b.name, Kind: KindBadRequest,
			Message: b.name + " was not called: the prompt is empty"}
	}
	callCtx, cancel = context.WithTimeout(ctx, b.timeout)
	return model, callCtx, cancel, nil
}

// partial is what a Stream call returns: the text so far and the usage the
// provider reported, with output tokens estimated when its usage never came.
func partial(text, model, stop string, u Usage, usageArrived bool) Response {
	if !usageArrived {
		u.OutputTokens = estimateTokens(text)
	}
	return Response{Text: text, Model: model, StopReason: stop, Usage: u}
}

// estimateTokens guesses a text's tokens at four bytes a token, rounded up,
// the same rule the activity's heartbeats use.
func estimateTokens(text string) int64 {
	return int64(len(text)+3) / 4
}
