package llm

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/anthropics/anthropic-sdk-go/option"
)

// anthropicProvider streams from Anthropic's Messages API.
type anthropicProvider struct {
	base
	client anthropic.Client
}

func newAnthropic(b base, baseURL string, hc *http.Client) *anthropicProvider {
	opts := []option.RequestOption{
		// Without this the SDK reads ANTHROPIC_* variables and profile
		// files, which could swap in another key or base URL than the
		// configured one.
		option.WithoutEnvironmentDefaults(),
		option.WithAPIKey(b.key),
		option.WithHTTPClient(hc),
		option.WithMaxRetries(0),
	}
	if baseURL != "" {
		opts = append(opts, option.WithBaseURL(baseURL))
	}
	return &anthropicProvider{base: b, client: anthropic.NewClient(opts...)}
}

// Stream implements Provider.
func (p *anthropicProvider) Stream(ctx context.Context, req Request, onDelta func(chunk string)) (Response, error) {
	model, callCtx, cancel, bad := p.start(ctx, req)
	if bad != nil {
		return Response{Model: model}, bad
	}
	defer cancel()

	params := anthropic.MessageNewParams{
		Model:     anthropic.Model(model),
		MaxTokens: req.MaxTokens,
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(req.Prompt))},
	}
	if params.MaxTokens <= 0 {
		params.MaxTokens = DefaultAnthropicMaxTokens
	}
	if req.System != "" {
		params.System = []anthropic.TextBlockParam{{Text: req.System}}
	}
	if req.Temperature != nil {
		params.Temperature = anthropic.Float(*req.Temperature)
	}

	var x exchange
	stream := p.client.Messages.NewStreaming(callCtx, params, option.WithMiddleware(x.record))
	defer stream.Close()

	var (
		msg      anthropic.Message
		text     strings.Builder
		gotDone  bool // message_stop: the answer is complete
		gotUsage bool // message_delta: the final output count arrived
		err      error
	)
	for stream.Next() {
		ev := stream.Current()
		if aerr := msg.Accumulate(ev); aerr != nil {
			err = fmt.Errorf("%w: %w", errMalformed, aerr)
			break
		}
		switch ev := ev.AsAny().(type) {
		case anthropic.ContentBlockDeltaEvent:
			if d, ok := ev.Delta.AsAny().(anthropic.TextDelta); ok && d.Text != "" {
				text.WriteString(d.Text)
				if onDelta != nil {
					onDelta(d.Text)
				}
			}
		case anthropic.MessageDeltaEvent:
			gotUsage = true
		case anthropic.MessageStopEvent:
			gotDone = true
		}
	}
	if err == nil {
		err = stream.Err()
	}
	if err == nil && !gotDone {
		err = x.endedEarly()
	}

	resp := partial(text.String(), string(msg.Model), string(msg.StopReason), Usage{
		InputTokens:       msg.Usage.InputTokens + msg.Usage.CacheReadInputTokens + msg.Usage.CacheCreationInputTokens,
		OutputTokens:      msg.Usage.OutputTokens,
		CachedInputTokens: msg.Usage.CacheReadInputTokens,
	}, gotUsage)
	if resp.Model == "" {
		resp.Model = model
	}
	if err != nil {
		return resp, p.classify(ctx, callCtx, &x, err, model, len(resp.Text))
	}
	return resp, nil
}
