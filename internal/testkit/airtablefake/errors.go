package airtablefake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Error types Airtable sends in {"error":{"type":…}}.
const (
	errAuthRequired    = "AUTHENTICATION_REQUIRED"
	errNotFound        = "NOT_FOUND"
	errTableNotFound   = "TABLE_NOT_FOUND"
	errInvalidRequest  = "INVALID_REQUEST_UNKNOWN"
	errMissingFields   = "INVALID_REQUEST_MISSING_FIELDS"
	errInvalidRecords  = "INVALID_RECORDS"
	errInvalidValue    = "INVALID_VALUE_FOR_COLUMN"
	errInvalidChoice   = "INVALID_MULTIPLE_CHOICE_OPTIONS"
	errUnknownField    = "UNKNOWN_FIELD_NAME"
	errRowDoesNotExist = "ROW_DOES_NOT_EXIST"
	errInvalidFormula  = "INVALID_FILTER_BY_FORMULA"
	errIteratorGone    = "LIST_RECORDS_ITERATOR_NOT_AVAILABLE"
	errViewNotFound    = "VIEW_NAME_NOT_FOUND"
	errTooLarge        = "REQUEST_TOO_LARGE"
	errRateLimited     = "RATE_LIMIT_REACHED"
)

// invalidRequestMessage is Airtable's wording for a request that fails
// parameter validation.
const invalidRequestMessage = "Invalid request: parameter validation failed. Check your request data."

// apiError is an error response: status, type and message.
type apiError struct {
	status   int
	typ, msg string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.typ, e.msg) }

// unprocessable builds a 422, the status of all of Airtable's validation
// errors.
func unprocessable(typ, format string, args ...any) *apiError {
	return &apiError{http.StatusUnprocessableEntity, typ, fmt.Sprintf(format, args...)}
}

func invalidRequest() *apiError {
	return unprocessable(errInvalidRequest, "%s", invalidRequestMessage)
}

func notFound() *apiError {
	return &apiError{http.StatusNotFound, errNotFound, "Could not find what you are looking for"}
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, e *apiError) {
	noteError(w, e.typ)
	writeJSON(w, e.status, errorBody{errorDetail{e.typ, e.msg}})
}

// writeRateLimited answers 429 in Airtable's rate-limit format, which unlike
// its other errors is a list under "errors".
func writeRateLimited(w http.ResponseWriter, wait time.Duration, retryAfter bool) {
	if retryAfter {
		w.Header().Set("Retry-After", strconv.FormatInt(max(1, int64((wait+time.Second-1)/time.Second)), 10))
	}
	noteError(w, errRateLimited)
	type item struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	writeJSON(w, http.StatusTooManyRequests, map[string][]item{
		"errors": {{errRateLimited, "Rate limit exceeded. Please try again later"}},
	})
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	data, err := json.Marshal(body)
	if err != nil {
		// Bodies are built from plain values; failing here is a bug in the fake.
		panic(fmt.Sprintf("airtablefake: encode response: %v", err))
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

// noteError tells the request log which error type a response carried.
func noteError(w http.ResponseWriter, typ string) {
	if rec, ok := w.(*recorder); ok {
		rec.errType = typ
	}
}
