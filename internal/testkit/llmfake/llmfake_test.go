package llmfake

import (
	"context"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anthropics/anthropic-sdk-go"
	aoption "github.com/anthropics/anthropic-sdk-go/option"
	"github.com/openai/openai-go/v3"
	ooption "github.com/openai/openai-go/v3/option"
)

// The clients are built as an application would build them, except that
// retries are off so that every fault surfaces, and the Anthropic client
// ignores ambient credentials and profiles so the tests are hermetic.
func anthropicClient(s *Server) *anthropic.Client {
	c := anthropic.NewClient(
		aoption.WithoutEnvironmentDefaults(),
		aoption.WithBaseURL(s.URL()),
		aoption.WithAPIKey("k"),
		aoption.WithMaxRetries(0),
	)
	return &c
}

func openaiClient(s *Server) *openai.Client {
	c := openai.NewClient(
		ooption.WithBaseURL(s.OpenAIBaseURL()),
		ooption.WithAPIKey("k"),
		ooption.WithMaxRetries(0),
	)
	return &c
}

func newServer(t *testing.T, opts Options) *Server {
	t.Helper()
	s := New(opts)
	t.Cleanup(s.Close)
	return s
}

// waitFor polls cond until it holds, failing the test after a generous
// deadline; it is how the tests wait for the server without fixed sleeps.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func anthropicParams(prompt string, maxTokens int64) anthropic.MessageNewParams {
	return anthropic.MessageNewParams{
		Model:     "claude-test",
		MaxTokens: maxTokens,
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(prompt))},
	}
}

func openaiParams(prompt string, maxTokens int64) openai.ChatCompletionNewParams {
	p := openai.ChatCompletionNewParams{
		Model:    "gpt-test",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(prompt)},
	}
	if maxTokens > 0 {
		p.MaxCompletionTokens = openai.Int(maxTokens)
	}
	return p
}

// anthropicStream runs a streaming call to completion, returning the
// accumulated message, the number of text deltas and the stream's error.
func anthropicStream(ctx context.Context, c *anthropic.Client, p anthropic.MessageNewParams, opts ...aoption.RequestOption) (anthropic.Message, int, error) {
	stream := c.Messages.NewStreaming(ctx, p, opts...)
	defer stream.Close()
	var msg anthropic.Message
	deltas := 0
	for stream.Next() {
		ev := stream.Current()
		if ev.Type == "content_block_delta" {
			deltas++
		}
		if err := msg.Accumulate(ev); err != nil {
			return msg, deltas, err
		}
	}
	return msg, deltas, stream.Err()
}

// openaiStream is anthropicStream for OpenAI.
func openaiStream(ctx context.Context, c *openai.Client, p openai.ChatCompletionNewParams, opts ...ooption.RequestOption) (openai.ChatCompletion, int, error) {
	stream := c.Chat.Completions.NewStreaming(ctx, p, opts...)
	defer stream.Close()
	var acc openai.ChatCompletionAccumulator
	deltas := 0
	for stream.Next() {
		chunk := stream.Current()
		if len(chunk.Choices) > 0 && chunk.Choices[0].Delta.Content != "" {
			deltas++
		}
		if !acc.AddChunk(chunk) {
			return acc.ChatCompletion, deltas, errors.New("accumulator rejected a chunk")
		}
	}
	return acc.ChatCompletion, deltas, stream.Err()
}

