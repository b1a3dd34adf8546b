package groundwork

import "fmt"

// Error types of a failed run: the Temporal application error type an
// activity fails with, and the slug of the run's error "type" the API
// shows.
const (
	// ErrTypeInvalidInput means the stored request can never be completed.
	ErrTypeInvalidInput = "invalid_input"
	// ErrTypeFileTooLarge means the rendered file passed the size cap.
	ErrTypeFileTooLarge = "file_too_large"
	// ErrTypeNotFound means the run or its input vanished.
	ErrTypeNotFound = "not_found"
	// ErrTypeQuotaExceeded means the file would pass the owner's storage quota.
	ErrTypeQuotaExceeded = "quota_exceeded"
	// ErrTypeBudgetExceeded means the owner's monthly LLM token budget is spent.
	ErrTypeBudgetExceeded = "budget_exceeded"
	// ErrTypeNoProvider means no LLM provider is configured.
	ErrTypeNoProvider = "no_llm_provider"
	// ErrTypeProviderRejected means a provider refused the request itself
	// (bad key, unknown model, invalid request): retrying cannot help.
	ErrTypeProviderRejected = "provider_rejected"
	// ErrTypeProviderUnavailable means every provider failed with a
	// retryable error; the activity's retries keep trying.
	ErrTypeProviderUnavailable = "provider_unavailable"
	// ErrTypeSyncRunning means another sync of the mapping is running.
	ErrTypeSyncRunning = "sync_running"
	// ErrTypeTimeout means a step of the run timed out after its retries.
	ErrTypeTimeout = "timeout"
	// ErrTypeInternal is any other failure; its details are for operators.
	ErrTypeInternal = "internal"
)

// UserFacingErrTypes are the error types whose messages are written for
// users; a run failed by any other error shows a generic message.
var UserFacingErrTypes = map[string]bool{
	ErrTypeInvalidInput:        true,
	ErrTypeFileTooLarge:        true,
	ErrTypeNotFound:            true,
	ErrTypeQuotaExceeded:       true,
	ErrTypeBudgetExceeded:      true,
	ErrTypeNoProvider:          true,
	ErrTypeProviderRejected:    true,
	ErrTypeProviderUnavailable: true,
	ErrTypeSyncRunning:         true,
}

// RunError is the error of a failed run as the API shows it.
type RunError struct {
	Type    string `json:"type" example:"file_too_large"`
	Message string `json:"message"`
}

// ProblemBase prefixes every API problem type; the slug after it is stable.
const ProblemBase = "https://groundwork.dev/problems/"

// Problem slugs of the HTTP API's RFC 9457 answers, which clients may
// switch on.
const (
	// SlugMalformed: the body is not valid JSON or not the expected shape.
	SlugMalformed = "malformed_request"
	// SlugUnknownField: the body has a field the operation does not know.
	SlugUnknownField = "unknown_field"
	// SlugValidation: fields are invalid; errors lists each one.
	SlugValidation = "validation_failed"
	// SlugUnauthorized: no valid token or API key came with the request.
	SlugUnauthorized = "unauthorized"
	// SlugNotFound: no such resource among the caller's.
	SlugNotFound = "not_found"
	// SlugConflict: an Idempotency-Key was reused with another body.
	SlugConflict = "idempotency_conflict"
	// SlugRunClosed: the run has already ended.
	SlugRunClosed = "run_closed"
	// SlugTooLarge: the body passes the size limit.
	SlugTooLarge = "body_too_large"
	// SlugUnsupported: the body is not application/json.
	SlugUnsupported = "unsupported_media_type"
	// SlugRateLimited: the caller passed a rate limit; Retry-After says when to retry.
	SlugRateLimited = "rate_limited"
	// SlugUnavailable: Postgres or Temporal is unreachable; retry later.
	SlugUnavailable = "dependency_unavailable"
	// SlugInternal: an unexpected error; operators see the details in the logs.
	SlugInternal = "internal"
	// SlugLinkExpired: a signed download or screenshot link expired or was altered.
	SlugLinkExpired = "link_expired"
	// SlugNotAcceptable: the Accept header asks for a representation the route does not serve.
	SlugNotAcceptable = "not_acceptable"
	// SlugQuotaExceeded: the caller's exports would pass their storage quota.
	SlugQuotaExceeded = "quota_exceeded"
	// SlugNoLLMProvider: generation is off because no provider is configured.
	SlugNoLLMProvider = "no_llm_provider"
	// SlugNotReady: the run has no result (yet, or ever).
	SlugNotReady = "not_ready"
	// SlugBlockedURL: a URL of the request points at an address research never fetches (loopback, private, link-local, metadata…).
	SlugBlockedURL = "blocked_url"
	// SlugSyncRunning: another sync of the mapping is running.
	SlugSyncRunning = "sync_running"
	// SlugForbidden: the caller's role may not do this (a member on an admin-only operation).
	SlugForbidden = "forbidden"
	// SlugSessionExpired: the token's session was unused for longer than the idle timeout; sign in again.
	SlugSessionExpired = "session_expired"
	// SlugSessionRevoked: the token's session was revoked (by its user, an admin, or a newer session over the limit).
	SlugSessionRevoked = "session_revoked"
	// SlugTooManyStreams: the caller has as many event streams open as it may; close one first.
	SlugTooManyStreams = "too_many_streams"
	// SlugTooManyOpenRuns: the caller has as many unfinished runs as it may; wait for one to end or cancel one.
	SlugTooManyOpenRuns = "too_many_open_runs"
	// SlugExternalIDTaken: another customer of the workspace has this external_id.
	SlugExternalIDTaken = "external_id_taken"
	// SlugNotManual: the milestone is achieved by its rule; only manual milestones are completed or reopened by hand.
	SlugNotManual = "milestone_not_manual"
	// SlugNameTaken: another resource of the workspace has this name.
	SlugNameTaken = "name_taken"
	// SlugStillDelivering: the webhook message is still being delivered.
	SlugStillDelivering = "still_delivering"
	// SlugAlreadyReplayed: the dead letter was replayed already.
	SlugAlreadyReplayed = "already_replayed"
	// SlugBadPreference: the Prefer header's wait is not a whole number of seconds.
	SlugBadPreference = "invalid_preference"
)

