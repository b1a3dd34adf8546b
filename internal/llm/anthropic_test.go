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

// Anthropic's wire format, as the Messages API streams it.
var (
	antStart = sseEvent("message_start", `{"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","model":"claude-haiku-4-5-20251001","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":0,"cache_read_input_tokens":10,"output_tokens":1}}}`)
	antBlock = sseEvent("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`)
	antPing  = sseEvent("ping", `{"type": "ping"}`)
	antDelta = func(text string) string {
		return sseEvent("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"`+text+`"}}`)
	}
	antBlockStop = sseEvent("content_block_stop", `{"type":"content_block_stop","index":0}`)
	antMsgDelta  = sseEvent("message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}`)
	antStop      = sseEvent("message_stop", `{"type":"message_stop"}`)
)

func TestAnthropicStream(t *testing.T) {
	firstSeen := make(chan struct{})
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeSSE(w, antStart, antBlock, antPing, antDelta("Hello"))
		// The rest waits until the client has the first chunk: a client
		// that buffered the stream would never get it.
		select {
		case <-firstSeen:
		case <-r.Context().Done():
			return
		}
		writeSSE(w, antDelta(", world"), antDelta("!"), antBlockStop, antMsgDelta, antStop)
	})
	temp := 0.2
	p := newProvider(t, "anthropic", s, nil)

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
	// input_tokens 25 plus the 10 read from the prompt cache.
	want := Response{
		Text: "Hello, world!", Model: "claude-haiku-4-5-20251001", StopReason: "end_turn",
		Usage: Usage{InputTokens: 35, OutputTokens: 15, CachedInputTokens: 10},
	}
	if resp != want {
		t.Errorf("response = %+v, want %+v", resp, want)
	}

	req := s.only(t)
	if req.Path != "/v1/messages" {
		t.Errorf("path = %q, want /v1/messages", req.Path)
	}
	if got := req.Header.Get("X-Api-Key"); got != testKey {
		t.Errorf("x-api-key = %q, want the configured key", got)
	}
	if req.Header.Get("Anthropic-Version") == "" {
		t.Error("no anthropic-version header")
	}
	b := req.Body
	if b["model"] != DefaultAnthropicModel || b["max_tokens"] != 300.0 || b["stream"] != true || b["temperature"] != 0.2 {
		t.Errorf("body = %v, want default model, max_tokens 300, stream, temperature 0.2", b)
	}
	if sys, _ := b["system"].([]any); len(sys) != 1 || sys[0].(map[string]any)["text"] != "Be brief." {
		t.Errorf("system = %v, want one text block", b["system"])
	}
	msgs, _ := b["messages"].([]any)
	if len(msgs) != 1 || msgs[0].(map[string]any)["role"] != "user" {
		t.Fatalf("messages = %v, want one user message", b["messages"])
	}
	if content, _ := msgs[0].(map[string]any)["content"].([]any); len(content) != 1 || content[0].(map[string]any)["text"] != "Say hello" {
		t.Errorf("user content = %v, want the prompt", msgs[0])
	}
}

func TestAnthropicRequestDefaults(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeSSE(w, antStart, antBlock, antDelta("ok"), antBlockStop, antMsgDelta, antStop)
	})
	p := newProvider(t, "anthropic", s, func(c *Config) { c.Model = "claude-sonnet-4-5" })
	if _, err := p.Stream(t.Context(), Request{Prompt: "hi", Model: "claude-opus-4-1"}, nil); err != nil {
		t.Fatal(err)
	}
	b := s.only(t).Body
	if b["model"] != "claude-opus-4-1" || b["max_tokens"] != float64(DefaultAnthropicMaxTokens) {
		t.Errorf("model %v max_tokens %v, want the request's model and the default max_tokens", b["model"], b["max_tokens"])
	}
	for _, k := range []string{"system", "temperature"} {
		if _, ok := b[k]; ok {
			t.Errorf("%s sent although unset: %v", k, b[k])
		}
	}
}

