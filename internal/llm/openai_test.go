package llm

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// OpenAI's wire format, as Chat Completions streams it with include_usage.
const oaiModel = "gpt-4.1-mini-2025-04-14"

func oaiChunk(delta, finish string) string {
	fr := "null"
	if finish != "" {
		fr = `"` + finish + `"`
	}
	return sseEvent("", `{"id":"chatcmpl-B9","object":"chat.completion.chunk","created":1741569952,"model":"`+oaiModel+`","service_tier":"default","system_fingerprint":"fp_1","choices":[{"index":0,"delta":`+delta+`,"logprobs":null,"finish_reason":`+fr+`}],"usage":null}`)
}

var (
	oaiRole   = oaiChunk(`{"role":"assistant","content":"","refusal":null}`, "")
	oaiText   = func(s string) string { return oaiChunk(`{"content":"`+s+`"}`, "") }
	oaiFinish = oaiChunk(`{}`, "stop")
	oaiUsage  = sseEvent("", `{"id":"chatcmpl-B9","object":"chat.completion.chunk","created":1741569952,"model":"`+oaiModel+`","service_tier":"default","system_fingerprint":"fp_1","choices":[],"usage":{"prompt_tokens":20,"completion_tokens":5,"total_tokens":25,"prompt_tokens_details":{"cached_tokens":8,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}`)
	oaiDone   = sseEvent("", "[DONE]")
)

func TestOpenAIStream(t *testing.T) {
	firstSeen := make(chan struct{})
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeSSE(w, oaiRole, oaiText("Hello"))
		// The rest waits until the client has the first chunk: a client
		// that buffered the stream would never get it.
		select {
		case <-firstSeen:
		case <-r.Context().Done():
			return
		}
		writeSSE(w, oaiText(", world"), oaiText("!"), oaiFinish, oaiUsage, oaiDone)
	})
	temp := 0.7
	p := newProvider(t, "openai", s, nil)

	var chunks []string
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	resp, err := p.Stream(ctx, Request{System: "Be brief.", Prompt: "Say hello", MaxTokens: 300, Temperature: &temp}, func(c string) {
		if len(chunks) == 0 {
			close(firstSeen)
		}
		chunks = append(chunks, c)
	})
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	if want := []string{"Hello", ", world", "!"}; !reflect.DeepEqual(chunks, want) {
		t.Errorf("deltas = %q, want %q", chunks, want)
	}
	want := Response{
		Text: "Hello, world!", Model: oaiModel, StopReason: "stop",
		Usage: Usage{InputTokens: 20, OutputTokens: 5, CachedInputTokens: 8},
	}
	if resp != want {
		t.Errorf("response = %+v, want %+v", resp, want)
	}

	req := s.only(t)
	if req.Path != "/v1/chat/completions" {
		t.Errorf("path = %q, want /v1/chat/completions", req.Path)
	}
	if got := req.Header.Get("Authorization"); got != "Bearer "+testKey {
		t.Errorf("authorization = %q, want the configured key", got)
	}
	b := req.Body
	if b["model"] != DefaultOpenAIModel || b["stream"] != true || b["temperature"] != 0.7 {
		t.Errorf("body = %v, want default model, stream, temperature 0.7", b)
	}
	// A base URL of our own means an OpenAI-compatible server: max_tokens.
	if b["max_tokens"] != 300.0 || b["max_completion_tokens"] != nil {
		t.Errorf("max_tokens %v max_completion_tokens %v, want 300 and none", b["max_tokens"], b["max_completion_tokens"])
	}
	if so, _ := b["stream_options"].(map[string]any); so["include_usage"] != true {
		t.Errorf("stream_options = %v, want include_usage", b["stream_options"])
	}
	msgs, _ := b["messages"].([]any)
	if len(msgs) != 2 {
		t.Fatalf("messages = %v, want system and user", b["messages"])
	}
	sys, user := msgs[0].(map[string]any), msgs[1].(map[string]any)
	if sys["role"] != "system" || sys["content"] != "Be brief." || user["role"] != "user" || user["content"] != "Say hello" {
		t.Errorf("messages = %v, want the system prompt then the prompt", msgs)
	}
}

