package airtable

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
)

const testToken = "pat-secret-token"

// seen is a request as the stub server received it.
type seen struct {
	Method      string
	EscapedPath string
	Query       url.Values
	Header      http.Header
	Body        []byte
}

// bodyJSON decodes the request body, failing the test when it is not JSON.
func (s seen) bodyJSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(s.Body, &m); err != nil {
		t.Fatalf("request body %q is not a JSON object: %v", s.Body, err)
	}
	return m
}

// stub is an httptest server that records requests and answers them with
// respond.
type stub struct {
	mu   sync.Mutex
	reqs []seen
}

func (s *stub) requests() []seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seen(nil), s.reqs...)
}

// newStub starts a server and returns a client for it.
func newStub(t *testing.T, respond func(w http.ResponseWriter, r seen)) (*Client, *stub) {
	t.Helper()
	s := &stub{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read request body: %v", err)
		}
		req := seen{Method: r.Method, EscapedPath: r.URL.EscapedPath(), Query: r.URL.Query(), Header: r.Header.Clone(), Body: body}
		s.mu.Lock()
		s.reqs = append(s.reqs, req)
		s.mu.Unlock()
		respond(w, req)
	}))
	t.Cleanup(srv.Close)
	return &Client{BaseURL: srv.URL, Token: testToken, HTTP: srv.Client()}, s
}

// reply writes a JSON response.
func reply(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// fixed answers every request with the same response.
func fixed(status int, body string) func(http.ResponseWriter, seen) {
	return func(w http.ResponseWriter, _ seen) { reply(w, status, body) }
}

// onlyRequest returns the single request the stub saw.
func onlyRequest(t *testing.T, s *stub) seen {
	t.Helper()
	reqs := s.requests()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(reqs))
	}
	return reqs[0]
}

// mustJSON re-encodes a decoded value compactly, for comparing shapes.
func mustJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
