package llm

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/anthropics/anthropic-sdk-go"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/packages/ssestream"
)

// ErrorKind classifies a failure.
type ErrorKind string

// The kinds of failure; the values are stable, they name outcomes in the
// usage ledger.
const (
	// KindRateLimited: 429, or the account is out of quota or credit.
	KindRateLimited ErrorKind = "rate_limited"
	// KindOverloaded: 529 (Anthropic) or 503; the provider sheds load.
	KindOverloaded ErrorKind = "overloaded"
	// KindServer: another 5xx, or an error event in the stream.
	KindServer ErrorKind = "server"
	// KindTimeout: the call ran past CallTimeout or the caller's deadline.
	KindTimeout ErrorKind = "timeout"
	// KindNetwork: no response, or the stream was cut mid-way.
	KindNetwork ErrorKind = "network"
	// KindMalformed: a body or stream event that cannot be parsed.
	KindMalformed ErrorKind = "malformed"
	// KindAuth: 401 or 403; the key is wrong or may not do this.
	KindAuth ErrorKind = "auth"
	// KindBadRequest: 400, 413, 422 or another 4xx; the request itself is
	// wrong and would fail anywhere.
	KindBadRequest ErrorKind = "bad_request"
	// KindNotFound: 404, e.g. an unknown model or a wrong base URL.
	KindNotFound ErrorKind = "not_found"
	// KindCanceled: the caller canceled the call; nobody waits for an
	// answer, so there is nothing to retry.
	KindCanceled ErrorKind = "canceled"
)

// Error is a classified provider failure.
type Error struct {
	// Provider is the configured name of the provider that failed.
	Provider string
	// Kind classifies the failure.
	Kind ErrorKind
	// StatusCode is the HTTP status, 0 when no HTTP response arrived (and
	// 200 for a stream that failed after it began).
	StatusCode int
	// RetryAfter is how long the provider asked us to wait: from
	// retry-after-ms, retry-after (seconds or HTTP date), else, on a 429,
	// OpenAI's x-ratelimit-reset-requests/-tokens or Anthropic's
	// anthropic-ratelimit-*-reset; 0 = none given.
	RetryAfter time.Duration
	// Message is for users: it names the provider, the status and what to
	// fix, and never includes the API key.
	Message string
	// Err is the underlying error, usually the SDK's.
	Err error
}

// Error returns the message meant for users.
func (e *Error) Error() string {
	if e.Message != "" {
		return e.Message
	}
	return fmt.Sprintf("%s: %s: %v", e.Provider, e.Kind, e.Err)
}

// Unwrap returns the underlying error, so errors.As reaches the SDK's
// *anthropic.Error or *openai.Error and errors.Is reaches context errors.
func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether another attempt (same or next provider) may
// succeed: rate limited, overloaded, 5xx, timeout, network, malformed →
// true; auth, bad request, not found, canceled → false.
func (e *Error) Retryable() bool {
	if e == nil {
		return false
	}
	switch e.Kind {
	case KindRateLimited, KindOverloaded, KindServer, KindTimeout, KindNetwork, KindMalformed:
		return true
	}
	return false
}

// failure is what classify learned about a failed call before it is worded.
type failure struct {
	kind   ErrorKind
	status int
	header http.Header
	// quota: a 402 or an "insufficient_quota"/"billing_error": waiting for
	// a rate limit will not help, a top-up will.
	quota bool
	// midStream: the provider reported the error inside a 200 stream.
	midStream bool
	// detail is the provider's own explanation, if it gave one.
	detail string
}