// The hosted API gets max_completion_tokens, which its reasoning models
// require, and the SDK must not add OPENAI_* settings from the environment.
func TestOpenAIHosted(t *testing.T) {
	t.Setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1")
	t.Setenv("OPENAI_API_KEY", "sk-from-env")
	t.Setenv("OPENAI_ORG_ID", "org-from-env")
	t.Setenv("OPENAI_PROJECT_ID", "proj-from-env")
	t.Setenv("OPENAI_CUSTOM_HEADERS", "X-Leak: yes")
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeSSE(w, oaiRole, oaiText("ok"), oaiFinish, oaiUsage, oaiDone)
	})
	p, err := New(Config{Kind: "openai", APIKey: testKey, HTTPClient: rewriteClient(t, s)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Stream(t.Context(), Request{Prompt: "hi", MaxTokens: 50}, nil); err != nil {
		t.Fatal(err)
	}
	req := s.only(t)
	if req.Path != "/v1/chat/completions" {
		t.Errorf("path = %q, want the hosted API's /v1/chat/completions", req.Path)
	}
	if req.Body["max_completion_tokens"] != 50.0 || req.Body["max_tokens"] != nil {
		t.Errorf("max_completion_tokens %v max_tokens %v, want 50 and none", req.Body["max_completion_tokens"], req.Body["max_tokens"])
	}
	h := req.Header
	if h.Get("Authorization") != "Bearer "+testKey || h.Get("OpenAI-Organization") != "" || h.Get("OpenAI-Project") != "" || h.Get("X-Leak") != "" {
		t.Errorf("authorization %q organization %q project %q x-leak %q: the environment leaked in",
			h.Get("Authorization"), h.Get("OpenAI-Organization"), h.Get("OpenAI-Project"), h.Get("X-Leak"))
	}
}

// An OpenAI-compatible server without a key: no Authorization header, and
// a server that ignores include_usage still yields an answer.
func TestOpenAICompatibleWithoutKeyOrUsage(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeSSE(w, oaiRole, oaiText("Hello, world"), oaiFinish, oaiDone)
	})
	p := newProvider(t, "openai", s, func(c *Config) { c.Name, c.APIKey, c.Model = "ollama", "", "llama3.2" })
	resp, err := p.Stream(t.Context(), Request{Prompt: "hi"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Response{Text: "Hello, world", Model: oaiModel, StopReason: "stop", Usage: Usage{OutputTokens: 3}}
	if resp != want {
		t.Errorf("response = %+v, want %+v", resp, want)
	}
	req := s.only(t)
	if req.Header.Get("Authorization") != "" {
		t.Errorf("authorization %q sent without a key", req.Header.Get("Authorization"))
	}
	if req.Body["model"] != "llama3.2" || req.Body["max_tokens"] != nil {
		t.Errorf("model %v max_tokens %v, want llama3.2 and none", req.Body["model"], req.Body["max_tokens"])
	}
}

func TestOpenAIErrors(t *testing.T) {
	body := func(typ, code, msg string) string {
		return `{"error":{"message":"` + msg + `","type":"` + typ + `","param":null,"code":"` + code + `"}}`
	}
	tests := []struct {
		name       string
		handler    http.HandlerFunc
		kind       ErrorKind
		status     int
		retryAfter time.Duration
		retryable  bool
		msg        []string // substrings of Message
	}{
		{
			name:    "429 with retry-after",
			handler: errorReply(429, body("requests", "rate_limit_exceeded", "Rate limit reached for gpt-4.1-mini"), "retry-after", "7"),
			kind:    KindRateLimited, status: 429, retryAfter: 7 * time.Second, retryable: true,
			msg: []string{"openai rate limited the request (429), retry after 7s", "Rate limit reached"},
		},
		{
			name: "429 with retry-after-ms",
			handler: errorReply(429, body("requests", "rate_limit_exceeded", "Rate limit reached"),
				"retry-after-ms", "1500", "retry-after", "2"),
			kind: KindRateLimited, status: 429, retryAfter: 1500 * time.Millisecond, retryable: true,
		},
		{
			name: "429 with x-ratelimit-reset-tokens",
			handler: errorReply(429, body("tokens", "rate_limit_exceeded", "Rate limit reached for gpt-4.1-mini on tokens per min (TPM)"),
				"x-ratelimit-remaining-requests", "4999", "x-ratelimit-reset-requests", "12ms",
				"x-ratelimit-remaining-tokens", "0", "x-ratelimit-reset-tokens", "6m0s"),
			kind: KindRateLimited, status: 429, retryAfter: 6 * time.Minute, retryable: true,
		},
		{
			name:    "429 out of quota",
			handler: errorReply(429, body("insufficient_quota", "insufficient_quota", "You exceeded your current quota, please check your plan and billing details.")),
			kind:    KindRateLimited, status: 429, retryable: true,
			msg: []string{"out of quota", "billing"},
		},
		{
			name:    "503",
			handler: errorReply(503, body("server_error", "", "The engine is currently overloaded, please try again later")),
			kind:    KindOverloaded, status: 503, retryable: true,
		},
		{
			name: "500",
			handler: errorReply(500, body("server_error", "", "The server had an error while processing your request."),
				"x-ratelimit-reset-requests", "1s"),
			kind: KindServer, status: 500, retryable: true, // reset headers count on a 429 only
			msg: []string{"openai failed with a server error (500)", "The server had an error"},
		},
		{
			name:    "500 with a plain-text body",
			handler: errorReply(500, "upstream connect error", "Content-Type", "text/plain"),
			kind:    KindServer, status: 500, retryable: true,
			msg: []string{"(500)", "upstream connect error"},
		},
		{
			name:    "401",
			handler: errorReply(401, body("invalid_request_error", "invalid_api_key", "Incorrect API key provided: "+testKey+". You can find your API key at https://platform.openai.com/account/api-keys.")),
			kind:    KindAuth, status: 401,
			msg: []string{"openai rejected the API key (401): check OPENAI_API_KEY"},
		},
		{
			name:    "400",
			handler: errorReply(400, body("invalid_request_error", "", "max_tokens is too large: 100000. This model supports at most 32768 completion tokens")),
			kind:    KindBadRequest, status: 400,
			msg: []string{"openai rejected the request (400)", "max_tokens is too large"},
		},
		{
			name:    "422 from a compatible server",
			handler: errorReply(422, `{"detail":[{"loc":["body","messages"],"msg":"field required"}]}`),
			kind:    KindBadRequest, status: 422,
			msg: []string{"field required"},
		},
		{
			name:    "404 unknown model",
			handler: errorReply(404, body("invalid_request_error", "model_not_found", "The model `gpt-nope` does not exist or you do not have access to it.")),
			kind:    KindNotFound, status: 404,
			msg: []string{`openai does not know model "gpt-4.1-mini" (404)`, "does not exist"},
		},
		{
			name:    "404 from Ollama",
			handler: errorReply(404, `{"error":"model \"llama9\" not found, try pulling it first"}`),
			kind:    KindNotFound, status: 404,
			msg: []string{`model "llama9" not found`},
		},
		{
			name: "error event mid-stream",
			handler: func(w http.ResponseWriter, r *http.Request) {
				writeSSE(w, oaiRole, oaiText("Hel"), sseEvent("", `{"error":{"message":"The server had an error while processing your request.","type":"server_error"}}`))
			},
			kind: KindServer, status: 200, retryable: true,
			msg: []string{"mid-stream", "The server had an error"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, tt.handler)
			p := newProvider(t, "openai", s, nil)
			_, err := p.Stream(t.Context(), Request{Prompt: "hi", MaxTokens: 100}, nil)
			e := asError(t, err, tt.kind)
			t.Logf("message: %s", e.Message)
			s.only(t)
			if e.StatusCode != tt.status || e.RetryAfter != tt.retryAfter || e.Retryable() != tt.retryable {
				t.Errorf("status %d retryAfter %v retryable %v, want %d %v %v",
					e.StatusCode, e.RetryAfter, e.Retryable(), tt.status, tt.retryAfter, tt.retryable)
			}
			for _, m := range tt.msg {
				if !strings.Contains(e.Message, m) {
					t.Errorf("message %q does not contain %q", e.Message, m)
				}
			}
		})
	}
}

