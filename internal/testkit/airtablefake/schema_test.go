package airtablefake

import (
	"net/http"
	"strings"
	"testing"
)

func TestCreateTableRejectsBadSpecs(t *testing.T) {
	text := FieldSpec{Name: "Name", Type: TypeSingleLineText}
	tests := []struct {
		name string
		spec TableSpec
		want string
	}{
		{"no name", TableSpec{Fields: []FieldSpec{text}}, "required"},
		{"no fields", TableSpec{Name: "T"}, "at least one field"},
		{"duplicate table", TableSpec{Name: "People", Fields: []FieldSpec{text}}, "exists"},
		{"unknown type", TableSpec{Name: "T", Fields: []FieldSpec{{Name: "X", Type: "rollup"}}}, "unsupported type"},
		{"duplicate field", TableSpec{Name: "T", Fields: []FieldSpec{text, text}}, "duplicate name"},
		{"choices on text", TableSpec{Name: "T", Fields: []FieldSpec{{Name: "X", Type: TypeSingleLineText, Choices: []string{"a"}}}}, "choices"},
		{"repeated choice", TableSpec{Name: "T", Fields: []FieldSpec{{Name: "X", Type: TypeSingleSelect, Choices: []string{"a", "a"}}}}, "repeated"},
		{"link without table", TableSpec{Name: "T", Fields: []FieldSpec{{Name: "X", Type: TypeMultipleRecordLinks}}}, "LinkedTable"},
		{"link to unknown table", TableSpec{Name: "T", Fields: []FieldSpec{{Name: "X", Type: TypeMultipleRecordLinks, LinkedTable: "Nope"}}}, "not in the base"},
		{"precision", TableSpec{Name: "T", Fields: []FieldSpec{{Name: "X", Type: TypeNumber, Precision: 9}}}, "precision"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newFake(t, unlimited)
			defer func() {
				msg, _ := recover().(string)
				if !strings.Contains(msg, tc.want) {
					t.Fatalf("panic %q, want it to mention %q", msg, tc.want)
				}
			}()
			s.CreateTable(testBase, tc.spec)
		})
	}
}

func TestSelfLinkAndGoAPIDelete(t *testing.T) {
	s := newFake(t, unlimited)
	s.CreateTable(testBase, TableSpec{Name: "Tasks", Fields: []FieldSpec{
		{Name: "Name", Type: TypeSingleLineText},
		{Name: "Blocked by", Type: TypeMultipleRecordLinks, LinkedTable: "Tasks"},
	}})
	a := s.Insert(testBase, "Tasks", map[string]any{"Name": "a"})
	b := s.Insert(testBase, "Tasks", map[string]any{"Name": "b", "Blocked by": []string{a.ID}})
	r := call(t, s, http.MethodGet, "/v0/"+testBase+"/Tasks?filterByFormula="+"%7BBlocked%20by%7D%3D'a'", nil)
	if got := names(r.records()); len(got) != 1 || got[0] != "b" {
		t.Fatalf("link by primary value: %v", got)
	}
	s.Delete(testBase, "Tasks", a.ID)
	if _, ok := s.Get(testBase, "Tasks", a.ID); ok {
		t.Fatal("Delete kept the record")
	}
	if got, _ := s.Get(testBase, "Tasks", b.ID); got.Fields["Blocked by"] != nil {
		t.Fatalf("link to a deleted record kept: %v", got.Fields)
	}
}
