package groundwork

import (
	"slices"
	"testing"
)

func TestMappingValidate(t *testing.T) {
	ok := AirtableMapping{
		Name:     "customers",
		Airtable: AirtableSide{BaseID: "appX", Table: "Customers", ModifiedField: "Last Modified"},
		Postgres: PostgresSide{Table: "customers"},
		Key:      MappingKey{Airtable: "Email", Postgres: "email"},
		Fields:   []MappingField{{Airtable: "Name", Postgres: "name", Direction: "both"}},
		Conflict: ConflictLatestWins,
		Schedule: "5m",
	}
	ok.Normalize()
	if errs := ok.Validate(); len(errs) != 0 || ok.Postgres.Table != "public.customers" || ok.Every().Minutes() != 5 {
		t.Fatalf("valid mapping: %v %+v", errs, ok)
	}
	for name, tc := range map[string]struct {
		mutate func(*AirtableMapping)
		field  string // the field the first error must name
	}{
		"sql in table":         {func(m *AirtableMapping) { m.Postgres.Table = "public.x; DROP TABLE users" }, "postgres.table"},
		"updated_at mapped":    {func(m *AirtableMapping) { m.Fields[0].Postgres = "updated_at" }, "fields[0].postgres"},
		"duplicate column":     {func(m *AirtableMapping) { m.Fields = append(m.Fields, m.Fields[0]) }, "fields[1].postgres"},
		"modified field":       {func(m *AirtableMapping) { m.Fields[0].Airtable = "Last Modified" }, "fields[0].airtable"},
		"bad direction":        {func(m *AirtableMapping) { m.Fields[0].Direction = "sideways" }, "fields[0].direction"},
		"bad conflict":         {func(m *AirtableMapping) { m.Conflict = "coin_toss" }, "conflict"},
		"schedule too short":   {func(m *AirtableMapping) { m.Schedule = "10s" }, "schedule"},
		"key is a field":       {func(m *AirtableMapping) { m.Fields[0].Postgres = "email" }, "fields[0].postgres"},
		"bad deletes":          {func(m *AirtableMapping) { m.Deletes = "some" }, "deletes"},
		"no fields":            {func(m *AirtableMapping) { m.Fields = nil }, "fields"},
		"key is modified time": {func(m *AirtableMapping) { m.Key.Airtable = "Last Modified" }, "key.airtable"},
	} {
		m := ok
		m.Fields = slices.Clone(ok.Fields)
		tc.mutate(&m)
		errs := m.Validate()
		if len(errs) == 0 {
			t.Errorf("%s: accepted", name)
		} else if errs[0].Field != tc.field {
			t.Errorf("%s: first error names %q (%s), want %q", name, errs[0].Field, errs[0].Message, tc.field)
		}
	}
}
