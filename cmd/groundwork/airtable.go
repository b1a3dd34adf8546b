package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db/sqlc"
)

const airtableUsage = `usage:
  groundwork airtable allow-table schema.table@workspace     open a table for syncing by that workspace alone
  groundwork airtable allow-table schema.table:column        open a shared table, each row's workspace in column
  groundwork airtable disallow-table schema.table            close it again (existing mappings stop syncing)
  groundwork airtable tables                                 list the tables opened here (GROUNDWORK_AIRTABLE_TABLES adds more)`

func airtableCmd(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usageMistake(airtableUsage)
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
		var ws, col *string
		if t.Workspace != "" {
			ws = &t.Workspace
		}
		if t.WorkspaceColumn != "" {
			col = &t.WorkspaceColumn
		}
		if err := q.AirtableSyncTablePut(ctx, sqlc.AirtableSyncTablePutParams{TableName: t.Table, WorkspaceID: ws, WorkspaceColumn: col}); err != nil {
			return fmt.Errorf("airtable allow-table: %w", err)
		}
		fmt.Printf("opened %s\n", args[1])
		return nil
	case args[0] == "disallow-table" && len(args) == 2:
		table := args[1]
		if !strings.Contains(table, ".") {
			table = "public." + table
		}
		n, err := q.AirtableSyncTableDelete(ctx, table)
		if err != nil {
			return fmt.Errorf("airtable disallow-table: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("airtable disallow-table: %s was not opened with allow-table", table)
		}
		fmt.Printf("closed %s\n", table)
		return nil
	case args[0] == "tables" && len(args) == 1:
		rows, err := q.AirtableSyncTableList(ctx)
		if err != nil {
			return fmt.Errorf("airtable tables: %w", err)
		}
		for _, r := range rows {
			if r.WorkspaceID != nil {
				fmt.Printf("%s@%s\n", r.TableName, *r.WorkspaceID)
			} else if r.WorkspaceColumn != nil {
				fmt.Printf("%s:%s (shared; each row's workspace in %s)\n", r.TableName, *r.WorkspaceColumn, *r.WorkspaceColumn)
			}
		}
		return nil
	default:
		return usageMistake(airtableUsage)
	}
}
