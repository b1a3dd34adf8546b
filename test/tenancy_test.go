package test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/groundwork-dev/groundwork/internal/apikey"
)

// client returns a client whose API key acts as user in workspace with role.
func (s *stack) client(t *testing.T, user, workspace, role string) *apiClient {
	t.Helper()
	_, key, err := apikey.Create(context.Background(), s.App.Pool, apikey.Spec{User: user, Workspace: workspace, Role: role, Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return &apiClient{t: t, base: s.URL, token: key}
}

// operation is one operation of the served OpenAPI document.
type operation struct {
	id, method, path string
	hasBody          bool
	// adminOnly: the operation documents 403.
	adminOnly bool
}

func servedOperations(t *testing.T, s *stack) []operation {
	t.Helper()
	resp, err := http.Get(s.URL + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string          `json:"operationId"`
			RequestBody json.RawMessage `json:"requestBody"`
			Responses   map[string]any  `json:"responses"`
		} `json:"paths"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	var ops []operation
	for path, methods := range doc.Paths {
		for method, op := range methods {
			_, forbidden := op.Responses["403"]
			ops = append(ops, operation{id: op.OperationID, method: strings.ToUpper(method), path: path,
				hasBody: len(op.RequestBody) > 0, adminOnly: forbidden})
		}
	}
	if len(ops) < 20 {
		t.Fatalf("the served document has only %d operations", len(ops))
	}
	return ops
}

// TestRouteWalker takes every operation of the served OpenAPI document, so
// a route added later is walked too: without a token it is 401; called by
// another workspace with the first workspace's IDs it is 404; called by a
// member, an operation that documents 403 answers 403 and no other does;
// nothing answers 5xx.
func TestRouteWalker(t *testing.T) {
	s := sharedStack(t)
	admin := s.client(t, "walker-admin", "walker-ws", "admin")
	member := s.client(t, "walker-member", "walker-ws", "member")
	other := s.client(t, "walker-other", "walker-other-ws", "admin")
	anon := &apiClient{t: t, base: s.URL}

	// Resources of the first workspace, one per kind of path ID.
	exp, resp := admin.startExport(map[string]any{"format": "csv", "columns": []string{"a"}, "rows": [][]any{{"1"}}})
	if resp.Status != http.StatusAccepted {
		t.Fatalf("start export: %d %s", resp.Status, resp.Body)
	}
	done := admin.waitRun(exp.ID)
	exportID, _ := done.Result["export_id"].(string)
	var key struct {
		ID int64 `json:"id"`
	}
	if r := admin.do(http.MethodPost, "/v1/api-keys", []byte(`{"name": "walker"}`)); r.Status != http.StatusCreated {
		t.Fatalf("create api key: %d %s", r.Status, r.Body)
	} else {
		r.json(t, &key)
	}
	mappingID := "map_01JD4X7Q2W6ZC5D3V9N8K1M2P3"
	// A mapping as the API stores one (its config is the spec).
	if _, err := s.App.Pool.Exec(context.Background(), `INSERT INTO airtable_mappings (id, owner_id, workspace_id, name, config)
		VALUES ($1, 'walker-admin', 'walker-ws', 'walker', $2)`, mappingID, strings.Replace(walkerMapping, "walker2", "walker", 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.App.Pool.Exec(context.Background(), `INSERT INTO sessions (user_id, id, workspace_id)
		VALUES ('walker-admin', 'walker-session', 'walker-ws')`); err != nil {
		t.Fatal(err)
	}
	cust, milestone, assessment := seedWalkerCustomer(t, s, "walker-ws", "walker-admin")
	endpoint, message, deadLetter := seedWalkerWebhook(t, s, "walker-ws", "walker-admin")
	ids := map[string]string{
		"/v1/sessions/{id}":                                  "walker-session",
		"/v1/runs/{id}":                                      exp.ID,
		"/v1/runs/{id}/cancel":                               exp.ID,
		"/v1/runs/{id}/events":                               exp.ID,
		"/v1/exports/{id}/download":                          exportID,
		"/v1/generations/{id}":                               "generation-01JD4X7Q2W6ZC5D3V9N8K1M2P3",
		"/v1/research/{id}":                                  "research-01JD4X7Q2W6ZC5D3V9N8K1M2P3",
		"/v1/research/{id}/pages/{page}/screenshot":          "research-01JD4X7Q2W6ZC5D3V9N8K1M2P3",
		"/v1/airtable/mappings/{id}":                         mappingID,
		"/v1/airtable/mappings/{id}/audit":                   mappingID,
		"/v1/api-keys/{id}":                                  fmt.Sprint(key.ID),
		"/v1/customers/{id}":                                 cust,
		"/v1/customers/{id}/track":                           cust,
		"/v1/customers/{id}/milestones":                      cust,
		"/v1/customers/{id}/milestones/{mid}/complete":       cust,
		"/v1/customers/{id}/milestones/{mid}/reopen":         cust,
		"/v1/customers/{id}/progress":                        cust,
		"/v1/customers/{id}/insights":                        cust,
		"/v1/customers/{id}/insights/narrative":              cust,
		"/v1/analytics/customers/{id}/timeseries":            cust,
		"/v1/milestones/{id}":                                milestone,
		"/v1/assessment-definitions/{slug}":                  walkerDefinitionSlug,
		"/v1/assessments/{id}":                               assessment,
		"/v1/webhook-endpoints/{id}":                         endpoint,
		"/v1/webhook-endpoints/{id}/messages":                endpoint,
		"/v1/webhook-endpoints/{id}/messages/{mid}/attempts": endpoint,
		"/v1/webhook-endpoints/{id}/messages/{mid}/resend":   endpoint,
		"/v1/dead-letters/{id}/replay":                       deadLetter,
		"/v1/webhook-sources/{id}":                           walkerSource("walker-ws"),
		"/v1/webhook-sources/{id}/messages":                  walkerSource("walker-ws"),
		"/v1/webhook-sources/{id}/rotate-secret":             walkerSource("walker-ws"),
	}
	// Second path parameters, after the first workspace's ID.
	second := map[string]string{
		"/v1/customers/{id}/milestones/{mid}/complete":       milestone,
		"/v1/customers/{id}/milestones/{mid}/reopen":         milestone,
		"/v1/webhook-endpoints/{id}/messages/{mid}/attempts": message,
		"/v1/webhook-endpoints/{id}/messages/{mid}/resend":   message,
	}
	// Bodies valid enough to pass validation, so the answer is about who
	// asks; a new operation with a body needs one here.
	now := time.Now().UTC().Format(time.RFC3339)
	bodies := map[string]string{
		"start-export":                  `{"format": "csv", "columns": ["a"], "rows": [["1"]]}`,
		"start-generation":              `{"template": "company-summary", "inputs": {"company": "Acme"}}`,
		"start-research":                `{"company": "Acme", "domain": "acme.example"}`,
		"create-airtable-mapping":       walkerMapping,
		"update-airtable-mapping":       walkerMapping,
		"start-airtable-sync":           `{"mapping_id": "` + mappingID + `"}`,
		"create-api-key":                `{"name": "k"}`,
		"create-customer":               `{"name": "Walker Co"}`,
		"update-customer":               `{"stage": "adoption"}`,
		"track-event":                   `{"id": "walk-1", "type": "login", "occurred_at": "` + now + `"}`,
		"track-events":                  `{"events": [{"id": "walk-2", "customer_id": "` + cust + `", "type": "login", "occurred_at": "` + now + `"}]}`,
		"create-milestone":              `{"name": "Walked", "position": 1, "rule": {"kind": "manual"}}`,
		"update-milestone":              `{"name": "Walked", "position": 1, "rule": {"kind": "manual"}}`,
		"publish-assessment-definition": walkerDefinition,
		"start-assessment":              `{"customer_id": "` + cust + `", "definition": "` + walkerDefinitionSlug + `", "answers": {"q1": 3, "q2": "yes"}}`,
		"create-webhook-endpoint":       `{"url": "https://hooks.example/walker", "event_types": ["run.succeeded"]}`,
		"update-webhook-endpoint":       `{"url": "https://hooks.example/walker", "event_types": ["run.succeeded"]}`,
		"put-notification-preferences":  `{"email": "walker@example.com", "events": ["run.failed"]}`,
		"replay-dead-letters":           `{"kind": "webhook"}`,
		"create-webhook-source":         `{"name": "walker", "action": {"type": "track"}}`,
		"update-webhook-source":         `{"name": "walker", "action": {"type": "track"}}`,
		"rotate-webhook-source-secret":  `{}`,
	}
	// Streams that never end by themselves: only their status is read.
	streams := map[string]bool{"analytics-stream": true}
	// Queries that make an operation's 403 case apply.
	queries := map[string]string{"list-runs": "?scope=workspace"}
	param := regexp.MustCompile(`\{[a-z_]+\}`)
	for _, op := range servedOperations(t, s) {
		if !strings.HasPrefix(op.path, "/v1/") {
			continue
		}
		t.Run(op.id, func(t *testing.T) {
			path := op.path
			if strings.Contains(path, "{") {
				id, ok := ids[op.path]
				if !ok {
					t.Fatalf("no ID of the first workspace for %s: add one to the walker", op.path)
				}
				// The first parameter is the first workspace's ID, any
				// second one the ID under it.
				first := true
				path = param.ReplaceAllStringFunc(path, func(string) string {
					if first {
						first = false
						return id
					}
					return cmp.Or(second[op.path], "0")
				})
			}
			path += queries[op.id]
			var body []byte
			if op.hasBody {
				b, ok := bodies[op.id]
				if !ok {
					t.Fatalf("no body for %s: add one to the walker", op.id)
				}
				body = []byte(b)
			}
			call := func(c *apiClient) response {
				var r response
				if streams[op.id] {
					r = c.with(t).status(op.method, path)
				} else {
					r = c.with(t).do(op.method, path, body)
				}
				// Generation is off on this stack: its documented 503.
				if r.Status >= 500 && !(r.Status == http.StatusServiceUnavailable && strings.HasSuffix(problemType(t, r), "/no_llm_provider")) {
					t.Errorf("%s %s answered %d: %s", op.method, path, r.Status, r.Body)
				}
				return r
			}
			if r := call(anon); r.Status != http.StatusUnauthorized {
				t.Errorf("without a token: %d %s", r.Status, r.Body)
			}
			if strings.Contains(op.path, "{") || op.id == "start-airtable-sync" {
				if r := call(other); r.Status != http.StatusNotFound {
					t.Errorf("another workspace with the first's ID: %d %s", r.Status, r.Body)
				}
			}
			r := call(member)
			if op.adminOnly && r.Status != http.StatusForbidden {
				t.Errorf("a member on an admin-only operation: %d %s", r.Status, r.Body)
			}
			if !op.adminOnly && r.Status == http.StatusForbidden {
				t.Errorf("a member got 403 from an operation that does not document it: %s", r.Body)
			}
		})
	}
}

const walkerMapping = `{"name": "walker2", "airtable": {"base_id": "appWalker123", "table": "T", "modified_field": "M"},
	"postgres": {"table": "public.walker"}, "key": {"airtable": "K", "postgres": "k"},
	"fields": [{"airtable": "N", "postgres": "n", "direction": "both"}], "conflict": "latest_wins"}`
