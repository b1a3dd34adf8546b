// Package llmfake is a local fake of the Anthropic Messages API and the OpenAI
// Chat Completions API. It speaks the providers' real wire formats, so tests
// and benchmarks can drive the official SDK clients (and their retry, streaming
// and error handling) without network access, cost or nondeterminism. Faults
// and an OpenAI-style token bucket can be injected to exercise the unhappy
// paths that real providers only produce under load.
//
// The two SDKs want different base URLs, because the OpenAI SDK expects the
// /v1 prefix in its base URL and the Anthropic SDK adds it itself:
//
//	srv := llmfake.New(llmfake.Options{TokensPerMinute: 30_000})
//	defer srv.Close()
//	ac := anthropic.NewClient(option.WithBaseURL(srv.URL()), option.WithAPIKey("k"))
//	oc := openai.NewClient(option.WithBaseURL(srv.OpenAIBaseURL()), option.WithAPIKey("k"))
package llmfake

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// API names recorded in Request.API.
const (
	// APIAnthropic marks a request to the Anthropic Messages API.
	APIAnthropic = "anthropic"
	// APIOpenAI marks a request to the OpenAI Chat Completions API.
	APIOpenAI = "openai"
)

// maxBodyBytes bounds how much of a request body is read, so that a runaway
// client cannot make the fake buffer without limit.
const maxBodyBytes = 32 << 20

// Options configure a fake.
type Options struct {
	// TokensPerMinute, when > 0, enforces a token bucket like OpenAI's:
	// capacity TokensPerMinute, refilled continuously at TokensPerMinute/60
	// per second, starting full. At admission a request needs an estimate of
	// input tokens + max_tokens; if the bucket holds less, the request gets a
	// 429 in the provider's rate-limit format with a retry-after header of the
	// whole seconds until enough tokens have accrued. Otherwise the estimate
	// is debited, and when the response finishes the difference between the
	// estimate and the tokens actually used (input + output) is refunded.
	// A request whose estimate exceeds the capacity can never be admitted, so
	// its 429 carries x-should-retry: false instead of a retry-after.
	TokensPerMinute int
	// Reply computes the assistant's text from the request; nil means
	// DefaultReply. It may be called concurrently.
	Reply func(Request) string
	// ChunkWords is the number of words per streamed delta; values below 1
	// mean 1.
	ChunkWords int
	// ChunkDelay is the pause before each streamed delta, so a stream lasts
	// long enough to be watched (or interrupted) mid-way.
	ChunkDelay time.Duration
	// Now is the clock of the token bucket and of the Served timestamps; nil
	// means time.Now. Tests inject a fake clock to make refills deterministic.
	Now func() time.Time
}

// Request is what the fake parsed from a call, kept for assertions.
type Request struct {
	// API is APIAnthropic or APIOpenAI, guessed from the headers for paths
	// that belong to neither.
	API string
	// Path is the URL path that was requested.
	Path string
	// Model is the requested model.
	Model string
	// System is the text of the system prompt (Anthropic's system field, or
	// OpenAI's system and developer messages), blocks joined by blank lines.
	System string
	// Prompt is the text of all user messages, joined by blank lines.
	Prompt string
	// MaxTokens is max_tokens (or OpenAI's max_completion_tokens); 0 when the
	// request set none.
	MaxTokens int
	// Stream reports whether the request asked for server-sent events.
	Stream bool
	// IncludeUsage reports whether an OpenAI streaming request asked for the
	// final usage chunk.
	IncludeUsage bool
	// APIKey is the credential the request carried: x-api-key for Anthropic,
	// the bearer token for OpenAI.
	APIKey string
	// Header is a copy of the request headers.
	Header http.Header
}

// Stats are counters over the fake's lifetime.
type Stats struct {
	// Requests counts every request received, including those to unknown
	// paths.
	Requests int
	// Succeeded counts complete responses with status 200.
	Succeeded int
	// Faults counts injected faults, including FaultSlow ones whose request
	// then succeeded.
	Faults int
	// RateLimited counts 429s from TokensPerMinute enforcement, i.e. caused
	// by the client overrunning the limit; injected FaultRateLimited faults
	// are counted in Faults instead.
	RateLimited int
	// InputTokens and OutputTokens sum the usage reported by successful
	// responses.
	InputTokens, OutputTokens int64
	// InFlight is the number of requests being handled right now, which lets
	// tests wait for abandoned requests to be released.
	InFlight int
	// MaxInFlight is the highest InFlight seen, for checking a client's
	// concurrency limit.
	MaxInFlight int
}

// Served records one successful response, for measuring the rate a client
// achieved.
type Served struct {
	// At is when the response was complete, just before its final bytes
	// were flushed.
	At time.Time
	// InputTokens and OutputTokens are the usage the response reported.
	InputTokens, OutputTokens int
}