func TestAnthropicMessage(t *testing.T) {
	s := newServer(t, Options{})
	var res *http.Response
	msg, err := anthropicClient(s).Messages.New(t.Context(), anthropic.MessageNewParams{
		Model:     "claude-test",
		MaxTokens: 100,
		System:    []anthropic.TextBlockParam{{Text: "Be brief."}, {Text: "Be kind."}},
		Messages: []anthropic.MessageParam{
			anthropic.NewUserMessage(anthropic.NewTextBlock("alpha beta gamma")),
			anthropic.NewAssistantMessage(anthropic.NewTextBlock("noted")),
			anthropic.NewUserMessage(anthropic.NewTextBlock("delta")),
		},
	}, aoption.WithResponseInto(&res))
	if err != nil {
		t.Fatal(err)
	}

	reqs := s.Requests()
	if len(reqs) != 1 {
		t.Fatalf("recorded %d requests, want 1", len(reqs))
	}
	got := reqs[0]
	want := Request{API: APIAnthropic, Path: "/v1/messages", Model: "claude-test", System: "Be brief.\n\nBe kind.",
		Prompt: "alpha beta gamma\n\ndelta", MaxTokens: 100, APIKey: "k"}
	got.Header = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("recorded %+v, want %+v", got, want)
	}
	if v := reqs[0].Header.Get("anthropic-version"); v == "" {
		t.Error("recorded headers lack anthropic-version")
	}

	text := DefaultReply(want)
	if len(msg.Content) != 1 || msg.Content[0].Type != "text" || msg.Content[0].Text != text {
		t.Errorf("content = %+v, want one text block %q", msg.Content, text)
	}
	// 4 system words + 3 + 1 + 1 message words; the reply is DefaultReplyWords.
	if msg.Usage.InputTokens != 9 || msg.Usage.OutputTokens != DefaultReplyWords {
		t.Errorf("usage = %d in, %d out; want 9, %d", msg.Usage.InputTokens, msg.Usage.OutputTokens, DefaultReplyWords)
	}
	if msg.StopReason != anthropic.StopReasonEndTurn || msg.Model != "claude-test" || !strings.HasPrefix(msg.ID, "msg_") {
		t.Errorf("stop %q, model %q, id %q", msg.StopReason, msg.Model, msg.ID)
	}
	if res.Header.Get("request-id") == "" {
		t.Error("response lacks request-id")
	}
	if res.Header.Get("anthropic-ratelimit-tokens-limit") != "" {
		t.Error("rate-limit headers sent without TokensPerMinute")
	}

	st := s.Stats()
	if st.Requests != 1 || st.Succeeded != 1 || st.InputTokens != 9 || st.OutputTokens != DefaultReplyWords || st.InFlight != 0 {
		t.Errorf("stats = %+v", st)
	}
	if sv := s.Served(); len(sv) != 1 || sv[0].InputTokens != 9 || sv[0].OutputTokens != DefaultReplyWords || sv[0].At.IsZero() {
		t.Errorf("served = %+v", sv)
	}
}

func TestAnthropicStream(t *testing.T) {
	const reply = "one two three four five six seven"
	var seen Request
	var mu sync.Mutex
	s := newServer(t, Options{ChunkWords: 3, Reply: func(r Request) string {
		mu.Lock()
		defer mu.Unlock()
		seen = r
		return reply
	}})
	msg, deltas, err := anthropicStream(t.Context(), anthropicClient(s), anthropicParams("hello there", 50))
	if err != nil {
		t.Fatal(err)
	}
	if len(msg.Content) != 1 || msg.Content[0].Text != reply {
		t.Errorf("content = %+v, want %q", msg.Content, reply)
	}
	if deltas != 3 {
		t.Errorf("got %d deltas, want 3 (7 words at 3 a chunk)", deltas)
	}
	if msg.Usage.InputTokens != 2 || msg.Usage.OutputTokens != 7 || msg.StopReason != anthropic.StopReasonEndTurn {
		t.Errorf("usage %d/%d, stop %q", msg.Usage.InputTokens, msg.Usage.OutputTokens, msg.StopReason)
	}
	mu.Lock()
	defer mu.Unlock()
	if !seen.Stream || seen.Prompt != "hello there" {
		t.Errorf("Reply saw %+v", seen)
	}
	if st := s.Stats(); st.Succeeded != 1 || st.OutputTokens != 7 {
		t.Errorf("stats = %+v", st)
	}
}

