package syncplan

// resolve returns the side that wins a conflict on f.
//
// Direction comes first: a pull field can only be won by Airtable and a
// push field only by Postgres, whatever the policy. Under latest_wins the
// later Side.Modified wins, and a tie goes to Airtable: Airtable stamps its
// modified time on its own servers for every edit, whereas updated_at is
// whatever the writer set (a client clock, or now(), which is the start of
// a transaction that may have run for a while), so the server-assigned
// stamp is the more trustworthy witness. An unknown (zero) time loses to
// any known one. Either way the loser is audited in Change.Loser.
func resolve(m Mapping, f Field, r Record) string {
	switch f.Direction {
	case Pull:
		return WinnerAirtable
	case Push:
		return WinnerPostgres
	}
	switch m.policy(f) {
	case AirtableWins:
		return WinnerAirtable
	case PostgresWins:
		return WinnerPostgres
	}
	if r.Postgres.Modified.After(r.Airtable.Modified) {
		return WinnerPostgres
	}
	return WinnerAirtable
}