// FaultKind selects what an injected Fault does.
type FaultKind int

// The fault kinds. They start at 1 so that a zero Fault is invalid rather
// than silently a rate limit.
const (
	// FaultRateLimited answers 429 in the provider's rate-limit format.
	FaultRateLimited FaultKind = iota + 1
	// FaultOverloaded answers 529 overloaded_error (Anthropic) or 503
	// server_error (OpenAI).
	FaultOverloaded
	// FaultServerError answers 500 api_error (Anthropic) or server_error
	// (OpenAI).
	FaultServerError
	// FaultCutStream aborts the connection: a streaming request first gets
	// its headers, the opening events and AfterChunks deltas; a
	// non-streaming one gets nothing.
	FaultCutStream
	// FaultSlow waits Delay, or until the client gives up, before answering
	// normally.
	FaultSlow
	// FaultMalformed answers 200 with a body that is not valid JSON, or, when
	// streaming, with an event whose data is not valid JSON.
	FaultMalformed
	// FaultUnauthorized answers 401 authentication_error (Anthropic) or
	// invalid_api_key (OpenAI).
	FaultUnauthorized
	// FaultBadRequest answers 400 invalid_request_error.
	FaultBadRequest
)

var faultNames = map[FaultKind]string{
	FaultRateLimited:  "rate_limited",
	FaultOverloaded:   "overloaded",
	FaultServerError:  "server_error",
	FaultCutStream:    "cut_stream",
	FaultSlow:         "slow",
	FaultMalformed:    "malformed",
	FaultUnauthorized: "unauthorized",
	FaultBadRequest:   "bad_request",
}

// String names the kind, for test and log output.
func (k FaultKind) String() string {
	if name, ok := faultNames[k]; ok {
		return name
	}
	return fmt.Sprintf("FaultKind(%d)", int(k))
}

// Fault is one injected misbehaviour.
type Fault struct {
	// Kind selects the misbehaviour.
	Kind FaultKind
	// RetryAfter, when > 0, is sent on error responses as retry-after (whole
	// seconds, rounded up) and retry-after-ms, which the SDKs prefer.
	RetryAfter time.Duration
	// AfterChunks is how many content deltas FaultCutStream sends before
	// cutting the stream.
	AfterChunks int
	// Delay is how long FaultSlow waits.
	Delay time.Duration
}

// Server is a running fake; it is safe for concurrent use.
type Server struct {
	srv    *httptest.Server
	opts   Options
	done   chan struct{}
	closer sync.Once

	mu       sync.Mutex
	bucket   *bucket
	queue    []Fault
	failAll  *Fault
	stats    Stats
	requests []Request
	served   []Served
}

// New starts a fake on a local port; Close it when done.
func New(opts Options) *Server {
	if opts.ChunkWords < 1 {
		opts.ChunkWords = 1
	}
	if opts.Reply == nil {
		opts.Reply = DefaultReply
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, done: make(chan struct{})}
	if opts.TokensPerMinute > 0 {
		s.bucket = newBucket(opts.TokensPerMinute, opts.Now())
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.handle))
	return s
}

// URL is the base URL for the Anthropic SDK (option.WithBaseURL(s.URL())),
// which appends /v1/messages itself.
func (s *Server) URL() string { return s.srv.URL }

// OpenAIBaseURL is the base URL for the OpenAI SDK, which expects the /v1
// prefix to be part of the base and appends only /chat/completions.
func (s *Server) OpenAIBaseURL() string { return s.srv.URL + "/v1" }

// Close stops the fake. Requests still waiting in FaultSlow are released
// first, because httptest waits for every handler to return.
func (s *Server) Close() {
	s.closer.Do(func() { close(s.done) })
	s.srv.Close()
}

// Enqueue adds faults that are consumed one per request to a known endpoint,
// in order, before normal service; it panics on an unknown kind because that
// is a bug in the test. A fault takes effect before the API key, the body and
// the token bucket are checked (only FaultSlow goes on to those checks), so
// that it happens exactly when it was scheduled.
func (s *Server) Enqueue(f ...Fault) {
	for _, fault := range f {
		mustValid(fault)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, f...)
}

// FailAll makes every request to a known endpoint get f, ahead of any
// queued faults, until FailAll(nil).
func (s *Server) FailAll(f *Fault) {
	if f != nil {
		mustValid(*f)
		copied := *f
		f = &copied
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failAll = f
}

// faultErrors maps the faults that are plain error responses to the error
// they send.
var faultErrors = map[FaultKind]errKind{
	FaultRateLimited:  errRateLimit,
	FaultOverloaded:   errOverloaded,
	FaultServerError:  errServer,
	FaultUnauthorized: errAuth,
	FaultBadRequest:   errBadRequest,
}

// ceilSeconds rounds d up to whole seconds, the unit of retry-after, so a
// client that honours it never comes back too early.
func ceilSeconds(d time.Duration) int64 {
	return int64((d + time.Second - 1) / time.Second)
}

func mustValid(f Fault) {
	if _, ok := faultNames[f.Kind]; !ok {
		panic(fmt.Sprintf("llmfake: unknown fault kind %d", int(f.Kind)))
	}
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Requests returns every request received, in order of arrival.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.Header = r.Header.Clone()
		out[i] = r
	}
	return out
}

