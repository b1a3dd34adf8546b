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

// anthropicProvider speaks the Anthropic Messages API
// (https://docs.anthropic.com/en/api/messages).
type anthropicProvider struct{}

func (anthropicProvider) name() string { return APIAnthropic }

func (anthropicProvider) apiKey(h http.Header) string { return h.Get("x-api-key") }

func (anthropicProvider) requestIDHeader() string { return "request-id" }

type anthropicRequest struct {
	Model     string          `json:"model"`
	MaxTokens *int            `json:"max_tokens"`
	System    json.RawMessage `json:"system"`
	Messages  []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	Stream bool `json:"stream"`
}

func (anthropicProvider) parse(body []byte, c *call) error {
	var in anthropicRequest
	if err := json.Unmarshal(body, &in); err != nil {
		return fmt.Errorf("invalid JSON body: %w", err)
	}
	c.req.Model, c.req.Stream = in.Model, in.Stream
	if in.MaxTokens != nil {
		c.req.MaxTokens = *in.MaxTokens
	}
	system, err := contentText(in.System)
	if err != nil {
		return fmt.Errorf("system: %w", err)
	}
	c.req.System = system
	c.input = CountTokens(system)
	var prompts []string
	for i, m := range in.Messages {
		text, err := contentText(m.Content)
		if err != nil {
			return fmt.Errorf("messages.%d.content: %w", i, err)
		}
		switch m.Role {
		case "user":
			prompts = append(prompts, text)
		case "assistant":
		default:
			return fmt.Errorf("messages.%d.role: must be user or assistant, got %q", i, m.Role)
		}
		c.input += CountTokens(text)
	}
	c.req.Prompt = strings.Join(prompts, "\n\n")
	c.input = max(c.input, 1)
	switch {
	case in.Model == "":
		return errors.New("model: Field required")
	case in.MaxTokens == nil:
		return errors.New("max_tokens: Field required")
	case *in.MaxTokens < 1:
		return errors.New("max_tokens: must be greater than or equal to 1")
	case len(in.Messages) == 0:
		return errors.New("messages: at least one message is required")
	}
	return nil
}

type anthropicUsage struct {
	InputTokens              int    `json:"input_tokens"`
	CacheCreationInputTokens int    `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int    `json:"cache_read_input_tokens"`
	OutputTokens             int    `json:"output_tokens"`
	ServiceTier              string `json:"service_tier"`
}

type anthropicText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type anthropicMessage struct {
	ID           string          `json:"id"`
	Type         string          `json:"type"`
	Role         string          `json:"role"`
	Model        string          `json:"model"`
	Content      []anthropicText `json:"content"`
	StopReason   *string         `json:"stop_reason"`
	StopSequence *string         `json:"stop_sequence"`
	Usage        anthropicUsage  `json:"usage"`
}

func anthropicStopReason(out output) string {
	if out.truncated {
		return "max_tokens"
	}
	return "end_turn"
}

func anthropicID(c *call) string { return fmt.Sprintf("msg_fake%016x", c.seq) }

func (anthropicProvider) message(c *call, out output) anthropicMessage {
	stop := anthropicStopReason(out)
	return anthropicMessage{
		ID:         anthropicID(c),
		Type:       "message",
		Role:       "assistant",
		Model:      c.req.Model,
		Content:    []anthropicText{{Type: "text", Text: out.text}},
		StopReason: &stop,
		Usage:      anthropicUsage{InputTokens: c.input, OutputTokens: out.words, ServiceTier: "standard"},
	}
}

func (p anthropicProvider) completion(c *call, out output) []byte {
	return marshal(p.message(c, out))
}

func (anthropicProvider) stream(c *call, out output) script {
	event := func(v map[string]any) []byte {
		return sseData(v["type"].(string), marshal(v))
	}
	// message_start carries the message with no content yet; like the real
	// API, it reports the input usage and a provisional output count of 1.
	start := anthropicMessage{
		ID:      anthropicID(c),
		Type:    "message",
		Role:    "assistant",
		Model:   c.req.Model,
		Content: []anthropicText{},
		Usage:   anthropicUsage{InputTokens: c.input, OutputTokens: 1, ServiceTier: "standard"},
	}
	var s script
	s.open = [][]byte{
		event(map[string]any{"type": "message_start", "message": start}),
		event(map[string]any{"type": "content_block_start", "index": 0, "content_block": anthropicText{Type: "text", Text: ""}}),
		event(map[string]any{"type": "ping"}),
	}
	for _, chunk := range out.chunks {
		s.deltas = append(s.deltas, event(map[string]any{
			"type": "content_block_delta", "index": 0,
			"delta": anthropicText{Type: "text_delta", Text: chunk},
		}))
	}
	s.close = [][]byte{
		event(map[string]any{"type": "content_block_stop", "index": 0}),
		event(map[string]any{
			"type":  "message_delta",
			"delta": map[string]any{"stop_reason": anthropicStopReason(out), "stop_sequence": nil},
			"usage": map[string]any{"output_tokens": out.words},
		}),
		event(map[string]any{"type": "message_stop"}),
	}
	return s
}

func (p anthropicProvider) malformedBody(c *call, out output) []byte {
	return truncateJSON(p.completion(c, out))
}

func (anthropicProvider) malformedEvent(*call) []byte {
	return sseData("content_block_delta", []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"unterminated`))
}

func (anthropicProvider) errorBody(c *call, e apiErr) (int, []byte) {
	status, typ := http.StatusInternalServerError, "api_error"
	switch e.kind {
	case errBadRequest:
		status, typ = http.StatusBadRequest, "invalid_request_error"
	case errAuth:
		status, typ = http.StatusUnauthorized, "authentication_error"
	case errNotFound:
		status, typ = http.StatusNotFound, "not_found_error"
	case errRateLimit, errTokenLimit:
		status, typ = http.StatusTooManyRequests, "rate_limit_error"
	case errOverloaded:
		// 529 is Anthropic's own status for an overloaded API.
		status, typ = 529, "overloaded_error"
	}
	return status, marshal(map[string]any{
		"type":       "error",
		"error":      map[string]string{"type": typ, "message": e.msg},
		"request_id": fmt.Sprintf("req_fake%016x", c.seq),
	})
}

func (anthropicProvider) rateHeaders(h http.Header, limit, remaining int, reset time.Duration, now time.Time) {
	h.Set("anthropic-ratelimit-tokens-limit", strconv.Itoa(limit))
	h.Set("anthropic-ratelimit-tokens-remaining", strconv.Itoa(remaining))
	// Anthropic gives the reset as an RFC 3339 instant, rounded up to the
	// second so that a client waiting until then finds the bucket full.
	h.Set("anthropic-ratelimit-tokens-reset", now.Add(reset).Add(time.Second-1).Truncate(time.Second).UTC().Format(time.RFC3339))
}
