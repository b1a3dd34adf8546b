package airtablefake

import (
	"encoding/json"
	"fmt"
)

// The methods in this file change and read tables directly, as a person in
// the Airtable UI would: they bypass authentication, the rate limits and the
// request log. Values take the API's JSON form; Go values that marshal to it
// (int, []string, time.Time) are fine. Select options are added as with
// typecast. Invalid input is a bug in the test, so they panic.

// Insert creates a record and returns it.
func (s *Server) Insert(baseID, tableRef string, fields map[string]any) Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.mustTable(baseID, tableRef)
	values := s.mustValues(t, fields)
	return snapshot(t, s.apply(t, &change{values: values}))
}

// Update changes the given cells of a record (a nil value clears one) and
// bumps its modification time, as a human edit would; setting a cell to the
// value it has is no change and bumps nothing, as in Airtable.
func (s *Server) Update(baseID, tableRef, id string, fields map[string]any) Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.mustTable(baseID, tableRef)
	r := s.mustRecord(t, id)
	values := s.mustValues(t, fields)
	return snapshot(t, s.apply(t, &change{rec: r, values: values}))
}

// Delete deletes a record, and removes it from the link cells that named it.
func (s *Server) Delete(baseID, tableRef, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.mustTable(baseID, tableRef)
	s.remove(t, s.mustRecord(t, id))
}

// Get returns a record, and false when there is none.
func (s *Server) Get(baseID, tableRef, id string) (Record, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.mustTable(baseID, tableRef)
	r := t.byID[id]
	if r == nil {
		return Record{}, false
	}
	return snapshot(t, r), true
}

// Records returns a snapshot of a table's records sorted by ID, which is
// also their creation order.
func (s *Server) Records(baseID, tableRef string) []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.mustTable(baseID, tableRef)
	out := make([]Record, len(t.records))
	for i, r := range t.records {
		out[i] = snapshot(t, r)
	}
	return out
}

// ExpireOffsets forgets every list offset handed out so far, as Airtable does
// after a while, so that the next page request with one gets a 422
// LIST_RECORDS_ITERATOR_NOT_AVAILABLE and the client has to start over.
func (s *Server) ExpireOffsets() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.iterators)
}

func (s *Server) mustRecord(t *table, id string) *record {
	r := t.byID[id]
	if r == nil {
		panic(fmt.Sprintf("airtablefake: no record %s in table %q", id, t.name))
	}
	return r
}

// mustValues converts Go values to their JSON form and validates them.
func (s *Server) mustValues(t *table, fields map[string]any) map[string]any {
	data, err := json.Marshal(fields)
	if err != nil {
		panic(fmt.Sprintf("airtablefake: fields of table %q: %v", t.name, err))
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		panic(fmt.Sprintf("airtablefake: fields of table %q: %v", t.name, err))
	}
	values, apiErr := s.planValues(t, raw, true)
	if apiErr != nil {
		panic(fmt.Sprintf("airtablefake: fields of table %q: %s", t.name, apiErr.msg))
	}
	return values
}