// Served returns the successful responses in order of completion.
func (s *Server) Served() []Served {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Served(nil), s.served...)
}

// call is one request being handled.
type call struct {
	req   Request
	input int // input tokens by the fake tokenizer
	seq   int // 1-based arrival number, for unique ids
	now   time.Time
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	p, known := route(r)
	c := &call{req: Request{
		API:    p.name(),
		Path:   r.URL.Path,
		APIKey: p.apiKey(r.Header),
		Header: r.Header.Clone(),
	}}
	var parseErr error
	if known {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes))
		if err == nil {
			err = p.parse(body, c)
		}
		parseErr = err
	}

	c.seq = s.begin(c.req)
	defer s.end()
	c.now = s.opts.Now()
	w.Header().Set(p.requestIDHeader(), fmt.Sprintf("req_fake%016x", c.seq))

	if !known {
		s.fail(w, p, c, apiErr{kind: errNotFound, msg: fmt.Sprintf("Not found: %s %s", r.Method, r.URL.Path)})
		return
	}
	if f, ok := s.nextFault(); ok {
		if s.inject(w, r, p, c, f) {
			return
		}
	}
	if c.req.APIKey == "" {
		s.fail(w, p, c, apiErr{kind: errAuth, msg: "missing API key"})
		return
	}
	if parseErr != nil {
		s.fail(w, p, c, apiErr{kind: errBadRequest, msg: parseErr.Error()})
		return
	}
	s.serve(w, r, p, c)
}

// route picks the provider whose dialect to speak and reports whether the
// request is to one of the two endpoints the fake implements.
func route(r *http.Request) (provider, bool) {
	switch {
	case r.URL.Path == "/v1/messages":
		return anthropicProvider{}, r.Method == http.MethodPost
	case r.URL.Path == "/v1/chat/completions":
		return openaiProvider{}, r.Method == http.MethodPost
	case r.Header.Get("x-api-key") != "" || r.Header.Get("anthropic-version") != "" || strings.HasPrefix(r.URL.Path, "/v1/messages/"):
		return anthropicProvider{}, false
	default:
		return openaiProvider{}, false
	}
}

func (s *Server) begin(req Request) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Requests++
	s.stats.InFlight++
	s.stats.MaxInFlight = max(s.stats.MaxInFlight, s.stats.InFlight)
	s.requests = append(s.requests, req)
	return len(s.requests)
}

func (s *Server) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.InFlight--
}

func (s *Server) nextFault() (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var f Fault
	switch {
	case s.failAll != nil:
		f = *s.failAll
	case len(s.queue) > 0:
		f = s.queue[0]
		s.queue = s.queue[1:]
	default:
		return Fault{}, false
	}
	s.stats.Faults++
	return f, true
}

// inject carries out fault f and reports whether it answered the request;
// false means normal service should follow.
func (s *Server) inject(w http.ResponseWriter, r *http.Request, p provider, c *call, f Fault) bool {
	if kind, ok := faultErrors[f.Kind]; ok {
		if f.RetryAfter > 0 {
			w.Header().Set("retry-after", fmt.Sprint(ceilSeconds(f.RetryAfter)))
			w.Header().Set("retry-after-ms", fmt.Sprint(f.RetryAfter.Milliseconds()))
		}
		s.fail(w, p, c, apiErr{kind: kind, msg: fmt.Sprintf("%s (injected by llmfake)", kind)})
		return true
	}
	switch f.Kind {
	case FaultSlow:
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
			return false
		case <-r.Context().Done():
		case <-s.done:
		}
	case FaultMalformed:
		out := shape(s.opts.Reply(c.req), c.req.MaxTokens, s.opts.ChunkWords)
		if !c.req.Stream {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(p.malformedBody(c, out))
			return true
		}
		sw := s.startStream(w, r)
		if sw.send(p.stream(c, out).open...) == nil {
			_ = sw.send(p.malformedEvent(c))
		}
	case FaultCutStream:
		if !c.req.Stream {
			panic(http.ErrAbortHandler)
		}
		out := shape(s.opts.Reply(c.req), c.req.MaxTokens, s.opts.ChunkWords)
		script := p.stream(c, out)
		sw := s.startStream(w, r)
		if sw.send(script.open...) == nil {
			_ = sw.send(script.deltas[:min(f.AfterChunks, len(script.deltas))]...)
		}
		// Aborting makes net/http drop the connection without the final
		// empty chunk, which the client sees as an unexpected EOF.
		panic(http.ErrAbortHandler)
	}
	return true
}

