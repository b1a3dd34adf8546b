package airtable

import "time"

// Record is one Airtable record. Fields holds the non-empty cells by field
// name (or ID, with ReturnFieldsByFieldID) in their JSON form, numbers as
// json.Number; Airtable leaves empty cells, and unchecked checkboxes, out.
type Record struct {
	// ID is the record's "rec…" ID.
	ID string `json:"id"`
	// CreatedTime is when the record was created; writes ignore it.
	CreatedTime time.Time `json:"createdTime"`
	// Fields holds the cells by field name or ID.
	Fields map[string]any `json:"fields"`
}

// recordsBody is the response of list and write requests.
type recordsBody struct {
	Records []Record `json:"records"`
	Offset  string   `json:"offset"`
	// Only upserts report which records were created and which updated.
	CreatedRecords []string `json:"createdRecords"`
	UpdatedRecords []string `json:"updatedRecords"`
}
