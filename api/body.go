package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/groundwork-dev/groundwork"
)

// Body limits: exports carry tables, everything else is a small request.
const (
	maxBody = 1 << 20
	// maxTrackBody fits a full batch of events with room for properties
	// (each up to 8 KB, though most are far smaller).
	maxTrackBody = 8 << 20
	// maxDrain is how much of an oversized body is read and thrown away so
	// the client reads a 413 instead of a connection reset mid-upload.
	maxDrain = 64 << 20
)

// bodyLimit is the largest body the route of r accepts.
func bodyLimit(r *http.Request) int64 {
	if r.Method == http.MethodPost && r.URL.Path == "/v1/exports" {
		return maxExportBody
	}
	if r.Method == http.MethodPost && r.URL.Path == "/v1/track" {
		return maxTrackBody
	}
	return maxBody
}

// guardBody refuses a path or query holding NUL, then reads a request's body up to its route's limit before any
// handler: an oversized body answers a readable 413 (the rest is drained,
// up to maxDrain), a body that is not UTF-8 a 400, and a JSON string holding NUL (which Postgres text
// refuses) answers 422 instead of reaching the database.
func guardBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Postgres text refuses NUL: an ID or a filter holding one is a bad
		// request, not a query that fails.
		if strings.ContainsRune(r.URL.Path, 0) || strings.Contains(strings.ToLower(r.URL.RawQuery), "%00") {
			writeProblem(w, problem(http.StatusBadRequest, groundwork.SlugMalformed, "the path or query holds the NUL character"))
			return
		}
		if r.Body == nil || r.Body == http.NoBody || r.Method == http.MethodGet || r.Method == http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		limit := bodyLimit(r)
		body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
		if err != nil {
			writeProblem(w, problem(http.StatusBadRequest, groundwork.SlugMalformed, "the body could not be read"))
			return
		}
		if int64(len(body)) > limit {
			_, _ = io.CopyN(io.Discard, r.Body, maxDrain)
			w.Header().Set("Connection", "close")
			writeProblem(w, problem(http.StatusRequestEntityTooLarge, groundwork.SlugTooLarge,
				fmt.Sprintf("the body is larger than this route's %d bytes", limit)))
			return
		}
		if !utf8.Valid(body) {
			writeProblem(w, problem(http.StatusBadRequest, groundwork.SlugMalformed, "the body is not valid UTF-8"))
			return
		}
		if bytes.Contains(body, []byte(`\u0000`)) && holdsNUL(body) {
			writeProblem(w, problem(http.StatusUnprocessableEntity, groundwork.SlugValidation,
				"the request is invalid", groundwork.FieldError{Message: `strings may not contain the NUL character (\u0000)`}))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		next.ServeHTTP(w, r)
	})
}

// holdsNUL reports whether a JSON document has a string (or key) with NUL;
// invalid JSON is left to the handler's own parse error.
func holdsNUL(body []byte) bool {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return false
	}
	var walk func(any) bool
	walk = func(v any) bool {
		switch v := v.(type) {
		case string:
			return bytes.IndexByte([]byte(v), 0) >= 0
		case []any:
			for _, e := range v {
				if walk(e) {
					return true
				}
			}
		case map[string]any:
			for k, e := range v {
				if walk(k) || walk(e) {
					return true
				}
			}
		}
		return false
	}
	return walk(v)
}
