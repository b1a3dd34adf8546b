package airtablefake

import (
	"bytes"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"testing"
	"time"
)

var people = "/v0/" + testBase + "/People"

func TestCreateBatchLimit(t *testing.T) {
	s := newFake(t, unlimited)
	batch := func(n int) map[string]any {
		recs := []map[string]any{}
		for i := range n {
			recs = append(recs, fieldsOf(map[string]any{"Name": fmt.Sprint(i)})...)
		}
		return map[string]any{"records": recs}
	}
	wantError(t, call(t, s, http.MethodPost, people, batch(11)), 422, errInvalidRecords)
	wantError(t, call(t, s, http.MethodPost, people, batch(0)), 422, errInvalidRecords)
	if n := len(s.Records(testBase, "People")); n != 0 {
		t.Fatalf("a refused batch created %d records", n)
	}
	r := call(t, s, http.MethodPost, people, batch(10))
	wantOK(t, r)
	if len(r.records()) != 10 || len(s.Records(testBase, "People")) != 10 {
		t.Fatalf("created %d, stored %d, want 10", len(r.records()), len(s.Records(testBase, "People")))
	}
}

func TestCreateSingleRecordForm(t *testing.T) {
	s := newFake(t, unlimited)
	r := call(t, s, http.MethodPost, people, map[string]any{"fields": map[string]any{"Name": "Solo"}})
	wantOK(t, r)
	if r.body["id"] == nil || r.body["fields"].(map[string]any)["Name"] != "Solo" {
		t.Fatalf("single create answered %s", r.raw)
	}
}

func TestOneBadRecordFailsTheBatch(t *testing.T) {
	s := newFake(t, unlimited)
	r := call(t, s, http.MethodPost, people, map[string]any{"records": fieldsOf(
		map[string]any{"Name": "ok", "Status": "Todo"},
		map[string]any{"Name": "bad", "Age": "forty"},
		map[string]any{"Name": "ok too", "Status": "Brand new"},
	), "typecast": false})
	wantError(t, r, 422, errInvalidValue)
	if n := len(s.Records(testBase, "People")); n != 0 {
		t.Fatalf("a failed batch stored %d records", n)
	}
}

func TestCellValidation(t *testing.T) {
	type want struct {
		typ  string // error type; "" for success
		cell any    // for success: the cell in the response, nil for absent
	}
	tests := []struct {
		name     string
		field    string
		value    any
		typecast bool
		want     want
	}{
		{"text", "Name", "Ada", false, want{"", "Ada"}},
		{"number into text", "Name", 5, false, want{errInvalidValue, nil}},
		{"number into text with typecast", "Name", 5, true, want{"", "5"}},
		{"empty text is absent", "Notes", "", false, want{"", nil}},
		{"number", "Age", 42, false, want{"", 42.0}},
		{"text into number", "Age", "forty", false, want{errInvalidValue, nil}},
		{"numeric text into number", "Age", "42", false, want{errInvalidValue, nil}},
		{"numeric text with typecast", "Age", "42", true, want{"", 42.0}},
		{"precision rounds", "Score", 3.14159, false, want{"", 3.14}},
		{"precision zero rounds", "Age", 41.6, false, want{"", 42.0}},
		{"checkbox true", "Active", true, false, want{"", true}},
		{"checkbox false is absent", "Active", false, false, want{"", nil}},
		{"checkbox from text", "Active", "true", false, want{errInvalidValue, nil}},
		{"date", "Born", "2024-01-31", false, want{"", "2024-01-31"}},
		{"date from timestamp", "Born", "2024-01-31T23:00:00-02:00", false, want{"", "2024-02-01"}},
		{"bad date", "Born", "31/01/2024", false, want{errInvalidValue, nil}},
		{"date time in UTC", "Seen", "2024-01-31T10:00:00.5+02:00", false, want{"", "2024-01-31T08:00:00.500Z"}},
		{"bad date time", "Seen", "yesterday", false, want{errInvalidValue, nil}},
		{"select", "Status", "Doing", false, want{"", "Doing"}},
		{"unknown option", "Status", "Blocked", false, want{errInvalidChoice, nil}},
		{"unknown option with typecast", "Status", "Blocked", true, want{"", "Blocked"}},
		{"multiple selects", "Tags", []string{"b", "a", "b"}, false, want{"", []any{"b", "a"}}},
		{"unknown multiple option", "Tags", []string{"a", "z"}, false, want{errInvalidChoice, nil}},
		{"multiple selects from text", "Tags", "a, z", true, want{"", []any{"a", "z"}}},
		{"link to missing record", "Company", []string{"recMissing000000"}, false, want{errRowDoesNotExist, nil}},
		{"link must be a list", "Company", "recMissing000000", false, want{errInvalidValue, nil}},
		{"computed last modified", "Last Modified", "2024-01-01T00:00:00.000Z", false, want{errInvalidValue, nil}},
		{"computed created, even null", "Created", nil, true, want{errInvalidValue, nil}},
		{"unknown field", "Nope", "x", true, want{errUnknownField, nil}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newFake(t, unlimited)
			r := call(t, s, http.MethodPost, people, map[string]any{
				"records": fieldsOf(map[string]any{tc.field: tc.value}), "typecast": tc.typecast,
			})
			if tc.want.typ != "" {
				wantError(t, r, 422, tc.want.typ)
				return
			}
			wantOK(t, r)
			got, has := r.records()[0]["fields"].(map[string]any)[tc.field]
			if tc.want.cell == nil && has {
				t.Fatalf("cell is %v, want it absent", got)
			}
			if tc.want.cell != nil && !reflect.DeepEqual(got, tc.want.cell) {
				t.Fatalf("cell is %#v, want %#v", got, tc.want.cell)
			}
		})
	}
}

