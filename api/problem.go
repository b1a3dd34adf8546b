package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/jackc/pgx/v5/pgconn"
	"go.temporal.io/api/serviceerror"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/internal/document"
)

// Problem is an RFC 9457 problem details document.
type Problem struct {
	Type     string                `json:"type" doc:"Stable URI of the problem type; switch on its last segment."`
	Title    string                `json:"title"`
	Status   int                   `json:"status"`
	Detail   string                `json:"detail,omitempty"`
	Instance string                `json:"instance,omitempty"`
	Errors   []document.FieldError `json:"errors,omitempty" doc:"One entry per invalid field."`
	// retryAfter, when > 0, is sent as Retry-After (seconds).
	retryAfter int
}

// dependencyRetryAfter is the Retry-After of a 503 for a dependency that
// is away: Postgres failing over or Temporal restarting come back in
// seconds, and clients retrying at once would only add load.
const dependencyRetryAfter = 2

// GetHeaders implements huma.HeadersError: a problem with a retry time
// carries Retry-After.
func (p *Problem) GetHeaders() http.Header {
	if p.retryAfter <= 0 {
		return nil
	}
	return http.Header{"Retry-After": []string{strconv.Itoa(p.retryAfter)}}
}

// Error implements error.
func (p *Problem) Error() string { return p.Title + ": " + p.Detail }

// GetStatus implements huma.StatusError.
func (p *Problem) GetStatus() int { return p.Status }

// ContentType implements huma.ContentTypeFilter, so problems are served as
// application/problem+json.
func (p *Problem) ContentType(ct string) string {
	if ct == "application/json" || ct == "" {
		return "application/problem+json"
	}
	return ct
}

// problem builds a Problem with the given status and slug.
func problem(status int, slug, detail string, fields ...document.FieldError) *Problem {
	return &Problem{
		Type:   groundwork.ProblemBase + slug,
		Title:  http.StatusText(status),
		Status: status,
		Detail: detail,
		Errors: fields,
	}
}

func notFound(what string) *Problem {
	return problem(http.StatusNotFound, groundwork.SlugNotFound, what+" not found")
}

// newHumaError replaces huma.NewError so that huma's own errors (parse,
// validation, body size) are Problems with stable slugs and {field, message}
// entries, as API.md promises.
func newHumaError(status int, msg string, errs ...error) huma.StatusError {
	var fields []document.FieldError
	unknown := false
	for _, err := range errs {
		if err == nil {
			continue
		}
		var d *huma.ErrorDetail
		if errors.As(err, &d) {
			field := strings.TrimPrefix(strings.TrimPrefix(d.Location, "body"), ".")
			if field == "" {
				field = d.Location
			}
			if d.Message == "unexpected property" {
				unknown = true
			}
			fields = append(fields, document.FieldError{Field: field, Message: d.Message})
			continue
		}
		fields = append(fields, document.FieldError{Message: err.Error()})
	}
	slug := slugForStatus(status)
	if status == http.StatusUnprocessableEntity && unknown {
		status, slug = http.StatusBadRequest, groundwork.SlugUnknownField
	}
	if status == http.StatusBadRequest && slug == groundwork.SlugMalformed && len(fields) > 0 {
		msg = "the body is not valid JSON: " + fields[0].Message
		fields = nil
	}
	return problem(status, slug, msg, fields...)
}

// newHumaErrorWithContext is newHumaError for huma's answers to a
// request: a 5xx (a handler's unexpected error) says nothing of its cause,
// which goes to the request's log line, and names the request ID instead.
func newHumaErrorWithContext(ctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
	if status < http.StatusInternalServerError || status == http.StatusServiceUnavailable {
		return newHumaError(status, msg, errs...)
	}
	cause := msg
	for _, err := range errs {
		if err != nil {
			cause += ": " + err.Error()
		}
	}
	noteFailure(ctx.Context(), cause)
	return internalProblem(ctx.Context())
}

// internalProblem is the answer to an internal error: generic, with the
// request ID to quote.
func internalProblem(ctx context.Context) *Problem {
	detail := "an internal error occurred"
	if id := middleware.GetReqID(ctx); id != "" {
		detail += "; quote request ID " + id + " to the operators"
	}
	return problem(http.StatusInternalServerError, groundwork.SlugInternal, detail)
}

func slugForStatus(status int) string {
	switch status {
	case http.StatusBadRequest:
		return groundwork.SlugMalformed
	case http.StatusUnauthorized:
		return groundwork.SlugUnauthorized
	case http.StatusNotFound:
		return groundwork.SlugNotFound
	case http.StatusConflict:
		return groundwork.SlugConflict
	case http.StatusRequestEntityTooLarge:
		return groundwork.SlugTooLarge
	case http.StatusUnsupportedMediaType:
		return groundwork.SlugUnsupported
	case http.StatusNotAcceptable:
		return groundwork.SlugNotAcceptable
	case http.StatusUnprocessableEntity:
		return groundwork.SlugValidation
	case http.StatusTooManyRequests:
		return groundwork.SlugRateLimited
	case http.StatusServiceUnavailable:
		return groundwork.SlugUnavailable
	default:
		return groundwork.SlugInternal
	}
}

// writeProblem writes p outside huma (middleware, raw handlers).
func writeProblem(w http.ResponseWriter, p *Problem) {
	for k, v := range p.GetHeaders() {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// dependencyError turns an error from Postgres or Temporal into a 503 when
// the dependency is unreachable, and a 500 (a bug) otherwise.
func dependencyError(dep string, err error) *Problem {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && !pgUnavailable(pgErr.Code) {
		return problem(http.StatusInternalServerError, groundwork.SlugInternal, "internal error")
	}
	var invalid *serviceerror.InvalidArgument
	if errors.As(err, &invalid) {
		return problem(http.StatusInternalServerError, groundwork.SlugInternal, "internal error")
	}
	p := problem(http.StatusServiceUnavailable, groundwork.SlugUnavailable, dep+" is unavailable; retry later")
	p.retryAfter = dependencyRetryAfter
	return p
}

// pgUnavailable reports whether a SQLSTATE means the server is going away
// or overloaded (connection exception, insufficient resources, operator
// intervention such as a shutdown, system error) rather than a bad query.
func pgUnavailable(code string) bool {
	if len(code) < 2 {
		return false
	}
	switch code[:2] {
	case "08", "53", "57", "58":
		return true
	}
	return false
}
