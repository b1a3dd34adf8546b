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

// AssessmentSource renders a scored assessment as a report: the headline
// figures, a chart and a table of the category scores, and the
// recommendations.
type AssessmentSource struct {
	Pool *pgxpool.Pool
}

// Document builds the assessment report.
func (s *AssessmentSource) Document(ctx context.Context, run sqlc.Run) (*document.Document, error) {
	q := sqlc.New(s.Pool)
	res, err := db.AssessmentResultOf(ctx, q, run.ID, run.WorkspaceID)
	if db.IsNotFound(err) {
		return nil, temporal.NewNonRetryableApplicationError("the assessment is gone", groundwork.ErrTypeNotFound, err)
	}
	if err != nil {
		return nil, fmt.Errorf("load assessment: %w", err)
	}
	customer := res.CustomerID
	if c, err := q.CustomerGet(ctx, sqlc.CustomerGetParams{ID: res.CustomerID, WorkspaceID: run.WorkspaceID}); err == nil {
		customer = c.Name
	}
	d := &document.Document{
		Title:    fmt.Sprintf("%s — %s assessment", customer, res.Definition),
		Subtitle: fmt.Sprintf("Version %d · scored %s", res.Version, res.ScoredAt),
		Author:   "Groundwork",
		Subject:  "Assessment: " + res.Definition,
		Keywords: customer + ", " + res.Definition,
	}
	d.Blocks = append(d.Blocks,
		document.Block{Type: document.BlockKV, Items: []document.Item{
			{Key: "Overall score", Value: fmt.Sprintf("%.1f of 100", res.Overall), IsKV: true},
			{Key: "Maturity level", Value: res.Level, IsKV: true},
			{Key: "Percentile", Value: fmt.Sprintf("%.0f (among %d assessments of this version)", res.Percentile, res.CohortSize), IsKV: true},
		}},
		document.Block{Type: document.BlockHeading, Level: 2, Text: "Scores by category"},
	)
	labels := make([]string, 0, len(res.Categories))
	values := make([]float64, 0, len(res.Categories))
	rows := make([][]document.Cell, 0, len(res.Categories))
	for _, c := range res.Categories {
		labels = append(labels, c.Name)
		values = append(values, c.Score)
		rows = append(rows, []document.Cell{document.StringCell(c.Name), document.StringCell(fmt.Sprintf("%.1f", c.Score))})
	}
	if len(labels) > 0 {
		d.Blocks = append(d.Blocks,
			document.Block{Type: document.BlockChart, Kind: document.ChartBar, Title: "Category scores (0-100)", Labels: labels,
				Series: []document.Series{{Name: "Score", Values: values}}},
			document.Block{Type: document.BlockTable, Columns: []string{"Category", "Score"}, Rows: rows})
	}
	d.Blocks = append(d.Blocks, document.Block{Type: document.BlockHeading, Level: 2, Text: "Recommendations"})
	items := make([]document.Item, 0, len(res.Recommendations))
	for _, r := range res.Recommendations {
		items = append(items, document.Item{Text: r.Text})
	}
	if len(items) == 0 {
		d.Blocks = append(d.Blocks, document.Block{Type: document.BlockParagraph, Text: "Every category scored the maximum."})
	} else {
		d.Blocks = append(d.Blocks, document.Block{Type: document.BlockList, Ordered: true, Items: items},
			document.Block{Type: document.BlockParagraph, Text: "Recommendations by " + res.RecommendationsBy + "."})
	}
	return d, nil
}