func TestOpenAICompletion(t *testing.T) {
	s := newServer(t, Options{})
	var res *http.Response
	cc, err := openaiClient(s).Chat.Completions.New(t.Context(), openai.ChatCompletionNewParams{
		Model: "gpt-test",
		Messages: []openai.ChatCompletionMessageParamUnion{
			openai.SystemMessage("Be brief."),
			openai.DeveloperMessage("Use English."),
			openai.UserMessage([]openai.ChatCompletionContentPartUnionParam{openai.TextContentPart("alpha beta"), openai.TextContentPart("gamma")}),
			openai.AssistantMessage("noted"),
			openai.UserMessage("delta"),
		},
		MaxTokens: openai.Int(100),
	}, ooption.WithResponseInto(&res))
	if err != nil {
		t.Fatal(err)
	}
	got := s.Requests()[0]
	got.Header = nil
	want := Request{API: APIOpenAI, Path: "/v1/chat/completions", Model: "gpt-test", System: "Be brief.\n\nUse English.",
		Prompt: "alpha beta\n\ngamma\n\ndelta", MaxTokens: 100, APIKey: "k"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("recorded %+v, want %+v", got, want)
	}
	text := DefaultReply(want)
	if len(cc.Choices) != 1 || cc.Choices[0].Message.Content != text || cc.Choices[0].FinishReason != "stop" || cc.Choices[0].Message.Role != "assistant" {
		t.Errorf("choices = %+v, want %q", cc.Choices, text)
	}
	// 2 system + 2 developer + 3 user + 1 assistant + 1 user words.
	if cc.Usage.PromptTokens != 9 || cc.Usage.CompletionTokens != DefaultReplyWords || cc.Usage.TotalTokens != 9+DefaultReplyWords {
		t.Errorf("usage = %+v", cc.Usage)
	}
	if cc.Object != "chat.completion" || cc.Model != "gpt-test" || !strings.HasPrefix(cc.ID, "chatcmpl-") {
		t.Errorf("object %q, model %q, id %q", cc.Object, cc.Model, cc.ID)
	}
	if res.Header.Get("x-request-id") == "" {
		t.Error("response lacks x-request-id")
	}
}

func TestOpenAIStream(t *testing.T) {
	const reply = "one two three four five"
	for _, includeUsage := range []bool{true, false} {
		t.Run(map[bool]string{true: "include_usage", false: "no_usage"}[includeUsage], func(t *testing.T) {
			s := newServer(t, Options{ChunkWords: 2, Reply: func(Request) string { return reply }})
			p := openaiParams("hello there", 0)
			if includeUsage {
				p.StreamOptions.IncludeUsage = openai.Bool(true)
			}
			cc, deltas, err := openaiStream(t.Context(), openaiClient(s), p)
			if err != nil {
				t.Fatal(err)
			}
			if len(cc.Choices) != 1 || cc.Choices[0].Message.Content != reply || cc.Choices[0].FinishReason != "stop" || cc.Choices[0].Message.Role != "assistant" {
				t.Errorf("choices = %+v", cc.Choices)
			}
			if deltas != 3 {
				t.Errorf("got %d deltas, want 3", deltas)
			}
			wantIn, wantOut := int64(0), int64(0)
			if includeUsage {
				wantIn, wantOut = 2, 5
			}
			if cc.Usage.PromptTokens != wantIn || cc.Usage.CompletionTokens != wantOut || cc.Usage.TotalTokens != wantIn+wantOut {
				t.Errorf("usage = %+v, want %d in, %d out", cc.Usage, wantIn, wantOut)
			}
			if r := s.Requests()[0]; !r.Stream || r.IncludeUsage != includeUsage || r.MaxTokens != 0 {
				t.Errorf("recorded %+v", r)
			}
		})
	}
}

// TestMaxTokens checks truncation in all four modes, and that whitespace
// inside the reply survives streaming.
func TestMaxTokens(t *testing.T) {
	const reply = "one two\nthree four five"
	const want = "one two\nthree"
	s := newServer(t, Options{Reply: func(Request) string { return reply }})
	ac, oc := anthropicClient(s), openaiClient(s)
	ctx := t.Context()

	msg, err := ac.Messages.New(ctx, anthropicParams("p", 3))
	if err != nil || msg.Content[0].Text != want || msg.StopReason != anthropic.StopReasonMaxTokens || msg.Usage.OutputTokens != 3 {
		t.Errorf("anthropic: %v, %+v", err, msg)
	}
	msg2, _, err := anthropicStream(ctx, ac, anthropicParams("p", 3))
	if err != nil || msg2.Content[0].Text != want || msg2.StopReason != anthropic.StopReasonMaxTokens || msg2.Usage.OutputTokens != 3 {
		t.Errorf("anthropic stream: %v, %+v", err, msg2)
	}
	cc, err := oc.Chat.Completions.New(ctx, openaiParams("p", 3))
	if err != nil || cc.Choices[0].Message.Content != want || cc.Choices[0].FinishReason != "length" || cc.Usage.CompletionTokens != 3 {
		t.Errorf("openai: %v, %+v", err, cc)
	}
	p := openaiParams("p", 3)
	p.StreamOptions.IncludeUsage = openai.Bool(true)
	cc2, _, err := openaiStream(ctx, oc, p)
	if err != nil || cc2.Choices[0].Message.Content != want || cc2.Choices[0].FinishReason != "length" || cc2.Usage.CompletionTokens != 3 {
		t.Errorf("openai stream: %v, %+v", err, cc2)
	}
	// Untruncated, the whole reply comes back, trailing words included.
	msg3, _, err := anthropicStream(ctx, ac, anthropicParams("p", 5))
	if err != nil || msg3.Content[0].Text != reply || msg3.StopReason != anthropic.StopReasonEndTurn {
		t.Errorf("anthropic stream at the limit: %v, %+v", err, msg3)
	}
}

