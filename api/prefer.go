package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/groundwork-dev/groundwork"
)

// maxPreferWait caps Prefer: wait, so a request holds its connection no
// longer than a proxy's usual read timeout allows.
const maxPreferWait = 10 * time.Second

// StartHeaders are the request headers every operation that starts a run reads.
type StartHeaders struct {
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Same key and body from the same user returns the same run."`
	Prefer         string `header:"Prefer" maxLength:"200" doc:"wait=N (RFC 7240, N seconds, at most 10): answer 200 with the finished run when it ends within N seconds, else 202 as without it. Preference-Applied: wait=N marks the 200."`
}

// preferWait reads the wait preference of a Prefer header (RFC 7240): 0
// without one. Other preferences are ignored, as the RFC asks; a wait that
// is not a whole number of seconds is a 400, and more than
// maxPreferWait is capped.
func preferWait(header string) (time.Duration, error) {
	for _, pref := range strings.Split(header, ",") {
		// A preference may carry parameters after ';': wait takes none.
		token, _, _ := strings.Cut(pref, ";")
		name, value, hasValue := strings.Cut(strings.TrimSpace(token), "=")
		if !strings.EqualFold(strings.TrimSpace(name), "wait") {
			continue
		}
		value = strings.Trim(strings.TrimSpace(value), `"`)
		n, err := strconv.Atoi(value)
		if !hasValue || err != nil || n < 0 {
			return 0, problem(http.StatusBadRequest, groundwork.SlugBadPreference,
				fmt.Sprintf("Prefer: wait=%s is not a whole number of seconds (e.g. Prefer: wait=5)", value))
		}
		return min(time.Duration(n)*time.Second, maxPreferWait), nil
	}
	return 0, nil
}

// awaitRun waits up to d for the run's workflow to close, on Temporal's
// long poll of its history rather than by polling, and returns whether it
// closed. The caller's run state is then read as GET /v1/runs/{id} reads it.
func (s *Server) awaitRun(ctx context.Context, id string, d time.Duration) bool {
	wctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	err := s.d.Temporal.GetWorkflow(wctx, id, "").Get(wctx, nil)
	// A run that failed, timed out, was canceled or terminated has ended
	// too: Get returns its failure as a WorkflowExecutionError. Anything
	// else (the deadline, Temporal away) leaves the run to the 202.
	var ended *temporal.WorkflowExecutionError
	return err == nil || errors.As(err, &ended)
}