// classify turns the error that ended a call into an *Error. The context
// comes first because a canceled or expired call surfaces as whatever the
// transport was doing at the time.
func (b *base) classify(ctx, callCtx context.Context, x *exchange, err error, model string, streamed int) *Error {
	e := &Error{Provider: b.name, StatusCode: x.status, Err: err}
	if ctxErr := ctx.Err(); ctxErr != nil {
		e.Err = withCause(ctxErr, err)
		if errors.Is(ctxErr, context.Canceled) {
			e.Kind = KindCanceled
			e.Message = fmt.Sprintf("the call to %s was canceled", b.name)
		} else {
			e.Kind = KindTimeout
			e.Message = fmt.Sprintf("%s did not finish before the caller's deadline", b.name)
		}
		return e
	}
	if errors.Is(callCtx.Err(), context.DeadlineExceeded) {
		e.Err = withCause(context.DeadlineExceeded, err)
		e.Kind = KindTimeout
		e.Message = fmt.Sprintf("%s did not finish within the %s call timeout: it is slow or stalled; try again, or raise the call timeout", b.name, b.timeout)
		return e
	}

	f := failure{status: x.status, header: x.header}
	var errType string
	var ae *anthropic.Error
	var oe *openai.Error
	var se *ssestream.StreamError
	switch {
	case errors.As(err, &ae):
		f.status = ae.StatusCode
		if ae.Response != nil {
			f.header = ae.Response.Header
		}
		errType = string(ae.Type())
		f.detail = bodyMessage([]byte(ae.RawJSON()))
		f.midStream = f.status < 400
	case errors.As(err, &oe):
		f.status = oe.StatusCode
		if oe.Response != nil {
			f.header = oe.Response.Header
		}
		errType = oe.Code + " " + oe.Type
		f.detail = oe.Message
	case errors.As(err, &se):
		var body struct {
			Error struct {
				Type    string `json:"type"`
				Code    any    `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		_ = json.Unmarshal(se.Event.Data, &body)
		errType = fmt.Sprint(body.Error.Code) + " " + body.Error.Type
		f.detail = cmp.Or(body.Error.Message, bodyMessage(se.Event.Data))
		f.midStream = true
	}
	if f.detail == "" && len(x.body) > 0 {
		f.detail = bodyMessage(x.body)
	}
	f.quota = f.status == http.StatusPaymentRequired ||
		strings.Contains(errType, "insufficient_quota") || strings.Contains(errType, "billing_error")

	switch {
	case f.status >= 400:
		f.kind = statusKind(f.status)
	case f.midStream:
		f.kind = typeKind(errType)
	case errors.Is(err, errNotStream), errors.Is(err, errMalformed), isJSONError(err):
		f.kind = KindMalformed
	default:
		f.kind = KindNetwork
	}
	if f.quota {
		f.kind = KindRateLimited
	}
	e.StatusCode = f.status
	e.Kind = f.kind
	e.RetryAfter = retryAfter(f.header, f.status == http.StatusTooManyRequests, time.Now())
	e.Message = b.redact(b.message(e, f, err, model, streamed))
	return e
}

// statusKind classifies an HTTP error status.
func statusKind(status int) ErrorKind {
	switch {
	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		return KindAuth
	case status == http.StatusNotFound:
		return KindNotFound
	case status == http.StatusTooManyRequests, status == http.StatusPaymentRequired:
		return KindRateLimited
	case status == http.StatusRequestTimeout:
		return KindTimeout
	case status == http.StatusConflict:
		// Both SDKs retry a 409: the providers use it for a transient
		// lock conflict, not for a wrong request.
		return KindServer
	case status == 529, status == http.StatusServiceUnavailable:
		return KindOverloaded
	case status >= 500:
		return KindServer
	default:
		return KindBadRequest
	}
}

// typeKind classifies an error reported inside a stream, which has only the
// provider's error type to go by (its HTTP status was 200).
func typeKind(errType string) ErrorKind {
	switch {
	case strings.Contains(errType, "overloaded"):
		return KindOverloaded
	case strings.Contains(errType, "rate_limit"), strings.Contains(errType, "insufficient_quota"), strings.Contains(errType, "billing"):
		return KindRateLimited
	case strings.Contains(errType, "authentication"), strings.Contains(errType, "permission"):
		return KindAuth
	case strings.Contains(errType, "not_found"):
		return KindNotFound
	case strings.Contains(errType, "invalid_request"), strings.Contains(errType, "request_too_large"):
		return KindBadRequest
	case strings.Contains(errType, "timeout"):
		return KindTimeout
	default:
		return KindServer
	}
}

// message words the failure for users.
func (b *base) message(e *Error, f failure, err error, model string, streamed int) string {
	status := ""
	if f.status >= 400 {
		status = fmt.Sprintf(" (%d)", f.status)
	}
	detail := ""
	if f.detail != "" {
		detail = ": " + f.detail
	}
	keyVar := b.keyVar
	if keyVar == "" {
		keyVar = "the API key configured for " + b.name
	}
	switch e.Kind {
	case KindAuth:
		// The provider's text is left out: OpenAI's quotes part of the key.
		if f.status == http.StatusForbidden {
			return fmt.Sprintf("%s denied the API key access%s: check that the key in %s may use model %q", b.name, status, keyVar, model)
		}
		return fmt.Sprintf("%s rejected the API key%s: check %s", b.name, status, keyVar)
	case KindRateLimited:
		if f.quota {
			return fmt.Sprintf("%s refused the request: the account is out of quota or credit%s: check its billing%s", b.name, status, detail)
		}
		wait := ""
		if e.RetryAfter > 0 {
			wait = ", retry after " + e.RetryAfter.String()
		}
		return fmt.Sprintf("%s rate limited the request%s%s%s", b.name, status, wait, detail)
	case KindOverloaded:
		return fmt.Sprintf("%s is overloaded%s: try again later or use another provider%s", b.name, status, detail)
	case KindServer:
		if f.midStream {
			return fmt.Sprintf("%s reported an error mid-stream: try again%s", b.name, detail)
		}
		return fmt.Sprintf("%s failed with a server error%s: try again later%s", b.name, status, detail)
	case KindTimeout:
		return fmt.Sprintf("%s timed out%s: try again%s", b.name, status, detail)
	case KindBadRequest:
		if f.midStream {
			return fmt.Sprintf("%s rejected the request mid-stream%s", b.name, detail)
		}
		return fmt.Sprintf("%s rejected the request%s: check the prompt, max_tokens and temperature%s", b.name, status, detail)
	case KindNotFound:
		return fmt.Sprintf("%s does not know model %q%s: check the model name and the base URL%s", b.name, model, status, detail)
	case KindMalformed:
		return fmt.Sprintf("%s sent a response that could not be parsed: %v", b.name, err)
	}
	switch {
	case errors.Is(err, errCut):
		return fmt.Sprintf("%s ended the stream early, after %d bytes of text: try again", b.name, streamed)
	case f.status != 0:
		return fmt.Sprintf("the connection to %s broke mid-stream, after %d bytes of text: %v", b.name, streamed, err)
	default:
		return fmt.Sprintf("%s could not be reached: %v", b.name, err)
	}
}

// redact removes the API key, which no provider should echo, but a
// misconfigured proxy might.
func (b *base) redact(s string) string {
	if b.key == "" {
		return s
	}
	return strings.ReplaceAll(s, b.key, "[redacted]")
}

// withCause keeps ctxErr reachable with errors.Is when the transport
// reported the cancellation as an error of its own.
func withCause(ctxErr, err error) error {
	if err == nil || errors.Is(err, ctxErr) {
		return cmp.Or(err, ctxErr)
	}
	return fmt.Errorf("%w: %w", ctxErr, err)
}

// isJSONError reports a body or event that is not the JSON it should be.
func isJSONError(err error) bool {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	return errors.As(err, &syntax) || errors.As(err, &typ)
}

// maxDetail keeps a provider's explanation to what fits in a log line.
const maxDetail = 300

// bodyMessage extracts the provider's explanation from an error body:
// {"error":{"message":...}} (OpenAI, Anthropic), {"error":"..."} (Ollama),
// {"message":...} or {"detail":...} (vLLM and others), else the text itself.
func bodyMessage(body []byte) string {
	var v struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Detail  any             `json:"detail"`
	}
	msg := ""
	if json.Unmarshal(body, &v) == nil {
		var nested struct {
			Message string `json:"message"`
		}
		var flat string
		switch {
		case json.Unmarshal(v.Error, &nested) == nil && nested.Message != "":
			msg = nested.Message
		case json.Unmarshal(v.Error, &flat) == nil && flat != "":
			msg = flat
		case v.Message != "":
			msg = v.Message
		case v.Detail != nil:
			if d, ok := v.Detail.(string); ok {
				msg = d
			} else if b, err := json.Marshal(v.Detail); err == nil {
				msg = string(b) // FastAPI's validation errors are a list
			}
		}
	} else if !bytes.HasPrefix(bytes.TrimSpace(body), []byte("<")) {
		// An HTML error page from a proxy says nothing the status does not.
		msg = string(body)
	}
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) > maxDetail {
		cut := maxDetail
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return msg
}
