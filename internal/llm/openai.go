package llm

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// openAIProvider streams from the Chat Completions API of OpenAI or of an
// OpenAI-compatible server (Ollama, vLLM, llama.cpp).
type openAIProvider struct {
	base
	chat openai.ChatCompletionService
	// hosted is true for api.openai.com, which takes max_completion_tokens;
	// see Stream.
	hosted bool
}

func newOpenAI(b base, baseURL string, hc *http.Client) *openAIProvider {
	// The service is built directly rather than through openai.NewClient,
	// which always applies OPENAI_BASE_URL, OPENAI_ORG_ID,
	// OPENAI_PROJECT_ID and OPENAI_CUSTOM_HEADERS from the environment and
	// would send them to an OpenAI-compatible server too.
	opts := []option.RequestOption{
		option.WithEnvironmentProduction(),
		option.WithHTTPClient(hc),
		option.WithMaxRetries(0),
	}
	if b.key != "" {
		opts = append(opts, option.WithAPIKey(b.key))
	}
	hosted := true
	if baseURL != "" {
		opts = append(opts, option.WithBaseURL(baseURL))
		u, _ := url.Parse(baseURL) // New validated it
		hosted = strings.EqualFold(u.Hostname(), "api.openai.com")
	}
	return &openAIProvider{base: b, chat: openai.NewChatCompletionService(opts...), hosted: hosted}
}

// Stream implements Provider.
func (p *openAIProvider) Stream(ctx context.Context, req Request, onDelta func(chunk string)) (Response, error) {
	model, callCtx, cancel, bad := p.start(ctx, req)
	if bad != nil {
		return Response{Model: model}, bad
	}
	defer cancel()

	var msgs []openai.ChatCompletionMessageParamUnion
	if req.System != "" {
		msgs = append(msgs, openai.SystemMessage(req.System))
	}
	msgs = append(msgs, openai.UserMessage(req.Prompt))
	params := openai.ChatCompletionNewParams{
		Model:    model,
		Messages: msgs,
		// Without it the stream carries no token counts at all.
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	}
	if req.MaxTokens > 0 {
		// OpenAI deprecated max_tokens and its reasoning models (o-series,
		// gpt-5) reject it, so the hosted API gets max_completion_tokens.
		// Compatible servers get max_tokens: Ollama documents only that
		// one, and vLLM and llama.cpp accept it too.
		if p.hosted {
			params.MaxCompletionTokens = openai.Int(req.MaxTokens)
		} else {
			params.MaxTokens = openai.Int(req.MaxTokens)
		}
	}
	if req.Temperature != nil {
		params.Temperature = openai.Float(*req.Temperature)
	}

	var x exchange
	stream := p.chat.NewStreaming(callCtx, params, option.WithMiddleware(x.record))
	defer stream.Close()

	var (
		acc      openai.ChatCompletionAccumulator
		text     strings.Builder
		usage    Usage
		gotUsage bool
		finish   string
		err      error
	)
	for stream.Next() {
		chunk := stream.Current()
		if !acc.AddChunk(chunk) {
			err = fmt.Errorf("%w: chunk %q could not be accumulated", errMalformed, chunk.ID)
			break
		}
		for _, c := range chunk.Choices {
			if c.Index != 0 {
				continue
			}
			if c.Delta.Content != "" {
				text.WriteString(c.Delta.Content)
				if onDelta != nil {
					onDelta(c.Delta.Content)
				}
			}
			if c.FinishReason != "" {
				finish = c.FinishReason
			}
		}
		// Taken from the chunk rather than the accumulator, which sums
		// usage over chunks: servers that report running totals in every
		// chunk (vLLM's continuous usage stats) would be counted many times.
		if chunk.JSON.Usage.Valid() {
			gotUsage = true
			usage = Usage{
				InputTokens:       chunk.Usage.PromptTokens,
				OutputTokens:      chunk.Usage.CompletionTokens,
				CachedInputTokens: chunk.Usage.PromptTokensDetails.CachedTokens,
			}
		}
	}
	if err == nil {
		err = stream.Err()
	}
	// The answer is complete once choice 0 has a finish reason; a
	// compatible server that ignores include_usage still succeeds, with
	// estimated output tokens.
	if err == nil && finish == "" {
		err = x.endedEarly()
	}

	resp := partial(text.String(), acc.Model, finish, usage, gotUsage)
	if resp.Model == "" {
		resp.Model = model
	}
	if err != nil {
		return resp, p.classify(ctx, callCtx, &x, err, model, len(resp.Text))
	}
	return resp, nil
}
