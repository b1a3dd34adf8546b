package db

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
	files, err := filepath.Glob(filepath.Join("migrations", "*.sql"))
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
		if !slices.Contains(InternalTables, name) && !slices.Contains(SyncableTables, name) {
			t.Errorf("table %s is not in InternalTables: a mapping could sync it", name)
		}
	}
}
