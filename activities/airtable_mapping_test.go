package activities

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
)

// TestInternalTablesCoverTheMigrations keeps the list of tables no
// mapping may sync in step with the tables the migrations create.
func TestInternalTablesCoverTheMigrations(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "db", "migrations", "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("migrations: %v", err)
	}
	create := regexp.MustCompile(`(?m)^CREATE TABLE (\w+)`)
	rename := regexp.MustCompile(`(?m)^ALTER TABLE (\w+) RENAME TO (\w+);`)
	tables := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		up := regexp.MustCompile(`(?s)-- \+goose Down.*`).ReplaceAll(b, nil)
		for _, m := range create.FindAllSubmatch(up, -1) {
			tables[string(m[1])] = true
		}
		for _, m := range rename.FindAllSubmatch(up, -1) {
			delete(tables, string(m[1]))
			tables[string(m[2])] = true
		}
	}
	for name := range tables {
		if !slices.Contains(InternalTables, name) {
			t.Errorf("table %s is not in InternalTables: a mapping could sync it", name)
		}
	}
}

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
	for name, mutate := range map[string]func(*AirtableMapping){
		"sql in table":         func(m *AirtableMapping) { m.Postgres.Table = "public.x; DROP TABLE users" },
		"updated_at mapped":    func(m *AirtableMapping) { m.Fields[0].Postgres = "updated_at" },
		"duplicate column":     func(m *AirtableMapping) { m.Fields = append(m.Fields, m.Fields[0]) },
		"modified field":       func(m *AirtableMapping) { m.Fields[0].Airtable = "Last Modified" },
		"bad direction":        func(m *AirtableMapping) { m.Fields[0].Direction = "sideways" },
		"bad conflict":         func(m *AirtableMapping) { m.Conflict = "coin_toss" },
		"schedule too short":   func(m *AirtableMapping) { m.Schedule = "10s" },
		"key is a field":       func(m *AirtableMapping) { m.Fields[0].Postgres = "email" },
		"bad deletes":          func(m *AirtableMapping) { m.Deletes = "some" },
		"no fields":            func(m *AirtableMapping) { m.Fields = nil },
		"key is modified time": func(m *AirtableMapping) { m.Key.Airtable = "Last Modified" },
	} {
		m := ok
		m.Fields = slices.Clone(ok.Fields)
		mutate(&m)
		if errs := m.Validate(); len(errs) == 0 {
			t.Errorf("%s: accepted", name)
		}
	}
}
