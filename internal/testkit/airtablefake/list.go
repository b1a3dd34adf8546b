package airtablefake

import (
	"net/http"
	"slices"
	"strings"
)

// maxPageSize is Airtable's largest page, and the default.
const maxPageSize = 100

type listResponse struct {
	Records []apiRecord `json:"records"`
	Offset  string      `json:"offset,omitempty"`
}

func (s *Server) handleList(r *http.Request, _ []byte) (any, *apiError) {
	q, err := parseListQuery(r.URL.Query())
	if err != nil {
		return nil, err
	}
	return s.list(r.PathValue("base"), r.PathValue("table"), q)
}

func (s *Server) handleListPost(r *http.Request, body []byte) (any, *apiError) {
	q, err := parseListBody(body)
	if err != nil {
		return nil, err
	}
	return s.list(r.PathValue("base"), r.PathValue("table"), q)
}

func (s *Server) handleGet(r *http.Request, _ []byte) (any, *apiError) {
	t, err := s.lookupTable(r.PathValue("base"), r.PathValue("table"))
	if err != nil {
		return nil, err
	}
	byID, err := parseBool(r.URL.Query().Get("returnFieldsByFieldId"))
	if err != nil {
		return nil, err
	}
	rec := t.byID[r.PathValue("record")]
	if rec == nil {
		return nil, notFound()
	}
	return render(t, rec, byID, nil), nil
}

// list serves one page. The first request fixes the result: which records
// match and in what order. Later pages, asked for by offset, walk that
// snapshot, skipping records deleted since; records created since are not
// in it. An offset stays valid until ExpireOffsets, so a client may retry a
// page after a failure.
func (s *Server) list(baseID, tableRef string, q listQuery) (any, *apiError) {
	t, err := s.lookupTable(baseID, tableRef)
	if err != nil {
		return nil, err
	}
	pageSize := maxPageSize
	if q.PageSize != nil {
		if *q.PageSize < 1 || *q.PageSize > maxPageSize {
			return nil, invalidRequest()
		}
		pageSize = *q.PageSize
	}
	if q.MaxRecords != nil && *q.MaxRecords < 1 {
		return nil, invalidRequest()
	}
	if q.CellFormat != "" && q.CellFormat != "json" {
		// cellFormat=string renders cells as the UI shows them; not faked.
		return nil, unprocessable(errInvalidRequest, "airtablefake supports only cellFormat json")
	}
	if q.View != "" && q.View != defaultView && q.View != t.viewID {
		return nil, unprocessable(errViewNotFound, "Could not find view %s in table %s", q.View, t.name)
	}
	only, err := pickFields(t, q.Fields)
	if err != nil {
		return nil, err
	}
	order, err := sortOrder(t, q.Sort)
	if err != nil {
		return nil, err
	}
	filter, ferr := parseFormula(q.Formula, t)
	if ferr != nil {
		return nil, unprocessable(errInvalidFormula, "The formula for filtering records is invalid: %s", ferr.Error())
	}

	var it *iterator
	pos := 0
	if q.Offset != "" {
		if it, pos, err = s.resume(t, q.Offset); err != nil {
			return nil, err
		}
	} else {
		it = &iterator{table: t, ids: s.query(t, filter, order, q.MaxRecords)}
	}
	end := min(pos+pageSize, len(it.ids))
	out := listResponse{Records: []apiRecord{}}
	for _, id := range it.ids[pos:end] {
		if rec := t.byID[id]; rec != nil {
			out.Records = append(out.Records, render(t, rec, q.ByFieldID, only))
		}
	}
	if end < len(it.ids) {
		out.Offset = s.offsetFor(it, end)
	}
	return out, nil
}

// query returns the IDs of the matching records in list order.
func (s *Server) query(t *table, filter expr, order []sortKey, maxRecords *int) []string {
	ctx := &evalCtx{now: s.opts.Now().UTC()}
	var hits []*record
	for _, r := range t.records {
		if filter != nil {
			ctx.rec = r
			if !truthy(filter.eval(ctx)) {
				continue
			}
		}
		hits = append(hits, r)
	}
	if len(order) > 0 {
		slices.SortStableFunc(hits, func(a, b *record) int { return compareRecords(order, a, b) })
	}
	if maxRecords != nil && len(hits) > *maxRecords {
		hits = hits[:*maxRecords]
	}
	ids := make([]string, len(hits))
	for i, r := range hits {
		ids[i] = r.id
	}
	return ids
}

// pickFields resolves fields[]; nil means all fields.
func pickFields(t *table, refs []string) ([]*field, *apiError) {
	if len(refs) == 0 {
		return nil, nil
	}
	out := []*field{}
	for _, ref := range refs {
		f := t.field(ref)
		if f == nil {
			return nil, unprocessable(errUnknownField, "Unknown field name: %q", ref)
		}
		out = append(out, f)
	}
	return out, nil
}

// sortKey is one resolved sort[] entry.
type sortKey struct {
	f    *field
	desc bool
}

func sortOrder(t *table, specs []sortSpec) ([]sortKey, *apiError) {
	var out []sortKey
	for _, sp := range specs {
		f := t.field(sp.Field)
		if f == nil {
			return nil, unprocessable(errUnknownField, "Unknown field name: %q", sp.Field)
		}
		switch strings.ToLower(sp.Direction) {
		case "", "asc":
			out = append(out, sortKey{f, false})
		case "desc":
			out = append(out, sortKey{f, true})
		default:
			return nil, invalidRequest()
		}
	}
	return out, nil
}

// compareRecords orders by the sort keys; empty cells come first when
// ascending.
func compareRecords(order []sortKey, a, b *record) int {
	for _, k := range order {
		c := orderValues(fieldValue(k.f, a), fieldValue(k.f, b))
		if k.desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}
