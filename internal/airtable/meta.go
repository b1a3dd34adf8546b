package airtable

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// Table is a table of a base, as the metadata API describes it.
type Table struct {
	// ID is the table's "tbl…" ID, usable in place of its name.
	ID string `json:"id"`
	// Name is the table's name.
	Name string `json:"name"`
	// PrimaryFieldID is the ID of the field that names a record.
	PrimaryFieldID string `json:"primaryFieldId"`
	// Fields are the table's fields, in order.
	Fields []Field `json:"fields"`
}

// Field is a field of a Table. Type is Airtable's type name, as
// ToAirtable, FromAirtable and Equal take it; Options holds the
// type-specific settings (choices, precision, linked table) undecoded.
type Field struct {
	// ID is the field's "fld…" ID.
	ID string `json:"id"`
	// Name is the field's name, which formulas must use.
	Name string `json:"name"`
	// Type is the field's type, such as TypeNumber.
	Type string `json:"type"`
	// Options are the type's settings as JSON; nil when it has none.
	Options json.RawMessage `json:"options,omitempty"`
}

// Tables reads the schema of a base; the token needs the
// schema.bases:read scope.
func (c *Client) Tables(ctx context.Context, baseID string) ([]Table, error) {
	var out struct {
		Tables []Table `json:"tables"`
	}
	in := call{method: http.MethodGet, baseID: baseID, path: []string{"meta", "bases", baseID, "tables"}}
	if err := c.do(ctx, in, &out); err != nil {
		return nil, fmt.Errorf("read tables of %s: %w", baseID, err)
	}
	return out.Tables, nil
}
