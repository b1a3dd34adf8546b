package api

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"log/slog"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5/middleware"
)

// requestIDHeader names a request on every response and in every log line
// of it, so a user quoting it finds the operator's logs.
const requestIDHeader = "X-Request-ID"

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// requestID gives every request a fresh ID: in its context (chi's key, so
// middleware.GetReqID finds it), on its response and in its log lines.
// A client's own X-Request-ID is not trusted: it would let a caller forge
// log lines under another request's name.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 10)
		_, _ = rand.Read(b)
		id := strings.ToLower(idEncoding.EncodeToString(b))
		w.Header().Set(requestIDHeader, id)
		ctx := context.WithValue(r.Context(), middleware.RequestIDKey, id)
		ctx = context.WithValue(ctx, failureKey{}, &failure{})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// failureKey holds the *failure of a request.
type failureKey struct{}

// failure is why a request answered 5xx, for its log line only: the answer
// itself stays generic.
type failure struct{ cause string }

// noteFailure records why ctx's request failed.
func noteFailure(ctx context.Context, cause string) {
	if f, ok := ctx.Value(failureKey{}).(*failure); ok && f.cause == "" {
		f.cause = cause
	}
}

// failureOf returns what noteFailure recorded for ctx's request.
func failureOf(ctx context.Context) string {
	if f, ok := ctx.Value(failureKey{}).(*failure); ok {
		return f.cause
	}
	return ""
}

// withRequestID adds the request ID of a log call's context to the record.
type withRequestID struct{ slog.Handler }

func (h withRequestID) Handle(ctx context.Context, r slog.Record) error {
	if id := middleware.GetReqID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h withRequestID) WithAttrs(as []slog.Attr) slog.Handler {
	return withRequestID{h.Handler.WithAttrs(as)}
}

func (h withRequestID) WithGroup(name string) slog.Handler {
	return withRequestID{h.Handler.WithGroup(name)}
}
