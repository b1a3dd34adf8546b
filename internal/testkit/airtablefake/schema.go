package airtablefake

import (
	"errors"
	"fmt"
	"slices"
)

// base is an Airtable base: the unit of the per-base rate limit.
type base struct {
	id     string
	tables []*table
}

// table holds its records in creation order, which is the order of an
// unsorted list.
type table struct {
	id, name string
	viewID   string // the one view every table has, "Grid view"
	base     *base
	fields   []*field
	records  []*record
	byID     map[string]*record
}

type field struct {
	id, name, typ string
	choices       []choice
	precision     int
	linked        *table
}

type choice struct{ id, name string }

// defaultView is the name of the view Airtable creates with every table.
const defaultView = "Grid view"

// fieldTypes lists the supported types; true marks the computed ones.
var fieldTypes = map[string]bool{
	TypeSingleLineText: false, TypeMultilineText: false, TypeEmail: false, TypeURL: false,
	TypeNumber: false, TypeCheckbox: false, TypeDate: false, TypeDateTime: false,
	TypeSingleSelect: false, TypeMultipleSelects: false, TypeMultipleRecordLinks: false,
	TypeLastModifiedTime: true, TypeCreatedTime: true,
}

func (f *field) computed() bool { return fieldTypes[f.typ] }

func (f *field) isSelect() bool {
	return f.typ == TypeSingleSelect || f.typ == TypeMultipleSelects
}

func (f *field) hasChoice(name string) bool {
	return slices.ContainsFunc(f.choices, func(c choice) bool { return c.name == name })
}

// field finds a field by name or by ID, as the API accepts either.
func (t *table) field(ref string) *field {
	for _, f := range t.fields {
		if f.name == ref || f.id == ref {
			return f
		}
	}
	return nil
}

// table finds a table by name or by ID.
func (b *base) table(ref string) *table {
	for _, t := range b.tables {
		if t.name == ref || t.id == ref {
			return t
		}
	}
	return nil
}

// lookupTable resolves a base and table from a URL the way Airtable answers
// unknown ones. Airtable answers personal access tokens 403
// INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND for both nowadays; the fake keeps
// the distinct 404s so a test can tell which part was wrong.
func (s *Server) lookupTable(baseID, tableRef string) (*table, *apiError) {
	b := s.bases[baseID]
	if b == nil {
		return nil, notFound()
	}
	t := b.table(tableRef)
	if t == nil {
		return nil, &apiError{404, errTableNotFound,
			fmt.Sprintf("Could not find table %s in application %s", tableRef, baseID)}
	}
	return t, nil
}

// CreateTable adds a table to a base, creating the base on first use, and
// returns the table's "tbl…" ID. A bad spec is a bug in the test, so it
// panics.
func (s *Server) CreateTable(baseID string, spec TableSpec) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.createTable(baseID, spec)
	if err != nil {
		panic(fmt.Sprintf("airtablefake: create table %q in %s: %v", spec.Name, baseID, err))
	}
	return t.id
}

func (s *Server) createTable(baseID string, spec TableSpec) (*table, error) {
	if baseID == "" || spec.Name == "" {
		return nil, errors.New("base ID and table name are required")
	}
	b := s.bases[baseID]
	if b == nil {
		b = &base{id: baseID}
	}
	if b.table(spec.Name) != nil {
		return nil, errors.New("a table with that name exists")
	}
	if len(spec.Fields) == 0 {
		return nil, errors.New("a table needs at least one field")
	}
	t := &table{id: s.newID("tbl"), name: spec.Name, viewID: s.newID("viw"), base: b, byID: map[string]*record{}}
	for _, fs := range spec.Fields {
		f, err := s.newField(b, t, fs)
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", fs.Name, err)
		}
		if t.field(fs.Name) != nil {
			return nil, fmt.Errorf("field %q: duplicate name", fs.Name)
		}
		t.fields = append(t.fields, f)
	}
	s.bases[baseID] = b
	b.tables = append(b.tables, t)
	return t, nil
}

func (s *Server) newField(b *base, t *table, fs FieldSpec) (*field, error) {
	if _, ok := fieldTypes[fs.Type]; !ok {
		return nil, fmt.Errorf("unsupported type %q", fs.Type)
	}
	if fs.Name == "" {
		return nil, errors.New("name is required")
	}
	f := &field{id: s.newID("fld"), name: fs.Name, typ: fs.Type, precision: fs.Precision}
	if fs.Precision < 0 || fs.Precision > 8 {
		return nil, errors.New("precision must be 0 to 8")
	}
	if len(fs.Choices) > 0 && !f.isSelect() {
		return nil, errors.New("only select fields have choices")
	}
	for _, c := range fs.Choices {
		if f.hasChoice(c) || c == "" {
			return nil, fmt.Errorf("choice %q is empty or repeated", c)
		}
		f.choices = append(f.choices, choice{s.newID("sel"), c})
	}
	if (fs.LinkedTable != "") != (fs.Type == TypeMultipleRecordLinks) {
		return nil, errors.New("LinkedTable is required for, and only for, multipleRecordLinks")
	}
	if fs.LinkedTable != "" {
		f.linked = b.table(fs.LinkedTable)
		if fs.LinkedTable == t.name {
			f.linked = t
		}
		if f.linked == nil {
			return nil, fmt.Errorf("linked table %q is not in the base", fs.LinkedTable)
		}
	}
	return f, nil
}

// FieldID returns the "fld…" ID of a field, found by table and field name or
// ID, for tests of returnFieldsByFieldId; it panics when there is none.
func (s *Server) FieldID(baseID, tableRef, fieldRef string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.mustTable(baseID, tableRef)
	f := t.field(fieldRef)
	if f == nil {
		panic(fmt.Sprintf("airtablefake: no field %q in table %q", fieldRef, tableRef))
	}
	return f.id
}

func (s *Server) mustTable(baseID, tableRef string) *table {
	t, err := s.lookupTable(baseID, tableRef)
	if err != nil {
		panic(fmt.Sprintf("airtablefake: table %q in base %s: %s", tableRef, baseID, err.msg))
	}
	return t
}

// idAlphabet is in ASCII order, so that IDs of one prefix sort in creation
// order and Records' order by ID is also the order of an unsorted list.
const idAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newID returns the next ID for a prefix: the prefix and 14 alphanumerics,
// the shape of Airtable's IDs. Counters rather than randomness keep test
// runs reproducible.
func (s *Server) newID(prefix string) string {
	s.seq[prefix]++
	n := s.seq[prefix]
	var b [14]byte
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = idAlphabet[n%uint64(len(idAlphabet))]
		n /= uint64(len(idAlphabet))
	}
	return prefix + string(b[:])
}