// TestErrorFaults checks that every error fault reaches each SDK, streaming
// or not, as its API error with the right status, type and retry-after.
func TestErrorFaults(t *testing.T) {
	cases := []struct {
		kind                FaultKind
		anthropicStatus     int
		anthropicType       string
		openaiStatus        int
		openaiType, openaiC string
	}{
		{FaultRateLimited, 429, "rate_limit_error", 429, "requests", "rate_limit_exceeded"},
		{FaultOverloaded, 529, "overloaded_error", 503, "server_error", ""},
		{FaultServerError, 500, "api_error", 500, "server_error", ""},
		{FaultUnauthorized, 401, "authentication_error", 401, "invalid_request_error", "invalid_api_key"},
		{FaultBadRequest, 400, "invalid_request_error", 400, "invalid_request_error", ""},
	}
	s := newServer(t, Options{})
	ac, oc := anthropicClient(s), openaiClient(s)
	ctx := t.Context()
	for _, tc := range cases {
		for _, stream := range []bool{false, true} {
			name := tc.kind.String()
			if stream {
				name += "/stream"
			}
			t.Run(name, func(t *testing.T) {
				checkHeaders := func(res *http.Response) {
					t.Helper()
					if got := res.Header.Get("retry-after"); got != "2" {
						t.Errorf("retry-after = %q, want 2 (1.5 s rounded up)", got)
					}
					if got := res.Header.Get("retry-after-ms"); got != "1500" {
						t.Errorf("retry-after-ms = %q, want 1500", got)
					}
				}

				s.Enqueue(Fault{Kind: tc.kind, RetryAfter: 1500 * time.Millisecond})
				var err error
				if stream {
					_, _, err = anthropicStream(ctx, ac, anthropicParams("p", 10))
				} else {
					_, err = ac.Messages.New(ctx, anthropicParams("p", 10))
				}
				var aerr *anthropic.Error
				if !errors.As(err, &aerr) {
					t.Fatalf("anthropic: got %v, want *anthropic.Error", err)
				}
				if aerr.StatusCode != tc.anthropicStatus || string(aerr.Type()) != tc.anthropicType || !strings.HasPrefix(aerr.RequestID, "req_") {
					t.Errorf("anthropic: status %d, type %q, request id %q", aerr.StatusCode, aerr.Type(), aerr.RequestID)
				}
				checkHeaders(aerr.Response)

				s.Enqueue(Fault{Kind: tc.kind, RetryAfter: 1500 * time.Millisecond})
				if stream {
					_, _, err = openaiStream(ctx, oc, openaiParams("p", 10))
				} else {
					_, err = oc.Chat.Completions.New(ctx, openaiParams("p", 10))
				}
				var oerr *openai.Error
				if !errors.As(err, &oerr) {
					t.Fatalf("openai: got %v, want *openai.Error", err)
				}
				if oerr.StatusCode != tc.openaiStatus || oerr.Type != tc.openaiType || oerr.Code != tc.openaiC || oerr.Message == "" {
					t.Errorf("openai: status %d, type %q, code %q, message %q", oerr.StatusCode, oerr.Type, oerr.Code, oerr.Message)
				}
				checkHeaders(oerr.Response)

				// The fault was consumed: the next call succeeds.
				if _, err := ac.Messages.New(ctx, anthropicParams("p", 10)); err != nil {
					t.Errorf("call after the fault: %v", err)
				}
			})
		}
	}
	if st := s.Stats(); st.Faults != 2*2*len(cases) || st.RateLimited != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestFaultWithoutRetryAfter(t *testing.T) {
	s := newServer(t, Options{})
	s.Enqueue(Fault{Kind: FaultRateLimited})
	_, err := anthropicClient(s).Messages.New(t.Context(), anthropicParams("p", 10))
	var aerr *anthropic.Error
	if !errors.As(err, &aerr) || aerr.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("got %v, want a 429", err)
	}
	if h := aerr.Response.Header; h.Get("retry-after") != "" || h.Get("retry-after-ms") != "" {
		t.Errorf("retry-after sent for a zero RetryAfter: %v", h)
	}
}

