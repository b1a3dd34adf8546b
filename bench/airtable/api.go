package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// apiClient calls the Groundwork API as the bench user.
type apiClient struct {
	base, token string
	hc          *http.Client
}

// call sends a JSON request and decodes the answer into out when it has
// the wanted status.
func (c *apiClient) call(ctx context.Context, method, path string, body any, want int, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("marshal %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

// mappingBody is the mapping under test: latest_wins, every direction.
func mappingBody() map[string]any {
	fs := make([]map[string]any, len(fields))
	for i, f := range fields {
		fs[i] = map[string]any{"airtable": f.AT, "postgres": f.PG, "direction": f.dir}
	}
	return map[string]any{
		"name":     "bench-contacts",
		"airtable": map[string]any{"base_id": baseID, "table": tableName, "modified_field": modField},
		"postgres": map[string]any{"table": "public.contacts", "updated_at": "updated_at"},
		"key":      map[string]any{"airtable": keyField, "postgres": "email"},
		"fields":   fs,
		"conflict": "latest_wins",
	}
}

func (c *apiClient) createMapping(ctx context.Context, body map[string]any) (string, error) {
	var m struct {
		ID string `json:"id"`
	}
	if err := c.call(ctx, http.MethodPost, "/v1/airtable/mappings", body, http.StatusCreated, &m); err != nil {
		return "", fmt.Errorf("create mapping: %w", err)
	}
	return m.ID, nil
}

// runView is the part of GET /v1/runs/{id} the bench reads.
type runView struct {
	ID     string         `json:"id"`
	Status string         `json:"status"`
	Result map[string]any `json:"result"`
	// Progress.Total of a closed sync is the number of decisions planned.
	Progress struct {
		Total   int    `json:"total"`
		Message string `json:"message"`
	} `json:"progress"`
	Error *struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

// sync starts a sync of the mapping and polls the run until it closes;
// took is from just before the POST to the poll that saw it closed. watch
// is called after every poll of a run still open: an error from it ends
// the wait, with the run as last seen.
func (c *apiClient) sync(ctx context.Context, mappingID string, dryRun bool, poll time.Duration, watch func(runID string) error) (r runView, took time.Duration, err error) {
	start := time.Now()
	if err := c.call(ctx, http.MethodPost, "/v1/airtable-syncs", map[string]any{"mapping_id": mappingID, "dry_run": dryRun}, http.StatusAccepted, &r); err != nil {
		return r, 0, fmt.Errorf("start sync: %w", err)
	}
	for {
		switch r.Status {
		case "succeeded", "failed", "canceled", "timed_out":
			return r, time.Since(start), nil
		}
		select {
		case <-ctx.Done():
			return r, time.Since(start), fmt.Errorf("wait for run %s: %w", r.ID, ctx.Err())
		case <-time.After(poll):
		}
		if err := c.call(ctx, http.MethodGet, "/v1/runs/"+url.PathEscape(r.ID), nil, http.StatusOK, &r); err != nil {
			return r, time.Since(start), fmt.Errorf("poll run: %w", err)
		}
		if watch != nil && r.Status != "succeeded" {
			if err := watch(r.ID); err != nil {
				return r, time.Since(start), err
			}
		}
	}
}

// auditEntry is one entry of GET /v1/airtable/mappings/{id}/audit.
type auditEntry struct {
	RunID       string          `json:"run_id"`
	Key         string          `json:"key"`
	Field       string          `json:"field"`
	Action      string          `json:"action"`
	WrittenTo   string          `json:"written_to"`
	OldValue    json.RawMessage `json:"old_value"`
	NewValue    json.RawMessage `json:"new_value"`
	Winner      string          `json:"winner"`
	Conflict    bool            `json:"conflict"`
	LosingValue json.RawMessage `json:"losing_value"`
}

// audit pages through the mapping's whole audit log.
func (c *apiClient) audit(ctx context.Context, mappingID string) ([]auditEntry, error) {
	var all []auditEntry
	cursor := ""
	for {
		path := "/v1/airtable/mappings/" + url.PathEscape(mappingID) + "/audit?limit=500"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		var page struct {
			Entries    []auditEntry `json:"entries"`
			NextCursor string       `json:"next_cursor"`
		}
		if err := c.call(ctx, http.MethodGet, path, nil, http.StatusOK, &page); err != nil {
			return nil, fmt.Errorf("read audit log: %w", err)
		}
		all = append(all, page.Entries...)
		if page.NextCursor == "" {
			return all, nil
		}
		cursor = page.NextCursor
	}
}

// cancel cancels a run through the API, so that it closes as a user's
// cancel would, and waits for it to close.
func (c *apiClient) cancel(ctx context.Context, runID string, poll time.Duration) (runView, error) {
	var r runView
	if err := c.call(ctx, http.MethodPost, "/v1/runs/"+url.PathEscape(runID)+"/cancel", nil, http.StatusAccepted, &r); err != nil {
		return r, fmt.Errorf("cancel run: %w", err)
	}
	deadline := time.Now().Add(time.Minute)
	for r.Status == "queued" || r.Status == "running" {
		if time.Now().After(deadline) {
			return r, fmt.Errorf("run %s still %s a minute after its cancel", runID, r.Status)
		}
		time.Sleep(poll)
		if err := c.call(ctx, http.MethodGet, "/v1/runs/"+url.PathEscape(runID), nil, http.StatusOK, &r); err != nil {
			return r, fmt.Errorf("poll run: %w", err)
		}
	}
	return r, nil
}
