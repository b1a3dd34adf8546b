package syncplan

import (
	"fmt"
	"testing"
)

// TestDeletes covers every Deletes mode × the side that deleted × whether
// and where the survivor edited the record since the last sync.
func TestDeletes(t *testing.T) {
	base := Mapping{Fields: []Field{
		{Name: "name", Direction: Both},
		{Name: "owner", Direction: Push},
		{Name: "stage", Direction: Pull},
	}, Policy: AirtableWins}
	anc := map[string]any{"name": "Ada", "owner": "bob", "stage": "lead"}
	with := func(k string, v any) map[string]any {
		out := map[string]any{"name": "Ada", "owner": "bob", "stage": "lead"}
		if k != "" {
			out[k] = v
		}
		return out
	}
	edits := []struct {
		name  string
		field string // edited on the survivor, "" for none
		value any
	}{
		{"unedited", "", nil},
		{"name edited", "name", "Ada L."},
		{"owner edited", "owner", "eve"},
		{"stage edited", "stage", "won"},
		{"name cleared", "name", nil},
	}
	for _, mode := range []Deletes{"", DeletesNone, DeletesAirtableToPostgres, DeletesPostgresToAirtable, DeletesBoth} {
		for _, deleted := range []string{WinnerAirtable, WinnerPostgres} {
			for _, e := range edits {
				t.Run(fmt.Sprintf("%q/%s deleted/%s", mode, deleted, e.name), func(t *testing.T) {
					m := base
					m.Deletes = mode
					r := Record{Key: "k", Link: linked(anc)}
					survivor := present(with(e.field, e.value), at(1))
					survivorName := WinnerPostgres
					owns := map[string]bool{"name": true, "owner": true} // the fields Postgres may win
					propagate := mode == DeletesAirtableToPostgres || mode == DeletesBoth
					if deleted == WinnerAirtable {
						r.Postgres = survivor
					} else {
						r.Airtable = survivor
						survivorName = WinnerAirtable
						owns = map[string]bool{"name": true, "stage": true}
						propagate = mode == DeletesPostgresToAirtable || mode == DeletesBoth
					}
					d := Decide(m, r)
					survivorOp, deletedOp, recreated := &d.Postgres, &d.Airtable, d.AirtableFields
					if deleted == WinnerPostgres {
						survivorOp, deletedOp, recreated = &d.Airtable, &d.Postgres, d.PostgresFields
					}

					switch {
					case owns[e.field]:
						// The edit wins over the deletion, whatever the mode.
						if *deletedOp != OpCreate || *survivorOp != OpNone || d.Conflicts != 1 {
							t.Fatalf("want a re-creation with one conflict, got %+v", d)
						}
						want := map[string]any{}
						for f := range owns {
							if v := with(e.field, e.value)[f]; v != nil || f == e.field {
								want[f] = v
							}
						}
						assertEqual(t, "re-created fields", recreated, want)
						for _, c := range d.Changes {
							if c.Winner != survivorName || c.Old != anc[c.Field] || c.Loser != nil || c.Conflict != (c.Field == e.field) {
								t.Fatalf("bad audit entry %+v", c)
							}
						}
						synced := with(e.field, e.value)
						for f := range synced {
							if !owns[f] {
								synced[f] = nil // empty in the new record
							}
						}
						assertEqual(t, "synced", d.Synced, synced)
					case propagate:
						if *survivorOp != OpDelete || *deletedOp != OpNone || d.Synced != nil || len(d.Changes) != 0 {
							t.Fatalf("want the delete propagated and the link dropped, got %+v", d)
						}
					default:
						assertNoWrites(t, d)
						assertEqual(t, "tombstone", d.Synced, anc)
					}
				})
			}
		}
	}
}

// TestDeletedOnBothSides checks that a record gone from both sides drops
// its link.
func TestDeletedOnBothSides(t *testing.T) {
	m := Mapping{Fields: []Field{{Name: "f", Direction: Both}}, Policy: AirtableWins, Deletes: DeletesBoth}
	d := Decide(m, Record{Key: "k", Link: linked(map[string]any{"f": 1})})
	assertNoWrites(t, d)
	if d.Synced != nil {
		t.Fatalf("the link must be dropped, got %v", d.Synced)
	}
}

// TestTombstone follows an unpropagated deletion: the survivor is left
// alone on every later visit, and its first real edit re-creates the
// record rather than being lost.
func TestTombstone(t *testing.T) {
	m := Mapping{Fields: []Field{{Name: "f", Direction: Both}}, Policy: AirtableWins, Deletes: DeletesNone}
	r := Record{Key: "k", Postgres: present(map[string]any{"f": 1}, at(0)), Link: linked(map[string]any{"f": 1})}
	for i := range 3 {
		d := Decide(m, r)
		assertNoWrites(t, d)
		r = apply(r, d, at(i+1))
		if !r.Link.Known {
			t.Fatal("the tombstone link was dropped, so the row would come back as new")
		}
	}
	r.Postgres.Values = map[string]any{"f": 2}
	d := Decide(m, r)
	if d.Airtable != OpCreate || d.Conflicts != 1 {
		t.Fatalf("an edit after the deletion must re-create the record, got %+v", d)
	}
	assertNoWrites(t, Decide(m, apply(r, d, at(9))))
}

// TestEmptyTombstone checks that keeping a link whose ancestor map is nil
// still returns a non-nil Synced, since nil would mean "drop the link".
func TestEmptyTombstone(t *testing.T) {
	m := Mapping{Fields: []Field{{Name: "f", Direction: Both}}, Policy: AirtableWins}
	d := Decide(m, Record{Key: "k", Airtable: present(nil, at(0)), Link: linked(nil)})
	assertNoWrites(t, d)
	if d.Synced == nil {
		t.Fatal("the link must be kept")
	}
}
