package airtablefake

import (
	"net/http"
	"slices"
)

type deletedRecord struct {
	ID      string `json:"id"`
	Deleted bool   `json:"deleted"`
}

// handleDelete deletes up to 10 records named by records[] parameters. One
// unknown ID fails the request and deletes nothing.
func (s *Server) handleDelete(r *http.Request, _ []byte) (any, *apiError) {
	t, err := s.lookupTable(r.PathValue("base"), r.PathValue("table"))
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	for key := range q {
		if key != "records[]" {
			return nil, invalidRequest()
		}
	}
	ids := q["records[]"]
	if len(ids) == 0 || len(ids) > maxWriteRecords {
		return nil, unprocessable(errInvalidRecords, "You must provide an array of up to %d record IDs", maxWriteRecords)
	}
	for _, id := range ids {
		if t.byID[id] == nil {
			return nil, unprocessable(errRowDoesNotExist, "Record ID %s does not exist in this table", id)
		}
	}
	out := struct {
		Records []deletedRecord `json:"records"`
	}{}
	var done []string
	for _, id := range ids {
		if !slices.Contains(done, id) {
			s.remove(t, t.byID[id])
			done = append(done, id)
		}
		out.Records = append(out.Records, deletedRecord{id, true})
	}
	return out, nil
}

// handleDeleteOne deletes the record a URL names.
func (s *Server) handleDeleteOne(r *http.Request, _ []byte) (any, *apiError) {
	t, err := s.lookupTable(r.PathValue("base"), r.PathValue("table"))
	if err != nil {
		return nil, err
	}
	rec := t.byID[r.PathValue("record")]
	if rec == nil {
		return nil, notFound()
	}
	s.remove(t, rec)
	return deletedRecord{rec.id, true}, nil
}