func TestCutStream(t *testing.T) {
	s := newServer(t, Options{})
	ac, oc := anthropicClient(s), openaiClient(s)
	ctx := t.Context()

	s.Enqueue(Fault{Kind: FaultCutStream, AfterChunks: 2})
	msg, deltas, err := anthropicStream(ctx, ac, anthropicParams("p", 100))
	if err == nil {
		t.Fatal("anthropic: cut stream ended without error")
	}
	if deltas != 2 || len(msg.Content) != 1 || msg.Content[0].Text != "Summary: p" {
		t.Errorf("anthropic: %d deltas, content %+v; want 2 deltas of the reply", deltas, msg.Content)
	}

	s.Enqueue(Fault{Kind: FaultCutStream, AfterChunks: 2})
	cc, deltas, err := openaiStream(ctx, oc, openaiParams("p", 100))
	if err == nil {
		t.Fatal("openai: cut stream ended without error")
	}
	if deltas != 2 || cc.Choices[0].Message.Content != "Summary: p" {
		t.Errorf("openai: %d deltas, content %+v; want 2 deltas of the reply", deltas, cc.Choices)
	}

	// Without streaming the connection drops before any response, which the
	// SDKs report as a transport error rather than an API error.
	s.Enqueue(Fault{Kind: FaultCutStream}, Fault{Kind: FaultCutStream})
	_, err = ac.Messages.New(ctx, anthropicParams("p", 100))
	var aerr *anthropic.Error
	if err == nil || errors.As(err, &aerr) {
		t.Errorf("anthropic: got %v, want a transport error", err)
	}
	_, err = oc.Chat.Completions.New(ctx, openaiParams("p", 100))
	var oerr *openai.Error
	if err == nil || errors.As(err, &oerr) {
		t.Errorf("openai: got %v, want a transport error", err)
	}

	if st := s.Stats(); st.Succeeded != 0 || st.Faults != 4 || st.Requests != 4 {
		t.Errorf("stats = %+v", st)
	}
	waitFor(t, "handlers to finish", func() bool { return s.Stats().InFlight == 0 })
}

func TestMalformed(t *testing.T) {
	s := newServer(t, Options{})
	ac, oc := anthropicClient(s), openaiClient(s)
	ctx := t.Context()
	s.Enqueue(Fault{Kind: FaultMalformed}, Fault{Kind: FaultMalformed}, Fault{Kind: FaultMalformed}, Fault{Kind: FaultMalformed})

	var aerr *anthropic.Error
	var oerr *openai.Error
	if _, err := ac.Messages.New(ctx, anthropicParams("p", 10)); err == nil || errors.As(err, &aerr) {
		t.Errorf("anthropic: got %v, want a decoding error", err)
	}
	if _, _, err := anthropicStream(ctx, ac, anthropicParams("p", 10)); err == nil || errors.As(err, &aerr) {
		t.Errorf("anthropic stream: got %v, want a decoding error", err)
	}
	if _, err := oc.Chat.Completions.New(ctx, openaiParams("p", 10)); err == nil || errors.As(err, &oerr) {
		t.Errorf("openai: got %v, want a decoding error", err)
	}
	if _, _, err := openaiStream(ctx, oc, openaiParams("p", 10)); err == nil || errors.As(err, &oerr) {
		t.Errorf("openai stream: got %v, want a decoding error", err)
	}
	if st := s.Stats(); st.Succeeded != 0 || st.Faults != 4 {
		t.Errorf("stats = %+v", st)
	}
}

func TestSlow(t *testing.T) {
	const delay = 30 * time.Millisecond
	s := newServer(t, Options{})
	s.Enqueue(Fault{Kind: FaultSlow, Delay: delay})
	start := time.Now()
	msg, _, err := anthropicStream(t.Context(), anthropicClient(s), anthropicParams("p", 10))
	if err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed < delay {
		t.Errorf("answered after %v, before the %v delay", elapsed, delay)
	}
	if msg.Content[0].Text != "Summary: p p p p p p p p p" {
		t.Errorf("content = %q", msg.Content[0].Text)
	}
	if st := s.Stats(); st.Faults != 1 || st.Succeeded != 1 {
		t.Errorf("stats = %+v", st)
	}
}