func TestTypecastAddsSelectOption(t *testing.T) {
	s := newFake(t, unlimited)
	wantOK(t, call(t, s, http.MethodPost, people, map[string]any{
		"records": fieldsOf(map[string]any{"Status": "Blocked"}), "typecast": true,
	}))
	// Now that it exists, it is accepted without typecast too.
	wantOK(t, call(t, s, http.MethodPost, people, map[string]any{"records": fieldsOf(map[string]any{"Status": "Blocked"})}))
	meta := call(t, s, http.MethodGet, "/v0/meta/bases/"+testBase+"/tables", nil)
	var choices []string
	for _, tbl := range meta.body["tables"].([]any) {
		for _, f := range tbl.(map[string]any)["fields"].([]any) {
			if f := f.(map[string]any); f["name"] == "Status" {
				for _, c := range f["options"].(map[string]any)["choices"].([]any) {
					choices = append(choices, c.(map[string]any)["name"].(string))
				}
			}
		}
	}
	if !slices.Equal(choices, []string{"Todo", "Doing", "Done", "Blocked"}) {
		t.Fatalf("choices %v", choices)
	}
}

// TestWriteBodyIsStrict checks what encoding/json alone would let through
// but Airtable refuses.
func TestWriteBodyIsStrict(t *testing.T) {
	s := newFake(t, unlimited)
	req, _ := http.NewRequest(http.MethodPost, s.URL()+people, bytes.NewReader([]byte(`{"records":[{"fields":{}}]}`)))
	req.Header.Set("Authorization", "Bearer "+DefaultToken)
	wantError(t, send(t, req), 422, errMissingFields)
	for _, body := range []map[string]any{
		{"records": fieldsOf(map[string]any{"Name": "x"}), "typeCast": true},
		{"records": []map[string]any{{"Fields": map[string]any{"Name": "x"}}}},
		{"records": fieldsOf(map[string]any{"Name": "x"}), "performUpsert": map[string]any{"fieldsToMergeon": []string{"Name"}}},
		{"records": "x"},
	} {
		wantError(t, call(t, s, http.MethodPost, people, body), 422, errInvalidRequest)
	}
	if n := len(s.Records(testBase, "People")); n != 0 {
		t.Fatalf("refused bodies created %d records", n)
	}
}

