package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/temporal"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/document"
	"github.com/groundwork-dev/groundwork/internal/prompts"
)

// GenerationSource renders a generation's answer as a document for export:
// a structured answer field by field in the template's order, free text
// paragraph by paragraph.
type GenerationSource struct {
	Pool *pgxpool.Pool
}

// Document builds the answer's document.
func (s *GenerationSource) Document(ctx context.Context, run sqlc.Run) (*document.Document, error) {
	g, err := sqlc.New(s.Pool).GenerationGet(ctx, run.ID)
	if db.IsNotFound(err) {
		return nil, temporal.NewNonRetryableApplicationError("the generation's answer is gone", groundwork.ErrTypeNotFound, err)
	}
	if err != nil {
		return nil, fmt.Errorf("load generation: %w", err)
	}
	title := g.Template
	tmpl, known := prompts.Get(g.Template)
	if known && tmpl.Title != "" {
		title = tmpl.Title
	}
	d := &document.Document{
		Title:    title,
		Subtitle: fmt.Sprintf("Generated %s by %s/%s", g.CreatedAt.UTC().Format("2 January 2006"), g.Provider, g.Model),
		Author:   "Groundwork",
		Subject:  title,
	}
	var fields map[string]any
	if len(g.Fields) > 0 && json.Unmarshal(g.Fields, &fields) == nil && len(fields) > 0 {
		names := make([]string, 0, len(fields))
		if known {
			for _, f := range tmpl.OutputFields {
				names = append(names, f.Name)
			}
		}
		for k := range fields {
			if !slices.Contains(names, k) {
				names = append(names, k)
			}
		}
		for _, name := range names {
			if v, ok := fields[name]; ok {
				d.Blocks = append(d.Blocks, document.Block{Type: document.BlockHeading, Level: 2, Text: humanize(name)})
				d.Blocks = append(d.Blocks, valueBlocks(v)...)
			}
		}
	} else {
		for _, p := range strings.Split(g.Text, "\n\n") {
			if p = strings.TrimSpace(p); p != "" {
				d.Blocks = append(d.Blocks, document.Block{Type: document.BlockParagraph, Text: p})
			}
		}
	}
	if len(d.Blocks) == 0 {
		d.Blocks = []document.Block{{Type: document.BlockParagraph, Text: "(empty answer)"}}
	}
	return d, nil
}

// valueBlocks renders one field's JSON value.
func valueBlocks(v any) []document.Block {
	switch v := v.(type) {
	case []any:
		if len(v) == 0 {
			return []document.Block{{Type: document.BlockParagraph, Text: "—"}}
		}
		if _, isObj := v[0].(map[string]any); isObj {
			var cols []string
			for _, it := range v {
				if m, ok := it.(map[string]any); ok {
					for k := range m {
						if !slices.Contains(cols, k) {
							cols = append(cols, k)
						}
					}
				}
			}
			slices.Sort(cols)
			rows := make([][]document.Cell, 0, len(v))
			for _, it := range v {
				m, _ := it.(map[string]any)
				row := make([]document.Cell, len(cols))
				for i, c := range cols {
					row[i] = document.StringCell(scalarText(m[c]))
				}
				rows = append(rows, row)
			}
			headers := make([]string, len(cols))
			for i, c := range cols {
				headers[i] = humanize(c)
			}
			return []document.Block{{Type: document.BlockTable, Columns: headers, Rows: rows}}
		}
		items := make([]document.Item, 0, len(v))
		for _, it := range v {
			items = append(items, document.Item{Text: scalarText(it)})
		}
		return []document.Block{{Type: document.BlockList, Items: items}}
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		items := make([]document.Item, 0, len(keys))
		for _, k := range keys {
			items = append(items, document.Item{Key: humanize(k), Value: scalarText(v[k]), IsKV: true})
		}
		return []document.Block{{Type: document.BlockKV, Items: items}}
	default:
		return []document.Block{{Type: document.BlockParagraph, Text: scalarText(v)}}
	}
}

// scalarText writes a JSON value as text: strings as they are, anything
// else as JSON.
func scalarText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// humanize turns a field name like next_step into "Next step".
func humanize(name string) string {
	s := strings.ReplaceAll(name, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
