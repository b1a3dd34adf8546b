// Package syncplan is the pure decision core of the two-way Airtable ⇄
// Postgres sync: given one record as both sides and the last sync saw it,
// Decide says, field by field, what to write where, which side won each
// conflict and what to audit. It does no I/O, so the workflow can replay it
// and the tests can enumerate every case.
//
// Decisions are a three-way merge against the common ancestor, the values
// both sides agreed on at the last sync (Link.Synced), not a comparison of
// timestamps. A side changed a field only if its value now differs from the
// ancestor. That is what suppresses echoes: our own write bumps the other
// side's modified time, but the value it reports back equals the new
// ancestor, so it is not synced back. Timestamps only break real conflicts
// under the latest_wins policy.
//
// The rules, in order:
//
//   - A record present on both sides is merged field by field. With no
//     ancestor (never synced) the ancestor of every field is nil, so a value
//     counts as changed when it is set; an empty cell never overwrites data
//     on the first sync.
//   - A field flows only the way its Direction allows: a side may win a field
//     only if the field may be written to the other side. A change by a side
//     that may not win is not written anywhere, and the ancestor follows the
//     owning side, so the change is not mistaken for a new one later.
//   - Only one side changed: it wins, no conflict. Both changed to equal
//     values: nothing to write, the ancestor moves. Both changed to different
//     values: a conflict, won by the only side allowed to win or, for a
//     "both" field, by the field's policy (else the mapping's). Under
//     latest_wins a tie in Side.Modified goes to Airtable (see resolve).
//   - A record on one side only that was never linked is created on the
//     other side, with the fields that may flow that way.
//   - A linked record missing on one side was deleted there. If the other
//     side edited the record since the last sync (a field it may win differs
//     from the ancestor), the edit wins whatever Deletes says: the record is
//     re-created and each edited field is audited as a conflict. Otherwise
//     the delete is propagated if Deletes allows that direction; if not, the
//     survivor is left alone and the link is kept as a tombstone, so the
//     record is neither re-created as new nor forgotten: a later edit on the
//     survivor re-creates it.
//
// Decide takes no side's word that a record changed: a side reports a
// record as changed after our own writes too, so only a value differing
// from the ancestor is trusted as an edit.
package syncplan