// TestSlowReleasedByClient checks that a slow request whose client gives up
// does not keep its handler, which would leak goroutines in benchmarks.
func TestSlowReleasedByClient(t *testing.T) {
	s := newServer(t, Options{})
	s.FailAll(&Fault{Kind: FaultSlow, Delay: time.Hour})
	ctx, cancel := context.WithCancel(t.Context())
	errs := make(chan error, 2)
	go func() {
		_, err := anthropicClient(s).Messages.New(ctx, anthropicParams("p", 10))
		errs <- err
	}()
	go func() {
		_, err := openaiClient(s).Chat.Completions.New(ctx, openaiParams("p", 10))
		errs <- err
	}()
	waitFor(t, "both requests to arrive", func() bool { return s.Stats().InFlight == 2 })
	cancel()
	for range 2 {
		if err := <-errs; !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
	}
	waitFor(t, "the handlers to return", func() bool { return s.Stats().InFlight == 0 })
	if st := s.Stats(); st.MaxInFlight != 2 || st.Succeeded != 0 || st.Faults != 2 {
		t.Errorf("stats = %+v", st)
	}
}

func TestFaultOrder(t *testing.T) {
	s := newServer(t, Options{})
	ac := anthropicClient(s)
	status := func() int {
		t.Helper()
		_, err := ac.Messages.New(t.Context(), anthropicParams("p", 10))
		var aerr *anthropic.Error
		switch {
		case err == nil:
			return http.StatusOK
		case errors.As(err, &aerr):
			return aerr.StatusCode
		default:
			t.Fatal(err)
			return 0
		}
	}
	s.Enqueue(Fault{Kind: FaultServerError}, Fault{Kind: FaultUnauthorized})
	s.Enqueue(Fault{Kind: FaultBadRequest})
	if got := []int{status(), status()}; got[0] != 500 || got[1] != 401 {
		t.Errorf("statuses = %v, want [500 401]", got)
	}
	// FailAll overrides the queue without consuming it.
	s.FailAll(&Fault{Kind: FaultOverloaded})
	if got := []int{status(), status()}; got[0] != 529 || got[1] != 529 {
		t.Errorf("statuses under FailAll = %v, want [529 529]", got)
	}
	s.FailAll(nil)
	if got := []int{status(), status()}; got[0] != 400 || got[1] != 200 {
		t.Errorf("statuses after FailAll(nil) = %v, want [400 200]", got)
	}
	if st := s.Stats(); st.Faults != 5 || st.Succeeded != 1 || st.Requests != 6 {
		t.Errorf("stats = %+v", st)
	}
}

func TestEnqueueRejectsUnknownKind(t *testing.T) {
	for _, f := range []func(s *Server){
		func(s *Server) { s.Enqueue(Fault{}) },
		func(s *Server) { s.FailAll(&Fault{Kind: 99}) },
	} {
		s := newServer(t, Options{})
		func() {
			defer func() {
				if recover() == nil {
					t.Error("an unknown fault kind was accepted")
				}
			}()
			f(s)
		}()
	}
}

