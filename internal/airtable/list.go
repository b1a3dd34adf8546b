package airtable

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// MaxPageSize is the most records Airtable returns per page, and its
// default.
const MaxPageSize = 100

// longFormula is the formula length from which ListPage sends POST
// …/listRecords instead of GET: Airtable refuses URLs over 16k characters
// and a formula's URL encoding can triple its length.
const longFormula = 1000

// maxQueryLen is the encoded query length from which ListPage posts even
// with a short formula, e.g. for a long list of fields.
const maxQueryLen = 8000

// ListOptions select and order the records of a list request.
type ListOptions struct {
	// Fields limits the returned fields; empty means all.
	Fields []string
	// FilterByFormula keeps only the records for which it is truthy; build
	// it with FieldRef, Quote and ModifiedAfter.
	FilterByFormula string
	// PageSize is 1 to MaxPageSize; 0 means MaxPageSize.
	PageSize int
	// Offset is Page.Offset of the previous page; empty for the first.
	Offset string
	// ReturnFieldsByFieldID keys Record.Fields by field ID, which survives
	// renames, instead of by name.
	ReturnFieldsByFieldID bool
	// Sort orders the records; empty means Airtable's default order.
	Sort []Sort
}

// Sort orders list results by one field.
type Sort struct {
	// Field is the field's name or ID.
	Field string `json:"field"`
	// Direction is "asc" (the default when empty) or "desc".
	Direction string `json:"direction,omitempty"`
}

// Page is one page of a list.
type Page struct {
	// Records are the page's records.
	Records []Record
	// Offset fetches the next page; "" on the last page.
	Offset string
}

// listBody is the JSON body of POST …/listRecords. It converts from
// ListOptions, so a field added there fails to compile until added here.
type listBody struct {
	Fields                []string `json:"fields,omitempty"`
	FilterByFormula       string   `json:"filterByFormula,omitempty"`
	PageSize              int      `json:"pageSize,omitempty"`
	Offset                string   `json:"offset,omitempty"`
	ReturnFieldsByFieldID bool     `json:"returnFieldsByFieldId,omitempty"`
	Sort                  []Sort   `json:"sort,omitempty"`
}

// ListPage fetches one page of a table's records with a single request.
// Pages are fetched one per call so that an activity can checkpoint the
// offset between them; Airtable forgets offsets after a few minutes
// (error LIST_RECORDS_ITERATOR_NOT_AVAILABLE, not retryable: start over).
func (c *Client) ListPage(ctx context.Context, baseID, table string, o ListOptions) (Page, error) {
	if o.PageSize < 0 || o.PageSize > MaxPageSize {
		return Page{}, fmt.Errorf("list records: page size %d outside 1..%d", o.PageSize, MaxPageSize)
	}
	in := call{method: http.MethodGet, baseID: baseID, path: []string{baseID, table}, query: listQuery(o)}
	if len(o.FilterByFormula) > longFormula || len(in.query.Encode()) > maxQueryLen {
		in = call{method: http.MethodPost, baseID: baseID, path: []string{baseID, table, "listRecords"},
			body: listBody(o)}
	}
	var out recordsBody
	if err := c.do(ctx, in, &out); err != nil {
		return Page{}, fmt.Errorf("list records of %s/%s: %w", baseID, table, err)
	}
	return Page{Records: out.Records, Offset: out.Offset}, nil
}

// listQuery encodes list options as GET parameters.
func listQuery(o ListOptions) url.Values {
	q := url.Values{}
	for _, f := range o.Fields {
		q.Add("fields[]", f)
	}
	if o.FilterByFormula != "" {
		q.Set("filterByFormula", o.FilterByFormula)
	}
	if o.PageSize > 0 {
		q.Set("pageSize", strconv.Itoa(o.PageSize))
	}
	if o.Offset != "" {
		q.Set("offset", o.Offset)
	}
	if o.ReturnFieldsByFieldID {
		q.Set("returnFieldsByFieldId", "true")
	}
	for i, s := range o.Sort {
		q.Set(fmt.Sprintf("sort[%d][field]", i), s.Field)
		if s.Direction != "" {
			q.Set(fmt.Sprintf("sort[%d][direction]", i), s.Direction)
		}
	}
	return q
}
