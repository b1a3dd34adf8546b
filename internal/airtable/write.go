package airtable

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// MaxBatch is the most records Airtable accepts in one create, update,
// upsert or delete request.
const MaxBatch = 10

// maxMergeFields is Airtable's limit on performUpsert.fieldsToMergeOn.
const maxMergeFields = 3

// ErrBatchTooLarge is returned, before any request, for a write of more
// than MaxBatch records; the caller has to split it.
var ErrBatchTooLarge = errors.New("airtable: more than 10 records in one request")

// writeRecord is a record of a write body. Only id and fields may be sent:
// Airtable refuses createdTime and other keys.
type writeRecord struct {
	ID     string         `json:"id,omitempty"`
	Fields map[string]any `json:"fields"`
}

// writeBody is the JSON body of a create, update or upsert.
type writeBody struct {
	PerformUpsert *performUpsert `json:"performUpsert,omitempty"`
	Records       []writeRecord  `json:"records"`
	Typecast      bool           `json:"typecast,omitempty"`
}

type performUpsert struct {
	FieldsToMergeOn []string `json:"fieldsToMergeOn"`
}

// UpsertResult is the outcome of an Upsert.
type UpsertResult struct {
	// Records are the written records, in request order.
	Records []Record
	// Created and Updated are the IDs of the records the upsert created
	// and of those it matched and updated.
	Created, Updated []string
}

// Create creates up to MaxBatch records from their fields and returns them
// in request order. With typecast, Airtable converts strings to the field
// type and creates missing select options. An empty batch sends nothing.
func (c *Client) Create(ctx context.Context, baseID, table string, recs []map[string]any, typecast bool) ([]Record, error) {
	wrap := func(err error) error { return fmt.Errorf("create records in %s/%s: %w", baseID, table, err) }
	if err := checkBatch(len(recs)); err != nil {
		return nil, wrap(err)
	}
	if len(recs) == 0 {
		return nil, nil
	}
	body := writeBody{Records: fieldsOnly(recs), Typecast: typecast}
	var out recordsBody
	err := c.do(ctx, call{method: http.MethodPost, baseID: baseID, path: []string{baseID, table}, body: body}, &out)
	if err != nil {
		return nil, wrap(err)
	}
	return out.Records, nil
}

// Update sets the given fields of up to MaxBatch records by ID (PATCH:
// fields not given keep their values; a nil value clears one) and returns
// the records as they are now. CreatedTime is ignored. An empty batch
// sends nothing.
func (c *Client) Update(ctx context.Context, baseID, table string, recs []Record, typecast bool) ([]Record, error) {
	wrap := func(err error) error { return fmt.Errorf("update records in %s/%s: %w", baseID, table, err) }
	if err := checkBatch(len(recs)); err != nil {
		return nil, wrap(err)
	}
	if len(recs) == 0 {
		return nil, nil
	}
	body := writeBody{Records: make([]writeRecord, len(recs)), Typecast: typecast}
	for i, r := range recs {
		if r.ID == "" {
			return nil, wrap(fmt.Errorf("record %d has no ID", i))
		}
		body.Records[i] = writeRecord{ID: r.ID, Fields: nonNil(r.Fields)}
	}
	var out recordsBody
	err := c.do(ctx, call{method: http.MethodPatch, baseID: baseID, path: []string{baseID, table}, body: body}, &out)
	if err != nil {
		return nil, wrap(err)
	}
	return out.Records, nil
}

// Upsert writes up to MaxBatch records matched on the values of mergeOn
// (one to three field names or IDs, which every record must carry): a
// record that matches none is created, one that matches a single record
// updates it, and one that matches several fails the request. Unlike
// Create it is safe to repeat after a failure whose outcome is unknown.
func (c *Client) Upsert(ctx context.Context, baseID, table string, mergeOn []string, recs []map[string]any, typecast bool) (UpsertResult, error) {
	wrap := func(err error) error { return fmt.Errorf("upsert records in %s/%s: %w", baseID, table, err) }
	if len(mergeOn) == 0 || len(mergeOn) > maxMergeFields {
		return UpsertResult{}, wrap(fmt.Errorf("%d fields to merge on, want 1 to %d", len(mergeOn), maxMergeFields))
	}
	if err := checkBatch(len(recs)); err != nil {
		return UpsertResult{}, wrap(err)
	}
	if len(recs) == 0 {
		return UpsertResult{}, nil
	}
	body := writeBody{
		PerformUpsert: &performUpsert{FieldsToMergeOn: mergeOn},
		Records:       fieldsOnly(recs),
		Typecast:      typecast,
	}
	var out recordsBody
	err := c.do(ctx, call{method: http.MethodPatch, baseID: baseID, path: []string{baseID, table}, body: body}, &out)
	if err != nil {
		return UpsertResult{}, wrap(err)
	}
	return UpsertResult{Records: out.Records, Created: out.CreatedRecords, Updated: out.UpdatedRecords}, nil
}

// checkBatch refuses batches Airtable would refuse, before any request is
// spent on them.
func checkBatch(n int) error {
	if n > MaxBatch {
		return fmt.Errorf("%w: %d", ErrBatchTooLarge, n)
	}
	return nil
}

func fieldsOnly(recs []map[string]any) []writeRecord {
	out := make([]writeRecord, len(recs))
	for i, f := range recs {
		out[i] = writeRecord{Fields: nonNil(f)}
	}
	return out
}

// nonNil turns a nil map into {}: Airtable wants a fields object on every
// record, and null is not one.
func nonNil(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}
