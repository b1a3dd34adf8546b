package airtablefake

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var offsetPattern = regexp.MustCompile(`^itr[0-9A-Za-z]{14}/rec[0-9A-Za-z]{14}$`)

func seedPeople(s *Server, n int) []Record {
	out := make([]Record, n)
	for i := range out {
		out[i] = s.Insert(testBase, "People", map[string]any{"Name": fmt.Sprintf("p%03d", i), "Age": i})
	}
	return out
}

func TestListPagesThroughAllRecords(t *testing.T) {
	s := newFake(t, unlimited)
	seeded := seedPeople(s, 250)
	var got []string
	var sizes []int
	offset := ""
	for page := 0; ; page++ {
		if page > 5 {
			t.Fatal("paging does not end")
		}
		path := "/v0/" + testBase + "/People"
		if offset != "" {
			path += "?offset=" + url.QueryEscape(offset)
		}
		r := call(t, s, http.MethodGet, path, nil)
		wantOK(t, r)
		for _, rec := range r.records() {
			got = append(got, rec["id"].(string))
		}
		sizes = append(sizes, len(r.records()))
		next, has := r.body["offset"].(string)
		if !has {
			break
		}
		if !offsetPattern.MatchString(next) {
			t.Fatalf("offset %q does not look like Airtable's", next)
		}
		offset = next
	}
	if !slices.Equal(sizes, []int{100, 100, 50}) {
		t.Fatalf("page sizes %v, want [100 100 50]", sizes)
	}
	for i, rec := range seeded {
		if got[i] != rec.ID {
			t.Fatalf("record %d is %s, want %s in creation order", i, got[i], rec.ID)
		}
	}
}

func TestListOffsetCanBeRetriedUntilExpired(t *testing.T) {
	s := newFake(t, unlimited)
	seedPeople(s, 5)
	path := "/v0/" + testBase + "/People?pageSize=2"
	first := call(t, s, http.MethodGet, path, nil)
	wantOK(t, first)
	offset := first.body["offset"].(string)

	// Records created after the first page are not in the snapshot.
	s.Insert(testBase, "People", map[string]any{"Name": "late"})
	a := call(t, s, http.MethodGet, path+"&offset="+url.QueryEscape(offset), nil)
	b := call(t, s, http.MethodGet, path+"&offset="+url.QueryEscape(offset), nil)
	if got := names(a.records()); !slices.Equal(got, []string{"p002", "p003"}) || a.raw != b.raw {
		t.Fatalf("second page %v, retry %s", got, b.raw)
	}
	last := call(t, s, http.MethodGet, path+"&offset="+url.QueryEscape(a.body["offset"].(string)), nil)
	if got := names(last.records()); !slices.Equal(got, []string{"p004"}) || last.body["offset"] != nil {
		t.Fatalf("last page %v, offset %v", got, last.body["offset"])
	}

	s.ExpireOffsets()
	wantError(t, call(t, s, http.MethodGet, path+"&offset="+url.QueryEscape(offset), nil),
		http.StatusUnprocessableEntity, errIteratorGone)
	wantError(t, call(t, s, http.MethodGet, path+"&offset=itrNope/recNope", nil),
		http.StatusUnprocessableEntity, errIteratorGone)

	// An offset belongs to the table it was listed from.
	fresh := call(t, s, http.MethodGet, path, nil)
	wantError(t, call(t, s, http.MethodGet, "/v0/"+testBase+"/Companies?offset="+url.QueryEscape(fresh.body["offset"].(string)), nil),
		http.StatusUnprocessableEntity, errIteratorGone)
}

func TestListValidation(t *testing.T) {
	s := newFake(t, unlimited)
	seedPeople(s, 3)
	people := "/v0/" + testBase + "/People"
	tests := []struct {
		name, path string
		status     int
		typ        string
	}{
		{"page size over 100", people + "?pageSize=101", 422, errInvalidRequest},
		{"page size zero", people + "?pageSize=0", 422, errInvalidRequest},
		{"page size not a number", people + "?pageSize=ten", 422, errInvalidRequest},
		{"max records zero", people + "?maxRecords=0", 422, errInvalidRequest},
		{"misspelt parameter", people + "?field[]=Name", 422, errInvalidRequest},
		{"unknown field", people + "?fields[]=Nope", 422, errUnknownField},
		{"unknown sort field", people + "?sort[0][field]=Nope", 422, errUnknownField},
		{"bad sort direction", people + "?sort[0][field]=Age&sort[0][direction]=up", 422, errInvalidRequest},
		{"unknown view", people + "?view=Kanban", 422, errViewNotFound},
		{"string cell format", people + "?cellFormat=string", 422, errInvalidRequest},
		{"unknown table", "/v0/" + testBase + "/Nope", 404, errTableNotFound},
		{"unknown base", "/v0/appNope/People", 404, errNotFound},
		{"missing record", people + "/recNope", 404, errNotFound},
		{"unknown route", "/v1/whatever", 404, errNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, call(t, s, http.MethodGet, tc.path, nil), tc.status, tc.typ)
		})
	}
}

