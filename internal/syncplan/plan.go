package syncplan

import (
	"cmp"
	"slices"
)

// plan accumulates a Decision while Decide walks the fields.
type plan struct{ d Decision }

// newPlan starts a decision that writes nothing.
func newPlan(key string) *plan {
	return &plan{d: Decision{Key: key, Airtable: OpNone, Postgres: OpNone}}
}

// write records that winner's value v of the field goes to the other side,
// as an update unless the side's operation is already a create.
func (p *plan) write(winner, field string, old, v any, conflict bool, loser any) {
	fields, op := &p.d.PostgresFields, &p.d.Postgres
	if winner == WinnerPostgres {
		fields, op = &p.d.AirtableFields, &p.d.Airtable
	}
	if *fields == nil {
		*fields = make(map[string]any)
	}
	(*fields)[field] = v
	if *op == OpNone {
		*op = OpUpdate
	}
	p.d.Changes = append(p.d.Changes, Change{Field: field, Old: old, New: v, Winner: winner, Conflict: conflict, Loser: loser})
	if conflict {
		p.d.Conflicts++
	}
}

// decision returns the finished decision with its changes in field order,
// so that the audit log does not depend on the mapping's field order.
func (p *plan) decision() Decision {
	slices.SortStableFunc(p.d.Changes, func(a, b Change) int { return cmp.Compare(a.Field, b.Field) })
	return p.d
}

// pick returns Airtable's or Postgres's value, as winner names.
func pick(winner string, airtable, postgres any) any {
	if winner == WinnerPostgres {
		return postgres
	}
	return airtable
}

// other returns the side that is not s.
func other(s string) string {
	if s == WinnerPostgres {
		return WinnerAirtable
	}
	return WinnerPostgres
}
