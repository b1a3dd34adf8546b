package llm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// testKey is the API key every test provider uses; no message may show it.
const testKey = "sk-test-SECRET-4f2a9c"

// captured is one request the test server received.
type captured struct {
	Path   string
	Header http.Header
	Body   map[string]any
}

// server is a provider stand-in that records every request it receives, so
// tests can check the wire format and that exactly one request was made.
type server struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []captured
	// done is closed when the test ends, releasing handlers that stall.
	done chan struct{}
}

func newServer(t *testing.T, h http.HandlerFunc) *server {
	t.Helper()
	s := &server{done: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(raw))
		c := captured{Path: r.URL.Path, Header: r.Header.Clone()}
		_ = json.Unmarshal(raw, &c.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, c)
		s.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(s.Close)
	t.Cleanup(func() { close(s.done) }) // runs first: unblocks stalled handlers
	return s
}

func (s *server) requests() []captured {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]captured(nil), s.reqs...)
}

// only returns the single request the call made, failing the test when the
// SDK made more (a retry) or none.
func (s *server) only(t *testing.T) captured {
	t.Helper()
	reqs := s.requests()
	if len(reqs) != 1 {
		t.Fatalf("the server got %d requests, want exactly 1 (SDK retries must be off)", len(reqs))
	}
	return reqs[0]
}

// wait blocks a handler until the client goes away or the test ends.
func (s *server) wait(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-s.done:
	}
}

// sseEvent formats one server-sent event; name "" writes a data-only event
// as OpenAI does.
func sseEvent(name, data string) string {
	if name == "" {
		return "data: " + data + "\n\n"
	}
	return "event: " + name + "\ndata: " + data + "\n\n"
}

// writeSSE starts an event stream and writes events, flushing each so the
// client sees them as a real provider would send them.
func writeSSE(w http.ResponseWriter, events ...string) {
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusOK)
	}
	for _, e := range events {
		_, _ = io.WriteString(w, e)
		_ = http.NewResponseController(w).Flush()
	}
}

// cutStream answers with a chunked event stream holding body, then closes
// the connection without the final chunk, as a dropped connection would.
func cutStream(w http.ResponseWriter, body string) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "hijack: "+err.Error(), http.StatusTeapot) // fails the test's kind check
		return
	}
	defer func() { _ = conn.Close() }()
	_, _ = fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n", len(body), body)
	_ = buf.Flush()
}