func TestPatchMergesAndPutReplaces(t *testing.T) {
	s := newFake(t, unlimited)
	rec := s.Insert(testBase, "People", map[string]any{"Name": "Ada", "Age": 36, "Email": "ada@example.com"})

	r := call(t, s, http.MethodPatch, people, map[string]any{"records": []map[string]any{
		{"id": rec.ID, "fields": map[string]any{"Age": 37, "Email": nil}},
	}})
	wantOK(t, r)
	got := r.records()[0]["fields"].(map[string]any)
	if got["Name"] != "Ada" || got["Age"] != 37.0 || got["Email"] != nil {
		t.Fatalf("PATCH left %v", got)
	}

	r = call(t, s, http.MethodPut, people, map[string]any{"records": []map[string]any{
		{"id": rec.ID, "fields": map[string]any{"Name": "Ada L."}},
	}})
	wantOK(t, r)
	if got := s.Records(testBase, "People")[0].Fields; got["Name"] != "Ada L." || got["Age"] != nil {
		t.Fatalf("PUT left %v", got)
	}

	wantError(t, call(t, s, http.MethodPatch, people, map[string]any{"records": []map[string]any{
		{"id": rec.ID, "fields": map[string]any{"Age": 1}},
		{"id": "recMissing000000", "fields": map[string]any{"Age": 2}},
	}}), 422, errRowDoesNotExist)
	if age := s.Records(testBase, "People")[0].Fields["Age"]; age != nil {
		t.Fatalf("a failed batch still set Age to %v", age)
	}
	wantError(t, call(t, s, http.MethodPatch, people, map[string]any{"records": fieldsOf(map[string]any{"Age": 2})}),
		422, errInvalidRecords)

	one := call(t, s, http.MethodPatch, people+"/"+rec.ID, map[string]any{"fields": map[string]any{"Age": 40}})
	wantOK(t, one)
	if one.body["fields"].(map[string]any)["Age"] != 40.0 {
		t.Fatalf("single-record PATCH answered %s", one.raw)
	}
	wantError(t, call(t, s, http.MethodPatch, people+"/recMissing000000", map[string]any{"fields": map[string]any{}}), 404, errNotFound)
}

func TestUpsert(t *testing.T) {
	s := newFake(t, unlimited)
	existing := s.Insert(testBase, "People", map[string]any{"Name": "Ada", "Email": "ada@example.com", "Age": 36})
	upsert := func(recs ...map[string]any) response {
		return call(t, s, http.MethodPatch, people, map[string]any{
			"performUpsert": map[string]any{"fieldsToMergeOn": []string{"Email"}},
			"records":       fieldsOf(recs...),
		})
	}

	r := upsert(
		map[string]any{"Email": "ada@example.com", "Age": 37},
		map[string]any{"Email": "bob@example.com", "Name": "Bob"},
		map[string]any{"Email": "bob@example.com", "Age": 50}, // repeats the new one
	)
	wantOK(t, r)
	created, updated := r.body["createdRecords"].([]any), r.body["updatedRecords"].([]any)
	if len(updated) != 1 || updated[0] != existing.ID || len(created) != 1 {
		t.Fatalf("created %v, updated %v", created, updated)
	}
	recs := s.Records(testBase, "People")
	if len(recs) != 2 || recs[0].Fields["Age"] != 37.0 || recs[0].Fields["Name"] != "Ada" ||
		recs[1].Fields["Name"] != "Bob" || recs[1].Fields["Age"] != 50.0 {
		t.Fatalf("after upsert: %+v", recs)
	}

	s.Insert(testBase, "People", map[string]any{"Name": "Ada's twin", "Email": "ada@example.com"})
	wantError(t, upsert(map[string]any{"Email": "ada@example.com", "Age": 1}), 422, errInvalidRecords)
	wantError(t, upsert(map[string]any{"Age": 1}), 422, errInvalidRecords)
	if n := len(s.Records(testBase, "People")); n != 3 {
		t.Fatalf("refused upserts changed the table to %d records", n)
	}

	plain := call(t, s, http.MethodPatch, people, map[string]any{"records": []map[string]any{
		{"id": existing.ID, "fields": map[string]any{"Age": 38}},
	}})
	if _, has := plain.body["createdRecords"]; has {
		t.Fatalf("a plain update reported createdRecords: %s", plain.raw)
	}
}

