package airtablefake

import (
	"slices"
	"time"
)

// apiRecord is a record in Airtable's JSON.
type apiRecord struct {
	ID          string         `json:"id"`
	CreatedTime string         `json:"createdTime"`
	Fields      map[string]any `json:"fields"`
}

// cell is a field's value in its JSON form, nil when the cell is empty.
func (f *field) cell(r *record) any {
	switch f.typ {
	case TypeLastModifiedTime:
		return formatTime(r.modified)
	case TypeCreatedTime:
		return formatTime(r.created)
	}
	switch v := r.values[f.id].(type) {
	case time.Time:
		return formatTime(v)
	case []string:
		return slices.Clone(v)
	default:
		return v
	}
}

// render builds a record's JSON, keyed by field ID or name, leaving out
// empty cells as Airtable does; only, when not nil, selects the fields.
func render(t *table, r *record, byID bool, only []*field) apiRecord {
	fields := only
	if fields == nil {
		fields = t.fields
	}
	out := apiRecord{ID: r.id, CreatedTime: formatTime(r.created), Fields: map[string]any{}}
	for _, f := range fields {
		v := f.cell(r)
		if v == nil {
			continue
		}
		key := f.name
		if byID {
			key = f.id
		}
		out.Fields[key] = v
	}
	return out
}

// snapshot is the Go API's view of a record, keyed by field name.
func snapshot(t *table, r *record) Record {
	return Record{ID: r.id, CreatedTime: r.created, LastModified: r.modified, Fields: render(t, r, false, nil).Fields}
}
