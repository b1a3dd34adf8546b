package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// createCustomers makes the Postgres side: an identity primary key, the
// unique key column, the mapped columns and the updated_at the sync reads.
func createCustomers(ctx context.Context, pool *pgxpool.Pool) error {
	_, err := pool.Exec(ctx, `CREATE TABLE public.contacts (
		id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		email text NOT NULL UNIQUE,
		name text,
		plan text,
		seats integer,
		active boolean NOT NULL DEFAULT false,
		region text,
		updated_at timestamptz NOT NULL DEFAULT now())`)
	if err != nil {
		return fmt.Errorf("create public.contacts: %w", err)
	}
	return nil
}

// seedPostgres copies Postgres's initial rows in and adds them to the
// model. Rows that should lose their first-sync conflicts get an
// updated_at an hour before Airtable's records were made; the others get
// now, after them.
func seedPostgres(ctx context.Context, pool *pgxpool.Pool, d dataset, m *model) error {
	now := time.Now()
	rows := make([][]any, 0, d.pgN)
	for i := d.pgFirst; i < d.pgFirst+d.pgN; i++ {
		v, older := d.pgSeed(i)
		at := now
		if older {
			at = now.Add(-time.Hour)
		}
		rows = append(rows, []any{keyOf(i), v["name"], v["plan"], pgInt(v["seats"]), v["active"] == true, v["region"], at})
		m.rec(keyOf(i)).pg = &sideState{vals: v, mod: at}
	}
	_, err := pool.CopyFrom(ctx, pgx.Identifier{"public", "contacts"},
		[]string{"email", "name", "plan", "seats", "active", "region", "updated_at"}, pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("seed public.contacts: %w", err)
	}
	return nil
}

// pgInt is a canon number as the integer column takes it.
func pgInt(v any) any {
	if f, ok := v.(float64); ok {
		return int32(f)
	}
	return nil
}

// pgValue is a canon value as its column takes it.
func pgValue(f field, v any) any {
	switch f.typ {
	case typeNumber:
		return pgInt(v)
	case typeCheckbox:
		return v == true
	}
	return v
}

// postgresState reads the table as canon values by key.
func postgresState(ctx context.Context, pool *pgxpool.Pool) (map[string]values, error) {
	rows, err := pool.Query(ctx, `SELECT email, name, plan, seats, active, region FROM public.contacts`)
	if err != nil {
		return nil, fmt.Errorf("read public.contacts: %w", err)
	}
	defer rows.Close()
	out := map[string]values{}
	for rows.Next() {
		var email string
		var name, plan, region *string
		var seats *int32
		var active bool
		if err := rows.Scan(&email, &name, &plan, &seats, &active, &region); err != nil {
			return nil, fmt.Errorf("read public.contacts: %w", err)
		}
		out[email] = values{
			"name": canon(typeText, name), "plan": canon(typeSelect, plan), "seats": canon(typeNumber, seats),
			"active": canon(typeCheckbox, active), "region": canon(typeText, region),
		}
	}
	return out, rows.Err()
}

// pgFingerprint is the table's row count and a digest of every row,
// updated_at included, to prove that a run changed nothing.
type pgFingerprint struct {
	Rows   int64  `json:"rows"`
	Digest string `json:"md5"`
}

func postgresFingerprint(ctx context.Context, pool *pgxpool.Pool) (pgFingerprint, error) {
	var f pgFingerprint
	err := pool.QueryRow(ctx, `SELECT count(*), coalesce(md5(string_agg(t::text, E'\n' ORDER BY id)), '')
		FROM public.contacts t`).Scan(&f.Rows, &f.Digest)
	if err != nil {
		return f, fmt.Errorf("fingerprint public.contacts: %w", err)
	}
	return f, nil
}

// editPostgres applies Postgres's edits in one transaction, as an
// application would, setting updated_at, and returns the transaction's
// now(), which is every edited row's updated_at.
func editPostgres(ctx context.Context, pool *pgxpool.Pool, edits []edit) (time.Time, error) {
	var at time.Time
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT now()`).Scan(&at); err != nil {
			return err
		}
		b := &pgx.Batch{}
		for _, e := range edits {
			col := pgx.Identifier{e.field.PG}.Sanitize()
			b.Queue(fmt.Sprintf(`UPDATE public.contacts SET %s = $1, updated_at = now() WHERE email = $2`, col), pgValue(e.field, e.value), e.key)
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return at, fmt.Errorf("edit public.contacts: %w", err)
	}
	return at, nil
}