// fakeClock is a settable clock for the token bucket.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestTokenBucketAnthropic walks a 100-token-per-minute bucket through
// admissions, refunds, a 429 and its recovery. Every request has 5 input
// tokens and max_tokens 60, so it needs 65 tokens, and uses 5 + 10.
func TestTokenBucketAnthropic(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	s := newServer(t, Options{TokensPerMinute: 100, Now: clock.Now, Reply: func(Request) string { return "a b c d e f g h i j" }})
	ac := anthropicClient(s)
	call := func() (*http.Response, error) {
		var res *http.Response
		_, err := ac.Messages.New(t.Context(), anthropicParams("p1 p2 p3 p4 p5", 60), aoption.WithResponseInto(&res))
		return res, err
	}

	// 100 → 35 remaining at admission, then 50 refunded. Without refunds
	// the second call would be limited; with them each call leaves 15 fewer.
	for i, want := range []string{"35", "20", "5"} {
		res, err := call()
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if got := res.Header.Get("anthropic-ratelimit-tokens-remaining"); got != want {
			t.Errorf("call %d: remaining = %s, want %s", i, got, want)
		}
		if got := res.Header.Get("anthropic-ratelimit-tokens-limit"); got != "100" {
			t.Errorf("call %d: limit = %s, want 100", i, got)
		}
		if _, err := time.Parse(time.RFC3339, res.Header.Get("anthropic-ratelimit-tokens-reset")); err != nil {
			t.Errorf("call %d: reset: %v", i, err)
		}
	}

	// 55 left, 65 needed: the 10 missing tokens take 6 s at 100 a minute.
	checkLimited := func(wantRetry, wantRemaining string) {
		t.Helper()
		_, err := call()
		var aerr *anthropic.Error
		if !errors.As(err, &aerr) || aerr.StatusCode != http.StatusTooManyRequests || aerr.Type() != "rate_limit_error" {
			t.Fatalf("got %v, want a 429 rate_limit_error", err)
		}
		if got := aerr.Response.Header.Get("retry-after"); got != wantRetry {
			t.Errorf("retry-after = %q, want %q", got, wantRetry)
		}
		if got := aerr.Response.Header.Get("anthropic-ratelimit-tokens-remaining"); got != wantRemaining {
			t.Errorf("remaining = %q, want %q", got, wantRemaining)
		}
	}
	checkLimited("6", "55")
	clock.Advance(5900 * time.Millisecond) // 64.83 tokens: 0.1 s short
	checkLimited("1", "64")
	clock.Advance(100 * time.Millisecond)
	if _, err := call(); err != nil {
		t.Fatalf("after the wait: %v", err)
	}

	st := s.Stats()
	if st.RateLimited != 2 || st.Succeeded != 4 || st.Faults != 0 {
		t.Errorf("stats = %+v", st)
	}
	for _, sv := range s.Served() {
		if sv.InputTokens != 5 || sv.OutputTokens != 10 {
			t.Errorf("served = %+v", sv)
		}
	}
}

func TestTokenBucketOpenAIStream(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	s := newServer(t, Options{TokensPerMinute: 100, Now: clock.Now, Reply: func(Request) string { return "a b c d e f g h i j" }})
	oc := openaiClient(s)
	p := openaiParams("p1 p2 p3 p4 p5", 60)
	p.StreamOptions.IncludeUsage = openai.Bool(true)

	// The refund of a stream happens before its end reaches the client, so
	// the next call sees it.
	for i, want := range []string{"35", "20"} {
		var res *http.Response
		cc, _, err := openaiStream(t.Context(), oc, p, ooption.WithResponseInto(&res))
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		if cc.Usage.TotalTokens != 15 {
			t.Errorf("call %d: usage = %+v", i, cc.Usage)
		}
		if got := res.Header.Get("x-ratelimit-remaining-tokens"); got != want {
			t.Errorf("call %d: remaining = %s, want %s", i, got, want)
		}
		if got := res.Header.Get("x-ratelimit-limit-tokens"); got != "100" {
			t.Errorf("call %d: limit = %s", i, got)
		}
		if d, err := time.ParseDuration(res.Header.Get("x-ratelimit-reset-tokens")); err != nil || d <= 0 {
			t.Errorf("call %d: reset = %q", i, res.Header.Get("x-ratelimit-reset-tokens"))
		}
	}

	// A 200-token request can never fit a 100-token bucket: no retry-after,
	// and x-should-retry: false so that retrying SDKs give up.
	_, _, err := openaiStream(t.Context(), oc, openaiParams("p", 200))
	var oerr *openai.Error
	if !errors.As(err, &oerr) || oerr.StatusCode != http.StatusTooManyRequests || oerr.Type != "tokens" || oerr.Code != "rate_limit_exceeded" {
		t.Fatalf("got %v, want a 429 tokens error", err)
	}
	if h := oerr.Response.Header; h.Get("x-should-retry") != "false" || h.Get("retry-after") != "" {
		t.Errorf("headers = %v", h)
	}

	// The rejected request cost nothing: 70 tokens are left, so a third
	// call fits and leaves 55 after its refund, and a fourth needs 6 s more.
	if _, _, err := openaiStream(t.Context(), oc, p); err != nil {
		t.Fatal(err)
	}
	_, err = oc.Chat.Completions.New(t.Context(), openaiParams("p1 p2 p3 p4 p5", 60))
	if !errors.As(err, &oerr) || oerr.StatusCode != http.StatusTooManyRequests || oerr.Response.Header.Get("retry-after") != "6" {
		t.Fatalf("got %v, want a 429 with retry-after 6", err)
	}
	if st := s.Stats(); st.RateLimited != 2 || st.Succeeded != 3 {
		t.Errorf("stats = %+v", st)
	}
}

