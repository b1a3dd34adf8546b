package activities

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/temporal"

	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/document"
	"github.com/groundwork-dev/groundwork/workflows"
)

// Source builds the document that renders one run's result, e.g. a
// research report or a generation. Each capability that produces
// exportable results registers one.
type Source interface {
	Document(ctx context.Context, run sqlc.Run) (*document.Document, error)
}

// Sources finds the Source for a run the export's owner owns.
type Sources struct {
	Pool  *pgxpool.Pool
	Kinds map[workflows.Kind]Source
}

// Document loads the referenced run, checks that owner owns it and that
// it succeeded, and asks its kind's Source for the document.
func (s Sources) Document(ctx context.Context, owner, runID string) (*document.Document, error) {
	run, err := sqlc.New(s.Pool).RunGetForOwner(ctx, sqlc.RunGetForOwnerParams{ID: runID, OwnerID: owner})
	if db.IsNotFound(err) {
		return nil, temporal.NewNonRetryableApplicationError("the source run does not exist", workflows.ErrTypeNotFound, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("load source run: %w", err)
	}
	src, ok := s.Kinds[workflows.Kind(run.Kind)]
	if msg := SourceRefusal(run); msg != "" || !ok {
		if msg == "" {
			msg = fmt.Sprintf("no renderer for runs of kind %q", run.Kind)
		}
		return nil, temporal.NewNonRetryableApplicationError(msg, workflows.ErrTypeInvalidInput, nil)
	}
	return src.Document(ctx, run)
}

// SourceRefusal says why a run the caller owns cannot be an export's
// source, or "" when it can. The API checks it at the edge and the
// activity again when it renders.
func SourceRefusal(run sqlc.Run) string {
	if !workflows.Kind(run.Kind).Exportable() {
		return fmt.Sprintf("runs of kind %q cannot be exported", run.Kind)
	}
	if run.Status != sqlc.RunStatusSucceeded {
		return fmt.Sprintf("the run has not succeeded (status %s)", run.Status)
	}
	return ""
}
