package airtablefake

import (
	"net/http"
	"slices"
)

// maxMergeFields is Airtable's limit on performUpsert.fieldsToMergeOn.
const maxMergeFields = 3

// handleUpdate updates up to 10 records by ID: PATCH sets the given cells,
// PUT also clears every cell it does not give. With performUpsert, records
// without an ID are matched on fieldsToMergeOn instead: no match creates a
// record, one match updates it, more than one fails the request. As with
// creates, one bad record fails the whole batch and changes nothing.
func (s *Server) handleUpdate(r *http.Request, body []byte) (any, *apiError) {
	wb, err := decodeWrite(r, body)
	if err != nil {
		return nil, err
	}
	t, err := s.lookupTable(r.PathValue("base"), r.PathValue("table"))
	if err != nil {
		return nil, err
	}
	if wb.Records == nil {
		return nil, unprocessable(errMissingFields, "Could not find field \"records\" in the request body")
	}
	if err := checkBatch(wb.Records); err != nil {
		return nil, err
	}
	replace := r.Method == http.MethodPut
	var up *upsert
	if wb.PerformUpsert != nil {
		if up, err = newUpsert(t, wb.PerformUpsert.FieldsToMergeOn); err != nil {
			return nil, err
		}
	}
	changes := make([]*change, len(wb.Records))
	for i, rec := range wb.Records {
		values, err := s.planValues(t, rec.Fields, wb.Typecast)
		if err != nil {
			return nil, err
		}
		switch {
		case rec.ID != "":
			target := t.byID[rec.ID]
			if target == nil {
				return nil, unprocessable(errRowDoesNotExist, "Record ID %s does not exist in this table", rec.ID)
			}
			changes[i] = &change{rec: target, values: values, replace: replace}
		case up != nil:
			if changes[i], err = up.match(t, i, values, replace); err != nil {
				return nil, err
			}
		default:
			return nil, unprocessable(errInvalidRecords, "records[%d] is missing an id", i)
		}
	}
	out := s.commit(t, changes, wb.ByFieldID)
	if up != nil {
		created, updated := []string{}, []string{}
		for _, c := range changes {
			list := &updated
			if up.creates[c] {
				list = &created
			}
			if !slices.Contains(*list, c.result.id) {
				*list = append(*list, c.result.id)
			}
		}
		out.CreatedRecords, out.UpdatedRecords = &created, &updated
	}
	return out, nil
}

// upsert matches the records of one upsert request.
type upsert struct {
	merge   []*field
	creates map[*change]bool // the changes that create a record
	pending []*change        // every change so far, for records the batch repeats
}

func newUpsert(t *table, refs []string) (*upsert, *apiError) {
	if len(refs) == 0 || len(refs) > maxMergeFields {
		return nil, invalidRequest()
	}
	up := &upsert{creates: map[*change]bool{}}
	for _, ref := range refs {
		f := t.field(ref)
		if f == nil {
			return nil, unprocessable(errUnknownField, "Unknown field name: %q", ref)
		}
		up.merge = append(up.merge, f)
	}
	return up, nil
}

// match finds the change for record i. A record that repeats the merge
// values of an earlier one in the same request joins that one's change, so
// the batch creates a single record for both.
func (up *upsert) match(t *table, i int, values map[string]any, replace bool) (*change, *apiError) {
	for _, f := range up.merge {
		if _, ok := values[f.id]; !ok {
			// The fake demands the merge fields; matching on empty values is
			// almost always a client bug.
			return nil, unprocessable(errInvalidRecords, "records[%d] is missing the merge field %q", i, f.name)
		}
	}
	same := func(current map[string]any) bool {
		for _, f := range up.merge {
			if !sameValue(current[f.id], values[f.id]) {
				return false
			}
		}
		return true
	}
	var hits []*record
	for _, r := range t.records {
		if same(r.values) {
			hits = append(hits, r)
		}
	}
	if len(hits) > 1 {
		// Airtable's exact wording for this is not published.
		return nil, unprocessable(errInvalidRecords,
			"records[%d]: %d records match the fieldsToMergeOn values, so the upsert is ambiguous", i, len(hits))
	}
	for _, c := range up.pending {
		if (c.rec == nil && same(c.values)) || (len(hits) == 1 && c.rec == hits[0]) {
			for id, v := range values {
				c.values[id] = v
			}
			return c, nil
		}
	}
	c := &change{values: values, replace: replace}
	if len(hits) == 1 {
		c.rec = hits[0]
	} else {
		up.creates[c] = true
	}
	up.pending = append(up.pending, c)
	return c, nil
}

// handleUpdateOne is PATCH or PUT on a single record's URL, with a body of
// {"fields":{…}}; it answers the bare record.
func (s *Server) handleUpdateOne(r *http.Request, body []byte) (any, *apiError) {
	wb, err := decodeWrite(r, body)
	if err != nil {
		return nil, err
	}
	t, err := s.lookupTable(r.PathValue("base"), r.PathValue("table"))
	if err != nil {
		return nil, err
	}
	if wb.Fields == nil || wb.Records != nil || wb.PerformUpsert != nil {
		return nil, invalidRequest()
	}
	target := t.byID[r.PathValue("record")]
	if target == nil {
		return nil, notFound()
	}
	values, err := s.planValues(t, wb.Fields, wb.Typecast)
	if err != nil {
		return nil, err
	}
	c := &change{rec: target, values: values, replace: r.Method == http.MethodPut}
	return s.commit(t, []*change{c}, wb.ByFieldID).Records[0], nil
}
