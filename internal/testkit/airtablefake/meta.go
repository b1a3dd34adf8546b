package airtablefake

import "net/http"

// The shapes of GET /v0/meta/bases/{baseId}/tables, Airtable's schema API.
type metaTable struct {
	ID             string      `json:"id"`
	Name           string      `json:"name"`
	PrimaryFieldID string      `json:"primaryFieldId"`
	Fields         []metaField `json:"fields"`
	Views          []metaView  `json:"views"`
}

type metaField struct {
	ID      string         `json:"id"`
	Name    string         `json:"name"`
	Type    string         `json:"type"`
	Options map[string]any `json:"options,omitempty"`
}

type metaView struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
}

func (s *Server) handleMeta(r *http.Request, _ []byte) (any, *apiError) {
	b := s.bases[r.PathValue("base")]
	if b == nil {
		return nil, notFound()
	}
	out := struct {
		Tables []metaTable `json:"tables"`
	}{Tables: []metaTable{}}
	for _, t := range b.tables {
		mt := metaTable{ID: t.id, Name: t.name, PrimaryFieldID: t.fields[0].id,
			Views: []metaView{{t.viewID, defaultView, "grid"}}}
		for _, f := range t.fields {
			mt.Fields = append(mt.Fields, metaField{f.id, f.name, f.typ, fieldOptions(t, f)})
		}
		out.Tables = append(out.Tables, mt)
	}
	return out, nil
}

// utcDateTime is the result description of a time field, always UTC here.
var utcDateTime = map[string]any{
	"dateFormat": map[string]any{"name": "iso", "format": "YYYY-MM-DD"},
	"timeFormat": map[string]any{"name": "24hour", "format": "HH:mm"},
	"timeZone":   "utc",
}

// fieldOptions are the type-specific options Airtable reports for a field.
func fieldOptions(t *table, f *field) map[string]any {
	switch f.typ {
	case TypeNumber:
		return map[string]any{"precision": f.precision}
	case TypeCheckbox:
		return map[string]any{"icon": "check", "color": "greenBright"}
	case TypeDate:
		return map[string]any{"dateFormat": utcDateTime["dateFormat"]}
	case TypeDateTime:
		return utcDateTime
	case TypeSingleSelect, TypeMultipleSelects:
		choices := []map[string]any{}
		for _, c := range f.choices {
			choices = append(choices, map[string]any{"id": c.id, "name": c.name, "color": "blueLight2"})
		}
		return map[string]any{"choices": choices}
	case TypeMultipleRecordLinks:
		return map[string]any{"linkedTableId": f.linked.id, "isReversed": false, "prefersSingleRecordLink": false}
	case TypeLastModifiedTime:
		// It watches every field that is not computed.
		watched := []string{}
		for _, other := range t.fields {
			if !other.computed() {
				watched = append(watched, other.id)
			}
		}
		return map[string]any{"isValid": true, "referencedFieldIds": watched,
			"result": map[string]any{"type": TypeDateTime, "options": utcDateTime}}
	case TypeCreatedTime:
		return map[string]any{"result": map[string]any{"type": TypeDateTime, "options": utcDateTime}}
	}
	return nil
}