// ProblemTypes is every problem slug with its meaning: the list the
// OpenAPI document publishes, so a client can switch on each.
var ProblemTypes = map[string]string{
	SlugMalformed:       "The body is not valid JSON or not the expected shape.",
	SlugUnknownField:    "The body has a field the operation does not know.",
	SlugValidation:      "Fields are invalid; errors lists each one.",
	SlugUnauthorized:    "No valid token or API key came with the request.",
	SlugNotFound:        "No such resource among the caller's.",
	SlugConflict:        "An Idempotency-Key was reused with another body.",
	SlugRunClosed:       "The run has already ended.",
	SlugTooLarge:        "The body passes the size limit.",
	SlugUnsupported:     "The body is not application/json.",
	SlugRateLimited:     "The caller passed a rate limit; Retry-After says when to retry.",
	SlugUnavailable:     "Postgres or Temporal is unreachable; retry later.",
	SlugInternal:        "An unexpected error; operators see the details in the logs.",
	SlugLinkExpired:     "A signed download or screenshot link expired or was altered.",
	SlugNotAcceptable:   "The Accept header asks for a representation the route does not serve.",
	SlugQuotaExceeded:   "The caller's exports would pass their storage quota.",
	SlugNoLLMProvider:   "Generation is off because no provider is configured.",
	SlugNotReady:        "The run has no result (yet, or ever).",
	SlugBlockedURL:      "A URL of the request points at an address research never fetches (loopback, private, link-local, metadata…).",
	SlugSyncRunning:     "Another sync of the mapping is running.",
	SlugForbidden:       "The caller's role may not do this (a member on an admin-only operation).",
	SlugSessionExpired:  "The token's session was unused for longer than the idle timeout; sign in again.",
	SlugSessionRevoked:  "The token's session was revoked (by its user, an admin, or a newer session over the limit).",
	SlugTooManyStreams:  "The caller has as many event streams open as it may; close one first.",
	SlugTooManyOpenRuns: "The caller has as many unfinished runs as it may; wait for one to end or cancel one.",
	SlugExternalIDTaken: "Another customer of the workspace has this external_id.",
	SlugNotManual:       "The milestone is achieved by its rule; only manual milestones are completed or reopened by hand.",
	SlugNameTaken:       "Another resource of the workspace has this name.",
	SlugBadPreference:   "The Prefer header's wait is not a whole number of seconds (Prefer: wait=5).",
	SlugStillDelivering: "The webhook message is still being delivered.",
	SlugAlreadyReplayed: "The dead letter was replayed already.",
}

// FieldError names one invalid field of a request, JSON-path style
// ("rows[3][2]").
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error implements error.
func (e FieldError) Error() string { return e.Field + ": " + e.Message }

// QuotaMessage says why an export does not fit the owner's quota: with
// size > 0 for a rendered file, else for a request refused at the edge.
func QuotaMessage(used, size, quota int64) string {
	const mb = 1 << 20
	if size > 0 {
		return fmt.Sprintf("this file (%.1f MB) would take your exports to %.1f MB of your %.0f MB quota; delete or wait for older exports to expire",
			float64(size)/mb, float64(used+size)/mb, float64(quota)/mb)
	}
	return fmt.Sprintf("your exports use %.1f MB of your %.0f MB quota; wait for older exports to expire", float64(used)/mb, float64(quota)/mb)
}
