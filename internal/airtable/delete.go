package airtable

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// Delete deletes up to MaxBatch records by ID and returns the IDs Airtable
// reports deleted. One unknown ID fails the whole request. An empty batch
// sends nothing.
func (c *Client) Delete(ctx context.Context, baseID, table string, ids []string) ([]string, error) {
	wrap := func(err error) error { return fmt.Errorf("delete records in %s/%s: %w", baseID, table, err) }
	if err := checkBatch(len(ids)); err != nil {
		return nil, wrap(err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	var out struct {
		Records []struct {
			ID      string `json:"id"`
			Deleted bool   `json:"deleted"`
		} `json:"records"`
	}
	in := call{method: http.MethodDelete, baseID: baseID, path: []string{baseID, table}, query: url.Values{"records[]": ids}}
	if err := c.do(ctx, in, &out); err != nil {
		return nil, wrap(err)
	}
	deleted := make([]string, 0, len(out.Records))
	for _, r := range out.Records {
		if r.Deleted {
			deleted = append(deleted, r.ID)
		}
	}
	return deleted, nil
}