// TestProtocolErrors covers the errors the fake answers on its own: a
// missing key, an invalid body and an unknown path.
func TestProtocolErrors(t *testing.T) {
	s := newServer(t, Options{})
	post := func(path string, header map[string]string, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL()+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, string(b)
	}
	const valid = `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`
	cases := []struct {
		name, path string
		header     map[string]string
		body       string
		status     int
		contains   string
	}{
		{"anthropic no key", "/v1/messages", nil, valid, 401, `"type":"authentication_error"`},
		{"anthropic no max_tokens", "/v1/messages", map[string]string{"x-api-key": "k"}, `{"model":"m","messages":[{"role":"user","content":"hi"}]}`, 400, `"type":"invalid_request_error"`},
		{"anthropic bad content", "/v1/messages", map[string]string{"x-api-key": "k"}, `{"model":"m","max_tokens":5,"messages":[{"role":"user","content":5}]}`, 400, `"type":"invalid_request_error"`},
		{"anthropic valid", "/v1/messages", map[string]string{"x-api-key": "k"}, valid, 200, `"stop_reason":"max_tokens"`},
		{"openai no key", "/v1/chat/completions", nil, valid, 401, `"code":"invalid_api_key"`},
		{"openai bad json", "/v1/chat/completions", map[string]string{"Authorization": "Bearer k"}, `{`, 400, `"type":"invalid_request_error"`},
		{"openai valid", "/v1/chat/completions", map[string]string{"Authorization": "Bearer k"}, valid, 200, `"finish_reason":"length"`},
		{"unknown anthropic path", "/v1/nope", map[string]string{"anthropic-version": "2023-06-01"}, valid, 404, `"type":"not_found_error"`},
		{"unknown openai path", "/v1/nope", nil, valid, 404, `"error":{`},
	}
	for _, tc := range cases {
		status, body := post(tc.path, tc.header, tc.body)
		if status != tc.status || !strings.Contains(body, tc.contains) {
			t.Errorf("%s: %d %s; want %d containing %s", tc.name, status, body, tc.status, tc.contains)
		}
	}
	if st := s.Stats(); st.Requests != len(cases) || st.Succeeded != 2 {
		t.Errorf("stats = %+v", st)
	}
}

// TestUnknownPathsThroughSDKs checks that the 404s decode as each SDK's API
// error.
func TestUnknownPathsThroughSDKs(t *testing.T) {
	s := newServer(t, Options{})
	_, err := anthropicClient(s).Models.Get(t.Context(), "claude-test", anthropic.ModelGetParams{})
	var aerr *anthropic.Error
	if !errors.As(err, &aerr) || aerr.StatusCode != http.StatusNotFound || aerr.Type() != "not_found_error" {
		t.Errorf("anthropic: got %v, want a 404 not_found_error", err)
	}
	_, err = openaiClient(s).Models.Get(t.Context(), "gpt-test")
	var oerr *openai.Error
	if !errors.As(err, &oerr) || oerr.StatusCode != http.StatusNotFound || oerr.Type != "invalid_request_error" {
		t.Errorf("openai: got %v, want a 404 invalid_request_error", err)
	}
}

func TestShape(t *testing.T) {
	out := shape("  a b\n\nc d ", 0, 2)
	if out.text != "  a b\n\nc d " || out.words != 4 || out.truncated || len(out.chunks) != 2 || out.chunks[0] != "  a b" {
		t.Errorf("untruncated: %+v", out)
	}
	out = shape("  a b\n\nc d ", 3, 2)
	if out.text != "  a b\n\nc" || out.words != 3 || !out.truncated || out.wordsBefore(1) != 2 || out.wordsBefore(2) != 3 {
		t.Errorf("truncated: %+v", out)
	}
	if out := shape(" \n ", 0, 1); out.text != "" || out.words != 0 || len(out.chunks) != 0 {
		t.Errorf("blank: %+v", out)
	}
	if got := CountTokens(DefaultReply(Request{})); got != DefaultReplyWords {
		t.Errorf("DefaultReply has %d words, want %d", got, DefaultReplyWords)
	}
}