func TestListOptions(t *testing.T) {
	s := newFake(t, unlimited)
	seedPeople(s, 5)
	people := "/v0/" + testBase + "/People"
	nameID, ageID := s.FieldID(testBase, "People", "Name"), s.FieldID(testBase, "People", "Age")
	tests := []struct {
		name, query string
		want        []string
	}{
		{"sort descending with max records", "sort[0][field]=Age&sort[0][direction]=desc&maxRecords=3", []string{"p004", "p003", "p002"}},
		{"sort by field ID", "sort[0][field]=" + ageID + "&sort[0][direction]=desc&pageSize=1&maxRecords=1", []string{"p004"}},
		{"default view", "view=" + url.QueryEscape("Grid view") + "&pageSize=2", []string{"p000", "p001"}},
		{"formula", "filterByFormula=" + url.QueryEscape("{Age} >= 3"), []string{"p003", "p004"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, s, http.MethodGet, people+"?"+tc.query, nil)
			wantOK(t, r)
			if got := names(r.records()); !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}

	t.Run("fields by ID", func(t *testing.T) {
		r := call(t, s, http.MethodGet, people+"?fields[]=Name&fields%5B%5D="+ageID+"&returnFieldsByFieldId=true&maxRecords=1", nil)
		wantOK(t, r)
		fields := r.records()[0]["fields"].(map[string]any)
		if len(fields) != 2 || fields[nameID] != "p000" || fields[ageID] != 0.0 {
			t.Fatalf("fields %v, want only %s and %s", fields, nameID, ageID)
		}
	})
}

func TestListRecordsByPost(t *testing.T) {
	s := newFake(t, unlimited)
	seedPeople(s, 5)
	path := "/v0/" + testBase + "/People/listRecords"
	long := "OR(" + strings.Repeat("{Name} = 'nobody', ", 200) + "{Age} = 1, {Age} = 2)"
	r := call(t, s, http.MethodPost, path, map[string]any{
		"filterByFormula": long, "pageSize": 1, "fields": []string{"Name"},
		"sort": []map[string]string{{"field": "Age", "direction": "desc"}},
	})
	wantOK(t, r)
	if got := names(r.records()); !slices.Equal(got, []string{"p002"}) || r.body["offset"] == nil {
		t.Fatalf("first page %v, offset %v", got, r.body["offset"])
	}
	next := call(t, s, http.MethodPost, path, map[string]any{"offset": r.body["offset"], "pageSize": 1})
	if got := names(next.records()); !slices.Equal(got, []string{"p001"}) {
		t.Fatalf("second page %v", got)
	}
	wantError(t, call(t, s, http.MethodPost, path, map[string]any{"pagesize": 1}), 422, errInvalidRequest) // keys are case-sensitive
	wantError(t, call(t, s, http.MethodPost, path, map[string]any{"pageSize": "1"}), 422, errInvalidRequest)
}

func TestGetRecord(t *testing.T) {
	s := newFake(t, unlimited)
	rec := s.Insert(testBase, "People", map[string]any{"Name": "Ada", "Active": false, "Tags": []string{"a"}})
	r := call(t, s, http.MethodGet, "/v0/"+testBase+"/People/"+rec.ID, nil)
	wantOK(t, r)
	fields := r.body["fields"].(map[string]any)
	if r.body["id"] != rec.ID || fields["Name"] != "Ada" || fields["Tags"].([]any)[0] != "a" {
		t.Fatalf("record %s", r.raw)
	}
	if _, has := fields["Active"]; has {
		t.Fatalf("an unchecked checkbox must be absent: %s", r.raw)
	}
	if !strings.HasSuffix(r.body["createdTime"].(string), "Z") || fields["Created"] != r.body["createdTime"] {
		t.Fatalf("createdTime %v, Created field %v", r.body["createdTime"], fields["Created"])
	}
}
