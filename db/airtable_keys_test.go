package db_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/internal/testkit/testenv"
)

// TestKeyComparisonsInColumnType: a key compared in its column's type
// matches exactly the rows the text comparison did — nothing for another
// spelling of a value, a word, or a value out of range, and no error — and
// the key's index serves the lookup.
func TestKeyComparisonsInColumnType(t *testing.T) {
	pool, _ := testenv.Pool(t)
	ctx := context.Background()
	probes := []string{
		"0", "7", "-7", "007", "+7", "7.0", "1e3", " 7", "7 ", "", "abc", "-0",
		"32767", "32768", "-32768", "-32769", "2147483647", "2147483648", "-2147483649",
		"9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "99999999999999999999",
		"6f1b8a1e-2c3d-4e5f-8a9b-0c1d2e3f4a5b", "6F1B8A1E-2C3D-4E5F-8A9B-0C1D2E3F4A5B", "6f1b8a1e2c3d4e5f8a9b0c1d2e3f4a5b",
		"{6f1b8a1e-2c3d-4e5f-8a9b-0c1d2e3f4a5b}", "00000000-0000-0000-0000-000000000000",
	}
	for _, c := range []struct {
		typ    string
		values string // inserted keys, as SQL
		index  bool   // the lookup must use the key's index
	}{
		{"smallint", "0, 7, -7, 32767, -32768", true},
		{"integer", "0, 7, -7, 2147483647", true},
		{"bigint", "0, 7, -7, 9223372036854775807, -9223372036854775808", true},
		{"uuid", "'6f1b8a1e-2c3d-4e5f-8a9b-0c1d2e3f4a5b', '00000000-0000-0000-0000-000000000000'", true},
		{"text", "'7', '007', 'abc', ''", true},
		{"varchar(40)", "'7', 'abc'", true},
		{"numeric", "7, 8.50", false}, // not a type the sync knows: compared as text
	} {
		t.Run(c.typ, func(t *testing.T) {
			table := "keys_" + strings.NewReplacer("(", "_", ")", "").Replace(c.typ)
			if _, err := pool.Exec(ctx, fmt.Sprintf(`CREATE TABLE %s (k %s PRIMARY KEY, filler int);
				INSERT INTO %s (k) VALUES (%s)`, table, c.typ, table, strings.ReplaceAll(c.values, ", ", "), ("))); err != nil {
				t.Fatal(err)
			}
			var typ string
			if err := pool.QueryRow(ctx, `SELECT data_type FROM information_schema.columns WHERE table_name = $1 AND column_name = 'k'`, table).Scan(&typ); err != nil {
				t.Fatal(err)
			}
			pt := db.PostgresTable{Key: "k", Types: map[string]string{"k": typ}}
			col := pgx.Identifier{"k"}.Sanitize()
			asText := func(k string) []string {
				rows, _ := pool.Query(ctx, fmt.Sprintf(`SELECT k::text FROM %s WHERE k::text = $1`, table), k)
				got, err := pgx.CollectRows(rows, pgx.RowTo[string])
				if err != nil {
					t.Fatal(err)
				}
				return got
			}
			var all []string
			for _, k := range probes {
				rows, _ := pool.Query(ctx, fmt.Sprintf(`SELECT k::text FROM %s WHERE %s`, table, pt.KeyEquals(col, "$1::text")), k)
				got, err := pgx.CollectRows(rows, pgx.RowTo[string])
				if err != nil {
					t.Fatalf("key %q: %v", k, err)
				}
				if want := asText(k); !slices.Equal(got, want) {
					t.Errorf("key %q: matched %q, as text %q", k, got, want)
				}
				all = append(all, asText(k)...)
			}
			rows, _ := pool.Query(ctx, fmt.Sprintf(`SELECT k::text FROM %s WHERE %s ORDER BY 1`, table, pt.KeyInArray(col, "$1::text[]")), probes)
			got, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatalf("keys in array: %v", err)
			}
			slices.Sort(all)
			if !slices.Equal(got, slices.Compact(all)) {
				t.Errorf("keys in array: matched %q, as text %q", got, all)
			}
			if !c.index {
				return
			}
			// Seq scans off, so only a condition the index cannot serve
			// gets one.
			for _, cond := range []string{pt.KeyEquals(col, "$1::text"), pt.KeyInArray(col, "$1::text[]")} {
				// A key of the type: another is folded to a false condition.
				var arg any = strings.Trim(strings.Split(c.values, ", ")[1], "'")
				if strings.Contains(cond, "unnest") {
					arg = probes
				}
				plan := explain(t, pool, fmt.Sprintf(`SELECT * FROM %s WHERE %s`, table, cond), arg)
				if !strings.Contains(plan, "Index") || strings.Contains(plan, "Seq Scan") {
					t.Errorf("the lookup does not use the key's index:\n%s", plan)
				}
			}
		})
	}
}

// explain is sql's plan with sequential scans disabled.
func explain(t *testing.T, pool interface {
	Begin(context.Context) (pgx.Tx, error)
}, sql string, args ...any) string {
	t.Helper()
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	rows, _ := tx.Query(ctx, "EXPLAIN "+sql, args...)
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("explain %s: %v", sql, err)
	}
	return strings.Join(lines, "\n")
}