// errorReply writes an error response with the given headers.
func errorReply(status int, body string, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// newProvider builds a provider of kind against s.
func newProvider(t *testing.T, kind string, s *server, mod func(*Config)) Provider {
	t.Helper()
	cfg := Config{Name: kind, Kind: kind, APIKey: testKey, CallTimeout: 10 * time.Second}
	switch kind {
	case "anthropic":
		cfg.APIKeyVar, cfg.BaseURL = "ANTHROPIC_API_KEY", s.URL
	case "openai":
		cfg.APIKeyVar, cfg.BaseURL = "OPENAI_API_KEY", s.URL+"/v1"
	}
	if mod != nil {
		mod(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

// asError asserts err is an *Error of kind.
func asError(t *testing.T, err error, kind ErrorKind) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *llm.Error", err, err)
	}
	if e.Kind != kind {
		t.Fatalf("kind = %q, want %q (message %q, cause %v)", e.Kind, kind, e.Message, e.Err)
	}
	if strings.Contains(e.Message, testKey) || strings.Contains(e.Error(), testKey) {
		t.Fatalf("the error shows the API key: %q", e.Error())
	}
	return e
}

// rewrite sends every request to target, so a provider configured with the
// hosted API's URL can be tested against a local server.
type rewrite struct{ target *url.URL }

func (rw rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host = rw.target.Scheme, rw.target.Host
	return http.DefaultTransport.RoundTrip(r)
}

func rewriteClient(t *testing.T, s *server) *http.Client {
	u, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: rewrite{u}}
}

// countingTransport counts the requests that reach the network, for calls
// that never get a response to count at a server.
type countingTransport struct {
	mu sync.Mutex
	n  int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func TestNewValidatesConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string // substring of the error; "" = no error
	}{
		{"anthropic without key", Config{Kind: "anthropic", APIKeyVar: "ANTHROPIC_API_KEY"}, "set ANTHROPIC_API_KEY"},
		{"openai without key", Config{Kind: "openai", APIKeyVar: "OPENAI_API_KEY"}, "set OPENAI_API_KEY"},
		{"anthropic proxy without key", Config{Kind: "anthropic", APIKeyVar: "ANTHROPIC_API_KEY", BaseURL: "http://localhost:1"}, "set ANTHROPIC_API_KEY"},
		{"no variable named", Config{Name: "openai", Kind: "openai"}, "no API key configured"},
		{"compatible endpoint without key", Config{Name: "ollama", Kind: "openai", BaseURL: "http://localhost:11434/v1"}, ""},
		{"unknown kind", Config{Kind: "gemini", APIKey: "k"}, `unknown kind "gemini"`},
		{"relative base URL", Config{Kind: "openai", APIKey: "k", BaseURL: "localhost:11434/v1"}, "not an http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	for _, tt := range []struct {
		kind, model string
	}{{"openai", DefaultOpenAIModel}, {"anthropic", DefaultAnthropicModel}} {
		p, err := New(Config{Kind: tt.kind, APIKey: "k"})
		if err != nil {
			t.Fatal(err)
		}
		if p.Name() != tt.kind || p.DefaultModel() != tt.model {
			t.Errorf("%s: Name %q DefaultModel %q, want %q %q", tt.kind, p.Name(), p.DefaultModel(), tt.kind, tt.model)
		}
	}
	p, err := New(Config{Name: "ollama", Kind: "openai", BaseURL: "http://localhost:11434/v1", Model: "llama3.2"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Name() != "ollama" || p.DefaultModel() != "llama3.2" {
		t.Errorf("Name %q DefaultModel %q, want ollama llama3.2", p.Name(), p.DefaultModel())
	}
}

func TestEmptyPromptMakesNoRequest(t *testing.T) {
	for _, kind := range []string{"openai", "anthropic"} {
		t.Run(kind, func(t *testing.T) {
			s := newServer(t, errorReply(500, `{}`))
			p := newProvider(t, kind, s, nil)
			_, err := p.Stream(t.Context(), Request{}, nil)
			e := asError(t, err, KindBadRequest)
			if e.Retryable() {
				t.Error("an empty prompt is retryable")
			}
			if n := len(s.requests()); n != 0 {
				t.Errorf("the server got %d requests, want 0", n)
			}
		})
	}
}

func TestRetryable(t *testing.T) {
	want := map[ErrorKind]bool{
		KindRateLimited: true, KindOverloaded: true, KindServer: true, KindTimeout: true,
		KindNetwork: true, KindMalformed: true,
		KindAuth: false, KindBadRequest: false, KindNotFound: false, KindCanceled: false,
	}
	for kind, retry := range want {
		if got := (&Error{Kind: kind}).Retryable(); got != retry {
			t.Errorf("%s: Retryable = %v, want %v", kind, got, retry)
		}
	}
	var nilErr *Error
	if nilErr.Retryable() {
		t.Error("a nil *Error is retryable")
	}
}

func TestConnectionRefused(t *testing.T) {
	for _, kind := range []string{"openai", "anthropic"} {
		t.Run(kind, func(t *testing.T) {
			s := newServer(t, nil)
			base := s.URL
			s.Close() // nothing listens there any more
			ct := &countingTransport{}
			cfg := Config{Kind: kind, APIKey: testKey, BaseURL: base, HTTPClient: &http.Client{Transport: ct}}
			p, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.Stream(t.Context(), Request{Prompt: "hi"}, nil)
			e := asError(t, err, KindNetwork)
			if e.StatusCode != 0 || !e.Retryable() {
				t.Errorf("StatusCode %d Retryable %v, want 0 true", e.StatusCode, e.Retryable())
			}
			if ct.n != 1 {
				t.Errorf("%d connection attempts, want 1 (SDK retries must be off)", ct.n)
			}
		})
	}
}

// One provider serves many activities at once; each call must get its own
// answer and nothing may be shared unsafely (run with -race).
func TestConcurrentStreams(t *testing.T) {
	for _, kind := range []string{"openai", "anthropic"} {
		t.Run(kind, func(t *testing.T) {
			s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				var body struct {
					Messages []struct {
						Content any `json:"content"`
					} `json:"messages"`
				}
				_ = json.NewDecoder(r.Body).Decode(&body)
				prompt := fmt.Sprint(body.Messages[len(body.Messages)-1].Content)
				if kind == "openai" {
					writeSSE(w, oaiRole, oaiText(prompt), oaiFinish, oaiUsage, oaiDone)
				} else {
					writeSSE(w, antStart, antBlock, antDelta(prompt), antBlockStop, antMsgDelta, antStop)
				}
			})
			p := newProvider(t, kind, s, nil)
			const n = 16
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for i := range n {
				wg.Go(func() {
					prompt := fmt.Sprintf("<prompt-%02d>", i)
					resp, err := p.Stream(t.Context(), Request{Prompt: prompt}, nil)
					switch {
					case err != nil:
						errs <- err
					case !strings.Contains(resp.Text, prompt):
						errs <- fmt.Errorf("call %d got %q", i, resp.Text)
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if got := len(s.requests()); got != n {
				t.Errorf("%d requests for %d calls", got, n)
			}
		})
	}
}
