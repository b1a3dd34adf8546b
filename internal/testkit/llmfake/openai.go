package llmfake

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// openaiProvider speaks the OpenAI Chat Completions API
// (https://platform.openai.com/docs/api-reference/chat).
type openaiProvider struct{}

func (openaiProvider) name() string { return APIOpenAI }

func (openaiProvider) apiKey(h http.Header) string {
	key, ok := strings.CutPrefix(h.Get("Authorization"), "Bearer ")
	if !ok {
		return ""
	}
	return strings.TrimSpace(key)
}

func (openaiProvider) requestIDHeader() string { return "x-request-id" }

type openaiRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	MaxTokens           *int `json:"max_tokens"`
	MaxCompletionTokens *int `json:"max_completion_tokens"`
	Stream              bool `json:"stream"`
	StreamOptions       struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

func (openaiProvider) parse(body []byte, c *call) error {
	var in openaiRequest
	if err := json.Unmarshal(body, &in); err != nil {
		return fmt.Errorf("could not parse the JSON body of the request: %w", err)
	}
	c.req.Model, c.req.Stream = in.Model, in.Stream
	c.req.IncludeUsage = in.Stream && in.StreamOptions.IncludeUsage
	// max_completion_tokens supersedes the deprecated max_tokens.
	maxTokens := in.MaxCompletionTokens
	if maxTokens == nil {
		maxTokens = in.MaxTokens
	}
	if maxTokens != nil {
		c.req.MaxTokens = *maxTokens
	}
	var systems, prompts []string
	for i, m := range in.Messages {
		text, err := contentText(m.Content)
		if err != nil {
			return fmt.Errorf("messages[%d].content: %w", i, err)
		}
		switch m.Role {
		case "system", "developer":
			systems = append(systems, text)
		case "user":
			prompts = append(prompts, text)
		case "assistant", "tool", "function":
		default:
			return fmt.Errorf("messages[%d].role: invalid value %q", i, m.Role)
		}
		c.input += CountTokens(text)
	}
	c.req.System = strings.Join(systems, "\n\n")
	c.req.Prompt = strings.Join(prompts, "\n\n")
	c.input = max(c.input, 1)
	switch {
	case in.Model == "":
		return errors.New("you must provide a model parameter")
	case len(in.Messages) == 0:
		return errors.New("messages: expected an array with minimum length 1")
	case maxTokens != nil && *maxTokens < 1:
		return errors.New("max_tokens: integer below minimum value, expected >= 1")
	}
	return nil
}