func TestOpenAIMalformed(t *testing.T) {
	tests := map[string]http.HandlerFunc{
		"broken JSON chunk": func(w http.ResponseWriter, r *http.Request) {
			writeSSE(w, oaiRole, oaiText("Hi"), sseEvent("", `{"id":"chatcmpl-B9","choices":[{"index":0,"delta":{"content":"oo`))
		},
		"JSON instead of a stream": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"id":"chatcmpl-B9","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}]}`))
		},
	}
	for name, h := range tests {
		t.Run(name, func(t *testing.T) {
			s := newServer(t, h)
			p := newProvider(t, "openai", s, nil)
			_, err := p.Stream(t.Context(), Request{Prompt: "hi"}, nil)
			e := asError(t, err, KindMalformed)
			t.Logf("message: %s", e.Message)
			if !e.Retryable() {
				t.Error("malformed is not retryable")
			}
			s.only(t)
		})
	}
}

func TestOpenAIStreamCut(t *testing.T) {
	tests := map[string]http.HandlerFunc{
		"connection dropped": func(w http.ResponseWriter, r *http.Request) {
			cutStream(w, oaiRole+oaiText("Hello, wor")+`data: {"id":"chatcmpl-B9","choi`)
		},
		"clean end without finish_reason": func(w http.ResponseWriter, r *http.Request) {
			writeSSE(w, oaiRole, oaiText("Hello, wor"))
		},
	}
	for name, h := range tests {
		t.Run(name, func(t *testing.T) {
			s := newServer(t, h)
			p := newProvider(t, "openai", s, nil)
			var got strings.Builder
			resp, err := p.Stream(t.Context(), Request{Prompt: "hi"}, func(c string) { got.WriteString(c) })
			e := asError(t, err, KindNetwork)
			t.Logf("message: %s", e.Message)
			if !e.Retryable() || e.StatusCode != 200 {
				t.Errorf("retryable %v status %d, want true 200", e.Retryable(), e.StatusCode)
			}
			// No usage before the cut: output estimated from 10 bytes.
			want := Response{Text: "Hello, wor", Model: oaiModel, Usage: Usage{OutputTokens: 3}}
			if resp != want {
				t.Errorf("partial response = %+v, want %+v", resp, want)
			}
			if got.String() != resp.Text {
				t.Errorf("deltas %q differ from the partial text %q", got.String(), resp.Text)
			}
			s.only(t)
		})
	}
}

func TestOpenAITimeout(t *testing.T) {
	for _, stallAfterStart := range []bool{false, true} {
		t.Run(map[bool]string{false: "no response", true: "stalled mid-stream"}[stallAfterStart], func(t *testing.T) {
			var s *server
			s = newServer(t, func(w http.ResponseWriter, r *http.Request) {
				if stallAfterStart {
					writeSSE(w, oaiRole, oaiText("Hel"))
				}
				s.wait(r)
			})
			p := newProvider(t, "openai", s, func(c *Config) { c.CallTimeout = 100 * time.Millisecond })
			resp, err := p.Stream(t.Context(), Request{Prompt: "hi"}, nil)
			e := asError(t, err, KindTimeout)
			t.Logf("message: %s", e.Message)
			if !e.Retryable() || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("retryable %v, is DeadlineExceeded %v: want both", e.Retryable(), errors.Is(err, context.DeadlineExceeded))
			}
			if stallAfterStart && (resp.Text != "Hel" || resp.Usage.OutputTokens != 1) {
				t.Errorf("partial response = %+v, want the text so far", resp)
			}
			s.only(t)
		})
	}
}
