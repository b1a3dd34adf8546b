package activities

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/temporal"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/document"
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
	Kinds map[groundwork.Kind]Source
}

// Document loads the referenced run, checks that owner owns it and that
// it succeeded, and asks its kind's Source for the document.
func (s Sources) Document(ctx context.Context, owner, runID string) (*document.Document, error) {
	run, err := sqlc.New(s.Pool).RunGetForOwner(ctx, sqlc.RunGetForOwnerParams{ID: runID, OwnerID: owner})
	if db.IsNotFound(err) {
		return nil, temporal.NewNonRetryableApplicationError("the source run does not exist", groundwork.ErrTypeNotFound, nil)
	}
	if err != nil {
		return nil, fmt.Errorf("load source run: %w", err)
	}
	src, ok := s.Kinds[groundwork.Kind(run.Kind)]
	if msg := groundwork.ExportSourceRefusal(run.Kind, string(run.Status)); msg != "" || !ok {
		if msg == "" {
			msg = fmt.Sprintf("no renderer for runs of kind %q", run.Kind)
		}
		return nil, temporal.NewNonRetryableApplicationError(msg, groundwork.ErrTypeInvalidInput, nil)
	}
	return src.Document(ctx, run)
}
