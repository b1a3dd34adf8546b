package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db/sqlc"
)

const airtableUsage = `usage:
  groundwork airtable allow-table schema.table[@workspace]   open a table for syncing (by that workspace alone)
  groundwork airtable disallow-table schema.table            close it again (existing mappings stop syncing)
  groundwork airtable tables                                 list the tables opened here (GROUNDWORK_AIRTABLE_TABLES adds more)`

func airtableCmd(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New(airtableUsage)
	}
	_, pool, err := openDB(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	q := sqlc.New(pool)
	switch {
	case args[0] == "allow-table" && len(args) == 2:
		t, err := groundwork.ParseSyncTable(args[1])
		if err != nil {
			return fmt.Errorf("airtable allow-table: %w", err)
		}
		var ws *string
		if t.Workspace != "" {
			ws = &t.Workspace
		}
		if err := q.AirtableSyncTablePut(ctx, sqlc.AirtableSyncTablePutParams{TableName: t.Table, WorkspaceID: ws}); err != nil {
			return fmt.Errorf("airtable allow-table: %w", err)
		}
		fmt.Printf("opened %s\n", args[1])
		return nil
	case args[0] == "disallow-table" && len(args) == 2:
		t, err := groundwork.ParseSyncTable(args[1])
		if err != nil {
			return fmt.Errorf("airtable disallow-table: %w", err)
		}
		n, err := q.AirtableSyncTableDelete(ctx, t.Table)
		if err != nil {
			return fmt.Errorf("airtable disallow-table: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("airtable disallow-table: %s was not opened with allow-table", t.Table)
		}
		fmt.Printf("closed %s\n", t.Table)
		return nil
	case args[0] == "tables" && len(args) == 1:
		rows, err := q.AirtableSyncTableList(ctx)
		if err != nil {
			return fmt.Errorf("airtable tables: %w", err)
		}
		for _, r := range rows {
			if r.WorkspaceID != nil {
				fmt.Printf("%s@%s\n", r.TableName, *r.WorkspaceID)
			} else {
				fmt.Printf("%s (shared: mappings name their workspace column)\n", r.TableName)
			}
		}
		return nil
	default:
		return errors.New(airtableUsage)
	}
}
