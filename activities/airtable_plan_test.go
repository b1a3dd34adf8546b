package activities

import (
	"context"
	"testing"

	"github.com/groundwork-dev/groundwork/internal/testkit/testenv"
)

// TestStorePlanKeepsAnAppliedDecision: a plan stored again for the same
// run (an attempt that timed out finishing after its retry did) adds what
// is missing and leaves the decisions already there, and their done
// marks, as they are.
func TestStorePlanKeepsAnAppliedDecision(t *testing.T) {
	pool, _ := testenv.Pool(t)
	ctx := context.Background()
	const run = "airtable-01JD4X7Q2W6ZC5D3V9N8K1M2P4"
	if _, err := pool.Exec(ctx, `INSERT INTO users (id) VALUES ('plan-owner');
		INSERT INTO workspaces (id) VALUES ('plan-owner');
		INSERT INTO runs (id, owner_id, workspace_id, kind, request_hash) VALUES ('`+run+`', 'plan-owner', 'plan-owner', 'airtable', '\x00')`); err != nil {
		t.Fatal(err)
	}
	first := []planRow{
		{runID: run, key: "a", decision: []byte(`{"v":1}`), airtableOp: "update", postgresOp: "none"},
		{runID: run, key: "b", decision: []byte(`{"v":1}`), airtableOp: "none", postgresOp: "create"},
	}
	if err := storePlan(ctx, pool, first); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE airtable_plan SET airtable_done = true, postgres_done = true WHERE run_id = $1 AND key = 'a'`, run); err != nil {
		t.Fatal(err)
	}
	again := []planRow{
		{runID: run, key: "a", decision: []byte(`{"v":2}`), airtableOp: "update", postgresOp: "none"},
		{runID: run, key: "c", decision: []byte(`{"v":2}`), airtableOp: "create", postgresOp: "none"},
	}
	if err := storePlan(ctx, pool, again); err != nil {
		t.Fatal(err)
	}
	rows, err := pool.Query(ctx, `SELECT key, decision->>'v', airtable_done FROM airtable_plan WHERE run_id = $1 ORDER BY key`, run)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var key, v string
		var done bool
		if err := rows.Scan(&key, &v, &done); err != nil {
			t.Fatal(err)
		}
		mark := ""
		if done {
			mark = " done"
		}
		got = append(got, key+"="+v+mark)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{"a=1 done", "b=1", "c=2"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("plan rows %v, want %v", got, want)
	}
}