type openaiUsage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	TotalTokens         int `json:"total_tokens"`
	PromptTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
		AudioTokens  int `json:"audio_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails struct {
		ReasoningTokens          int `json:"reasoning_tokens"`
		AudioTokens              int `json:"audio_tokens"`
		AcceptedPredictionTokens int `json:"accepted_prediction_tokens"`
		RejectedPredictionTokens int `json:"rejected_prediction_tokens"`
	} `json:"completion_tokens_details"`
}

func newOpenAIUsage(c *call, out output) *openaiUsage {
	return &openaiUsage{PromptTokens: c.input, CompletionTokens: out.words, TotalTokens: c.input + out.words}
}

type openaiMessage struct {
	Role        string  `json:"role"`
	Content     string  `json:"content"`
	Refusal     *string `json:"refusal"`
	Annotations []any   `json:"annotations"`
}

type openaiChoice struct {
	Index        int           `json:"index"`
	Message      openaiMessage `json:"message"`
	Logprobs     *struct{}     `json:"logprobs"`
	FinishReason string        `json:"finish_reason"`
}

type openaiCompletion struct {
	ID                string         `json:"id"`
	Object            string         `json:"object"`
	Created           int64          `json:"created"`
	Model             string         `json:"model"`
	Choices           []openaiChoice `json:"choices"`
	Usage             *openaiUsage   `json:"usage"`
	ServiceTier       string         `json:"service_tier"`
	SystemFingerprint string         `json:"system_fingerprint"`
}

type openaiDelta struct {
	Role    string  `json:"role,omitempty"`
	Content *string `json:"content,omitempty"`
}

type openaiChunkChoice struct {
	Index        int         `json:"index"`
	Delta        openaiDelta `json:"delta"`
	Logprobs     *struct{}   `json:"logprobs"`
	FinishReason *string     `json:"finish_reason"`
}

type openaiChunk struct {
	ID                string              `json:"id"`
	Object            string              `json:"object"`
	Created           int64               `json:"created"`
	Model             string              `json:"model"`
	ServiceTier       string              `json:"service_tier"`
	SystemFingerprint string              `json:"system_fingerprint"`
	Choices           []openaiChunkChoice `json:"choices"`
	// Usage is absent unless the request asked for include_usage; then it is
	// null on every chunk but the last, which is how the real API sends it.
	Usage json.RawMessage `json:"usage,omitempty"`
}

func openaiFinishReason(out output) string {
	if out.truncated {
		return "length"
	}
	return "stop"
}

const openaiFingerprint = "fp_llmfake"

func openaiID(c *call) string { return fmt.Sprintf("chatcmpl-fake%016x", c.seq) }

func (openaiProvider) completion(c *call, out output) []byte {
	return marshal(openaiCompletion{
		ID:      openaiID(c),
		Object:  "chat.completion",
		Created: c.now.Unix(),
		Model:   c.req.Model,
		Choices: []openaiChoice{{
			Message:      openaiMessage{Role: "assistant", Content: out.text, Annotations: []any{}},
			FinishReason: openaiFinishReason(out),
		}},
		Usage:             newOpenAIUsage(c, out),
		ServiceTier:       "default",
		SystemFingerprint: openaiFingerprint,
	})
}

func (openaiProvider) stream(c *call, out output) script {
	chunk := func(choices []openaiChunkChoice, usage *openaiUsage) []byte {
		ch := openaiChunk{
			ID:                openaiID(c),
			Object:            "chat.completion.chunk",
			Created:           c.now.Unix(),
			Model:             c.req.Model,
			ServiceTier:       "default",
			SystemFingerprint: openaiFingerprint,
			Choices:           choices,
		}
		switch {
		case usage != nil:
			ch.Usage = marshal(usage)
		case c.req.IncludeUsage:
			ch.Usage = json.RawMessage("null")
		}
		return sseData("", marshal(ch))
	}
	text := func(s string) *string { return &s }

	var s script
	s.open = [][]byte{chunk([]openaiChunkChoice{{Delta: openaiDelta{Role: "assistant", Content: text("")}}}, nil)}
	for _, piece := range out.chunks {
		s.deltas = append(s.deltas, chunk([]openaiChunkChoice{{Delta: openaiDelta{Content: text(piece)}}}, nil))
	}
	s.close = [][]byte{chunk([]openaiChunkChoice{{FinishReason: text(openaiFinishReason(out))}}, nil)}
	if c.req.IncludeUsage {
		s.close = append(s.close, chunk([]openaiChunkChoice{}, newOpenAIUsage(c, out)))
	}
	s.close = append(s.close, []byte("data: [DONE]\n\n"))
	return s
}

func (p openaiProvider) malformedBody(c *call, out output) []byte {
	return truncateJSON(p.completion(c, out))
}

func (openaiProvider) malformedEvent(c *call) []byte {
	return sseData("", fmt.Appendf(nil, `{"id":%q,"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"unterminated`, openaiID(c)))
}

func (openaiProvider) errorBody(_ *call, e apiErr) (int, []byte) {
	status, typ, code := http.StatusInternalServerError, "server_error", any(nil)
	switch e.kind {
	case errBadRequest:
		status, typ = http.StatusBadRequest, "invalid_request_error"
	case errAuth:
		status, typ, code = http.StatusUnauthorized, "invalid_request_error", "invalid_api_key"
	case errNotFound:
		status, typ = http.StatusNotFound, "invalid_request_error"
	case errRateLimit:
		status, typ, code = http.StatusTooManyRequests, "requests", "rate_limit_exceeded"
	case errTokenLimit:
		status, typ, code = http.StatusTooManyRequests, "tokens", "rate_limit_exceeded"
	case errOverloaded:
		status = http.StatusServiceUnavailable
	}
	return status, marshal(map[string]any{
		"error": map[string]any{"message": e.msg, "type": typ, "param": nil, "code": code},
	})
}

func (openaiProvider) rateHeaders(h http.Header, limit, remaining int, reset time.Duration, _ time.Time) {
	h.Set("x-ratelimit-limit-tokens", strconv.Itoa(limit))
	h.Set("x-ratelimit-remaining-tokens", strconv.Itoa(remaining))
	// OpenAI gives the reset as a Go-style duration such as "6m0s" or "20ms".
	h.Set("x-ratelimit-reset-tokens", reset.Round(time.Millisecond).String())
}
