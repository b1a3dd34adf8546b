package airtablefake

import (
	"mime"
	"net/http"
)

// maxWriteRecords is Airtable's limit on records per create, update,
// upsert or delete request.
const maxWriteRecords = 10

// writeBody is the JSON body of a create, update or upsert.
type writeBody struct {
	Records       []writeRecord  `json:"records"`
	Fields        map[string]any `json:"fields"` // single-record form
	Typecast      bool           `json:"typecast"`
	ByFieldID     bool           `json:"returnFieldsByFieldId"`
	PerformUpsert *struct {
		FieldsToMergeOn []string `json:"fieldsToMergeOn"`
	} `json:"performUpsert"`
}

type writeRecord struct {
	ID     string         `json:"id"`
	Fields map[string]any `json:"fields"`
}

type recordsResponse struct {
	Records []apiRecord `json:"records"`
	// Only upserts report which records were created and which updated.
	CreatedRecords *[]string `json:"createdRecords,omitempty"`
	UpdatedRecords *[]string `json:"updatedRecords,omitempty"`
}

// The keys a write body may have.
var (
	writeKeys   = []string{"records", "fields", "typecast", "returnFieldsByFieldId", "performUpsert"}
	writeNested = map[string][]string{"records": {"id", "fields"}, "performUpsert": {"fieldsToMergeOn"}}
)

// decodeWrite reads a write body. Without a JSON content type Airtable does
// not parse the body at all and complains that "records" is missing, a
// classic client bug the fake reproduces.
func decodeWrite(r *http.Request, body []byte) (writeBody, *apiError) {
	var wb writeBody
	missing := unprocessable(errMissingFields, "Could not find field \"records\" in the request body")
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		return wb, missing
	}
	if !decodeStrict(body, &wb, writeKeys, writeNested) {
		return wb, invalidRequest()
	}
	if wb.Records == nil && wb.Fields == nil {
		return wb, missing
	}
	return wb, nil
}

// checkBatch enforces the size limit and that every record has "fields".
func checkBatch(records []writeRecord) *apiError {
	if len(records) == 0 || len(records) > maxWriteRecords {
		return unprocessable(errInvalidRecords, "You must provide an array of up to %d record objects, each with a fields object", maxWriteRecords)
	}
	for i, rec := range records {
		if rec.Fields == nil {
			return unprocessable(errInvalidRecords, "records[%d] is missing a fields object", i)
		}
	}
	return nil
}

// handleCreate creates up to 10 records, or one from the single-record body
// {"fields":{…}}, whose response is the bare record. A batch with one bad
// record fails as a whole and creates nothing, as in Airtable; a client
// that wants the good records in has to retry them without the bad one.
func (s *Server) handleCreate(r *http.Request, body []byte) (any, *apiError) {
	wb, err := decodeWrite(r, body)
	if err != nil {
		return nil, err
	}
	t, err := s.lookupTable(r.PathValue("base"), r.PathValue("table"))
	if err != nil {
		return nil, err
	}
	single := wb.Records == nil
	if single {
		wb.Records = []writeRecord{{Fields: wb.Fields}}
	} else if wb.Fields != nil {
		return nil, invalidRequest()
	}
	if err := checkBatch(wb.Records); err != nil {
		return nil, err
	}
	changes := make([]*change, len(wb.Records))
	for i, rec := range wb.Records {
		if rec.ID != "" {
			return nil, unprocessable(errInvalidRecords, "records[%d] must not have an id when creating", i)
		}
		values, err := s.planValues(t, rec.Fields, wb.Typecast)
		if err != nil {
			return nil, err
		}
		changes[i] = &change{values: values}
	}
	out := s.commit(t, changes, wb.ByFieldID)
	if single {
		return out.Records[0], nil
	}
	return out, nil
}

// commit applies validated changes and renders the results in request
// order.
func (s *Server) commit(t *table, changes []*change, byID bool) recordsResponse {
	out := recordsResponse{Records: make([]apiRecord, len(changes))}
	for _, c := range changes {
		if c.result == nil {
			s.apply(t, c)
		}
	}
	for i, c := range changes {
		out.Records[i] = render(t, c.result, byID, nil)
	}
	return out
}