func TestDelete(t *testing.T) {
	clock := newClock()
	opts := unlimited
	opts.Now = clock.Now
	s := newFake(t, opts)
	acme := s.Insert(testBase, "Companies", map[string]any{"Name": "Acme"})
	globex := s.Insert(testBase, "Companies", map[string]any{"Name": "Globex"})
	ada := s.Insert(testBase, "People", map[string]any{"Name": "Ada", "Company": []string{acme.ID, globex.ID}})
	companies := "/v0/" + testBase + "/Companies"

	wantError(t, call(t, s, http.MethodDelete, companies+"?records[]="+acme.ID+"&records[]=recMissing000000", nil), 422, errRowDoesNotExist)
	if n := len(s.Records(testBase, "Companies")); n != 2 {
		t.Fatalf("a refused delete left %d companies", n)
	}
	q := ""
	for range 11 {
		q += "&records[]=" + acme.ID
	}
	wantError(t, call(t, s, http.MethodDelete, companies+"?"+q[1:], nil), 422, errInvalidRecords)

	clock.Advance(time.Minute)
	r := call(t, s, http.MethodDelete, companies+"?records[]="+acme.ID, nil)
	wantOK(t, r)
	if got := r.records(); len(got) != 1 || got[0]["id"] != acme.ID || got[0]["deleted"] != true {
		t.Fatalf("delete answered %s", r.raw)
	}
	after, _ := s.Get(testBase, "People", ada.ID)
	if links := after.Fields["Company"]; !reflect.DeepEqual(links, []string{globex.ID}) || !after.LastModified.After(ada.LastModified) {
		t.Fatalf("link cell %v, modified %v (was %v)", links, after.LastModified, ada.LastModified)
	}
	one := call(t, s, http.MethodDelete, companies+"/"+globex.ID, nil)
	if one.body["id"] != globex.ID || one.body["deleted"] != true {
		t.Fatalf("single delete answered %s", one.raw)
	}
	wantError(t, call(t, s, http.MethodDelete, companies+"/"+globex.ID, nil), 404, errNotFound)
}

func TestWriteReturnsFieldsByID(t *testing.T) {
	s := newFake(t, unlimited)
	nameID := s.FieldID(testBase, "People", "Name")
	r := call(t, s, http.MethodPost, people, map[string]any{
		"records": fieldsOf(map[string]any{nameID: "By ID"}), "returnFieldsByFieldId": true,
	})
	wantOK(t, r)
	if r.records()[0]["fields"].(map[string]any)[nameID] != "By ID" {
		t.Fatalf("fields not keyed by ID: %s", r.raw)
	}
}

func TestModificationTimes(t *testing.T) {
	clock := newClock() // never advances: every change is in the same millisecond
	opts := unlimited
	opts.Now = clock.Now
	s := newFake(t, opts)
	a := s.Insert(testBase, "People", map[string]any{"Name": "a"})
	b := s.Insert(testBase, "People", map[string]any{"Name": "b"})
	if !a.CreatedTime.Equal(clock.Now()) || b.LastModified.Sub(a.LastModified) != time.Millisecond {
		t.Fatalf("a at %v, b at %v", a.LastModified, b.LastModified)
	}
	same := s.Update(testBase, "People", a.ID, map[string]any{"Name": "a"})
	if !same.LastModified.Equal(a.LastModified) {
		t.Fatalf("writing the same value bumped the modification time to %v", same.LastModified)
	}
	changed := s.Update(testBase, "People", a.ID, map[string]any{"Name": "a2"})
	if !changed.LastModified.After(b.LastModified) || changed.Fields["Last Modified"] != formatTime(changed.LastModified) {
		t.Fatalf("update at %v (field %v), b at %v", changed.LastModified, changed.Fields["Last Modified"], b.LastModified)
	}
	if changed.Fields["Created"] != formatTime(a.CreatedTime) {
		t.Fatalf("Created changed to %v", changed.Fields["Created"])
	}
}
