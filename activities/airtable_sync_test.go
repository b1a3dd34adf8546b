package activities

import (
	"testing"
	"time"

	"github.com/groundwork-dev/groundwork/db"
)

// TestSchemaCacheServesOnlyTheSameRunAndMapping: a run's schemas serve its
// later passes until the run drops them, the mapping is edited, or they
// are older than schemaTTL; another run never gets them.
func TestSchemaCacheServesOnlyTheSameRunAndMapping(t *testing.T) {
	var c schemaCache
	edited := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := cachedSchema{mappingUpdated: edited, types: map[string]string{"Name": "singleLineText"},
		pg: db.PostgresTable{Name: "contacts", Key: "id"}, read: time.Now()}
	c.put("run-a", s)
	if got, ok := c.get("run-a", edited); !ok || got.pg.Key != "id" || got.types["Name"] != "singleLineText" {
		t.Fatalf("the run's own schemas: %+v %v", got, ok)
	}
	if _, ok := c.get("run-b", edited); ok {
		t.Fatal("another run got them")
	}
	if _, ok := c.get("run-a", edited.Add(time.Second)); ok {
		t.Fatal("served after the mapping was edited")
	}
	c.drop("run-a")
	if _, ok := c.get("run-a", edited); ok {
		t.Fatal("served after the run dropped them")
	}
	old := s
	old.read = time.Now().Add(-schemaTTL - time.Minute)
	c.put("run-old", old)
	if _, ok := c.get("run-old", edited); ok {
		t.Fatal("served past schemaTTL")
	}
	c.put("run-c", s)
	if _, kept := c.runs["run-old"]; kept || len(c.runs) != 1 {
		t.Fatalf("stale runs are not evicted: %v", c.runs)
	}
}