// The SDK must not pick credentials or endpoints from the environment: the
// configured provider is the one called, with the configured key only.
func TestAnthropicIgnoresEnvironment(t *testing.T) {
	t.Setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:1")
	t.Setenv("ANTHROPIC_API_KEY", "sk-from-env")
	t.Setenv("ANTHROPIC_AUTH_TOKEN", "token-from-env")
	t.Setenv("ANTHROPIC_CUSTOM_HEADERS", "X-Leak: yes")
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeSSE(w, antStart, antBlock, antDelta("ok"), antBlockStop, antMsgDelta, antStop)
	})
	p, err := New(Config{Kind: "anthropic", APIKey: testKey, HTTPClient: rewriteClient(t, s)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Stream(t.Context(), Request{Prompt: "hi"}, nil); err != nil {
		t.Fatal(err)
	}
	h := s.only(t).Header
	if h.Get("X-Api-Key") != testKey || h.Get("Authorization") != "" || h.Get("X-Leak") != "" {
		t.Errorf("headers x-api-key %q authorization %q x-leak %q: the environment leaked in",
			h.Get("X-Api-Key"), h.Get("Authorization"), h.Get("X-Leak"))
	}
}

func TestAnthropicErrors(t *testing.T) {
	body := func(typ, msg string) string {
		return `{"type":"error","error":{"type":"` + typ + `","message":"` + msg + `"},"request_id":"req_011"}`
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
			name: "429 with retry-after",
			handler: errorReply(429, body("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"),
				"retry-after", "7", "anthropic-ratelimit-tokens-remaining", "0", "anthropic-ratelimit-tokens-reset", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)),
			kind: KindRateLimited, status: 429, retryAfter: 7 * time.Second, retryable: true,
			msg: []string{"anthropic rate limited the request (429)", "retry after 7s", "per-minute rate limit"},
		},
		{
			name:    "529 overloaded",
			handler: errorReply(529, body("overloaded_error", "Overloaded")),
			kind:    KindOverloaded, status: 529, retryable: true,
			msg: []string{"anthropic is overloaded (529)"},
		},
		{
			name:    "500",
			handler: errorReply(500, body("api_error", "Internal server error")),
			kind:    KindServer, status: 500, retryable: true,
			msg: []string{"server error (500)"},
		},
		{
			name:    "500 with an HTML page from a proxy",
			handler: errorReply(502, "<html><body><h1>502 Bad Gateway</h1></body></html>", "Content-Type", "text/html"),
			kind:    KindServer, status: 502, retryable: true,
			msg: []string{"server error (502)"},
		},
		{
			name:    "401",
			handler: errorReply(401, body("authentication_error", "invalid x-api-key "+testKey)),
			kind:    KindAuth, status: 401,
			msg: []string{"anthropic rejected the API key (401): check ANTHROPIC_API_KEY"},
		},
		{
			name:    "403",
			handler: errorReply(403, body("permission_error", "Your API key does not have permission to use the specified resource.")),
			kind:    KindAuth, status: 403,
			msg: []string{"(403)", "ANTHROPIC_API_KEY"},
		},
		{
			name:    "400",
			handler: errorReply(400, body("invalid_request_error", "max_tokens: 100000 > 64000, which is the maximum allowed number of output tokens")),
			kind:    KindBadRequest, status: 400,
			msg: []string{"anthropic rejected the request (400)", "max_tokens: 100000 > 64000"},
		},
		{
			name:    "413",
			handler: errorReply(413, body("request_too_large", "Request exceeds the maximum allowed number of bytes.")),
			kind:    KindBadRequest, status: 413,
		},
		{
			name:    "404 unknown model",
			handler: errorReply(404, body("not_found_error", "model: claude-nope")),
			kind:    KindNotFound, status: 404,
			msg: []string{`does not know model "claude-haiku-4-5" (404)`, "model: claude-nope"},
		},
		{
			name: "overloaded mid-stream",
			handler: func(w http.ResponseWriter, r *http.Request) {
				writeSSE(w, antStart, antBlock, antDelta("Hel"), sseEvent("error", body("overloaded_error", "Overloaded")))
			},
			kind: KindOverloaded, status: 200, retryable: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, tt.handler)
			p := newProvider(t, "anthropic", s, nil)
			_, err := p.Stream(t.Context(), Request{Prompt: "hi", MaxTokens: 100}, nil)
			e := asError(t, err, tt.kind)
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

func TestAnthropicMalformed(t *testing.T) {
	tests := map[string]http.HandlerFunc{
		"broken JSON event": func(w http.ResponseWriter, r *http.Request) {
			writeSSE(w, antStart, antBlock, antDelta("Hi"), sseEvent("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"oops`))
		},
		"delta for a block that never started": func(w http.ResponseWriter, r *http.Request) {
			writeSSE(w, antStart, antBlock, antDelta("Hi"), sseEvent("content_block_delta", `{"type":"content_block_delta","index":3,"delta":{"type":"text_delta","text":"x"}}`))
		},
		"JSON instead of a stream": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"id":"msg_01","type":"message","content":[{"type":"text","text":"Hi"}]}`))
		},
	}
	for name, h := range tests {
		t.Run(name, func(t *testing.T) {
			s := newServer(t, h)
			p := newProvider(t, "anthropic", s, nil)
			_, err := p.Stream(t.Context(), Request{Prompt: "hi"}, nil)
			e := asError(t, err, KindMalformed)
			if !e.Retryable() {
				t.Error("malformed is not retryable")
			}
			s.only(t)
		})
	}
}

func TestAnthropicStreamCut(t *testing.T) {
	tests := map[string]http.HandlerFunc{
		"connection dropped": func(w http.ResponseWriter, r *http.Request) {
			// The last event is cut off in the middle.
			cutStream(w, antStart+antBlock+antDelta("Hello, wor")+"event: content_block_delta\ndata: {\"type\":\"content_blo")
		},
		"clean end without message_stop": func(w http.ResponseWriter, r *http.Request) {
			writeSSE(w, antStart, antBlock, antDelta("Hello, wor"))
		},
	}
	for name, h := range tests {
		t.Run(name, func(t *testing.T) {
			s := newServer(t, h)
			p := newProvider(t, "anthropic", s, nil)
			var got strings.Builder
			resp, err := p.Stream(t.Context(), Request{Prompt: "hi"}, func(c string) { got.WriteString(c) })
			e := asError(t, err, KindNetwork)
			if !e.Retryable() || e.StatusCode != 200 {
				t.Errorf("retryable %v status %d, want true 200", e.Retryable(), e.StatusCode)
			}
			// Output tokens are estimated: 10 bytes of text, rounded up.
			want := Response{Text: "Hello, wor", Model: "claude-haiku-4-5-20251001",
				Usage: Usage{InputTokens: 35, OutputTokens: 3, CachedInputTokens: 10}}
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

func TestAnthropicTimeout(t *testing.T) {
	for _, stallAfterStart := range []bool{false, true} {
		t.Run(map[bool]string{false: "no response", true: "stalled mid-stream"}[stallAfterStart], func(t *testing.T) {
			var s *server
			s = newServer(t, func(w http.ResponseWriter, r *http.Request) {
				if stallAfterStart {
					writeSSE(w, antStart, antBlock, antDelta("Hel"))
				}
				s.wait(r)
			})
			p := newProvider(t, "anthropic", s, func(c *Config) { c.CallTimeout = 100 * time.Millisecond })
			resp, err := p.Stream(t.Context(), Request{Prompt: "hi"}, nil)
			e := asError(t, err, KindTimeout)
			if !e.Retryable() || !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("retryable %v, is DeadlineExceeded %v: want both", e.Retryable(), errors.Is(err, context.DeadlineExceeded))
			}
			if !strings.Contains(e.Message, "100ms") {
				t.Errorf("message %q does not name the timeout", e.Message)
			}
			if stallAfterStart && (resp.Text != "Hel" || resp.Usage.InputTokens != 35 || resp.Usage.OutputTokens != 1) {
				t.Errorf("partial response = %+v, want the text and usage so far", resp)
			}
			s.only(t)
		})
	}
}

func TestAnthropicCanceled(t *testing.T) {
	var s *server
	s = newServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeSSE(w, antStart, antBlock, antDelta("Hel"))
		s.wait(r)
	})
	p := newProvider(t, "anthropic", s, nil)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	_, err := p.Stream(ctx, Request{Prompt: "hi"}, func(string) { cancel() })
	e := asError(t, err, KindCanceled)
	if e.Retryable() || !errors.Is(err, context.Canceled) {
		t.Errorf("retryable %v, is Canceled %v: want false, true", e.Retryable(), errors.Is(err, context.Canceled))
	}
}
