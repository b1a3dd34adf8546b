package activities

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/temporal"

	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/workflows"
)

// loadRunInput decodes the request a run was started with. A missing or
// undecodable request can never become valid, so both are non-retryable;
// what names the request in the messages ("export", "research"…).
func loadRunInput[T any](ctx context.Context, pool *pgxpool.Pool, runID, what string) (T, error) {
	var req T
	body, err := sqlc.New(pool).RunInputGet(ctx, runID)
	if db.IsNotFound(err) {
		return req, temporal.NewNonRetryableApplicationError("the "+what+" request is gone", workflows.ErrTypeNotFound, err)
	}
	if err != nil {
		return req, fmt.Errorf("load run input: %w", err)
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return req, temporal.NewNonRetryableApplicationError("the stored "+what+" request is not valid JSON", workflows.ErrTypeInvalidInput, err)
	}
	return req, nil
}