// fail writes an error response in the provider's format.
func (s *Server) fail(w http.ResponseWriter, p provider, c *call, e apiErr) {
	status, body := p.errorBody(c, e)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// serve answers a valid request normally, subject to the token bucket.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, p provider, c *call) {
	c.now = s.opts.Now() // after any FaultSlow delay, which admission must see
	estimate := c.input + c.req.MaxTokens
	used := c.input // what the bucket is charged if nothing is delivered
	if s.bucket != nil {
		s.mu.Lock()
		adm := s.bucket.take(estimate, c.now)
		if !adm.ok {
			s.stats.RateLimited++
		}
		s.mu.Unlock()
		p.rateHeaders(w.Header(), s.bucket.limit, adm.remaining, adm.reset, c.now)
		if !adm.ok {
			s.rejectTokens(w, p, c, estimate, adm)
			return
		}
		defer func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.bucket.refund(estimate-used, s.opts.Now())
		}()
	}

	out := shape(s.opts.Reply(c.req), c.req.MaxTokens, s.opts.ChunkWords)
	if !c.req.Stream {
		w.Header().Set("Content-Type", "application/json")
		if _, err := w.Write(p.completion(c, out)); err != nil {
			return
		}
		used = c.input + out.words
		s.succeed(c, out)
		return
	}

	script := p.stream(c, out)
	sw := s.startStream(w, r)
	if sw.send(script.open...) != nil {
		return
	}
	for i, d := range script.deltas {
		if s.opts.ChunkDelay > 0 {
			t := time.NewTimer(s.opts.ChunkDelay)
			select {
			case <-r.Context().Done():
				t.Stop()
				used = c.input + out.wordsBefore(i)
				return
			case <-t.C:
			}
		}
		if sw.send(d) != nil {
			used = c.input + out.wordsBefore(i)
			return
		}
	}
	used = c.input + out.words
	// The closing events are left for net/http to flush when the handler
	// returns, after the accounting below and the deferred refund, so that a
	// client that has seen the end of the stream and at once reads Stats or
	// sends its next request finds both up to date.
	if sw.write(script.close...) != nil {
		return
	}
	s.succeed(c, out)
}

// rejectTokens answers a request the token bucket cannot admit.
func (s *Server) rejectTokens(w http.ResponseWriter, p provider, c *call, estimate int, adm admission) {
	var msg string
	if adm.tooLarge {
		// Waiting cannot help, so tell the SDKs not to retry.
		w.Header().Set("x-should-retry", "false")
		msg = fmt.Sprintf("Request too large: limit %d tokens per minute, requested %d.", s.bucket.limit, estimate)
	} else {
		w.Header().Set("retry-after", fmt.Sprint(ceilSeconds(adm.wait)))
		msg = fmt.Sprintf("Rate limit reached on tokens per min (TPM): limit %d, remaining %d, requested %d. Please try again in %s.",
			s.bucket.limit, adm.remaining, estimate, adm.wait.Round(time.Millisecond))
	}
	s.fail(w, p, c, apiErr{kind: errTokenLimit, msg: msg})
}

func (s *Server) succeed(c *call, out output) {
	at := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Succeeded++
	s.stats.InputTokens += int64(c.input)
	s.stats.OutputTokens += int64(out.words)
	s.served = append(s.served, Served{At: at, InputTokens: c.input, OutputTokens: out.words})
}

// streamWriter writes server-sent events, flushing each one so the client
// sees it immediately, as it would from the real providers.
type streamWriter struct {
	w    http.ResponseWriter
	rc   *http.ResponseController
	ctx  context.Context
	done <-chan struct{}
}

func (s *Server) startStream(w http.ResponseWriter, r *http.Request) *streamWriter {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	return &streamWriter{w: w, rc: http.NewResponseController(w), ctx: r.Context(), done: s.done}
}

// send writes and flushes each event, stopping early when the client has
// gone or the fake is closing.
func (sw *streamWriter) send(events ...[]byte) error {
	for _, e := range events {
		if err := sw.write(e); err != nil {
			return err
		}
		if err := sw.rc.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// write writes events without flushing them.
func (sw *streamWriter) write(events ...[]byte) error {
	for _, e := range events {
		select {
		case <-sw.done:
			return http.ErrServerClosed
		default:
		}
		if err := sw.ctx.Err(); err != nil {
			return err
		}
		if _, err := sw.w.Write(e); err != nil {
			return err
		}
	}
	return nil
}
