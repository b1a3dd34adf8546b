package airtablefake

import (
	"net/http"
	"testing"
	"time"
)

func TestAuthentication(t *testing.T) {
	s := newFake(t, Options{Tokens: []string{"pat-one"}})
	want := `{"error":{"type":"AUTHENTICATION_REQUIRED","message":"Authentication required"}}`
	for _, token := range []string{"", DefaultToken, "pat-on"} {
		r := callAs(t, s, token, http.MethodGet, people, nil)
		if r.status != http.StatusUnauthorized || r.raw != want {
			t.Fatalf("token %q: %d %s", token, r.status, r.raw)
		}
	}
	wantOK(t, callAs(t, s, "pat-one", http.MethodGet, people, nil))
	if st := s.Stats(); st.Unauthorized != 3 || st.Requests != 4 {
		t.Fatalf("stats %+v", st)
	}
}

func TestFailNext(t *testing.T) {
	s := newFake(t, Options{PerBase: 2, PerToken: -1, Window: time.Minute})
	s.FailNext(2, http.StatusServiceUnavailable)
	for range 2 {
		// Injected failures come before authentication and rate limiting.
		r := callAs(t, s, "wrong", http.MethodGet, people, nil)
		wantError(t, r, http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE")
	}
	// The two failures did not use up the base's two requests a minute.
	wantOK(t, call(t, s, http.MethodGet, people, nil))
	wantOK(t, call(t, s, http.MethodGet, people, nil))

	s.FailNext(1, http.StatusTooManyRequests)
	if r := call(t, s, http.MethodGet, "/v0/appNope/T", nil); r.status != 429 || r.body["errors"] == nil {
		t.Fatalf("injected 429: %d %s", r.status, r.raw)
	}
	if st := s.Stats(); st.Injected != 3 || st.RateLimited != 0 {
		t.Fatalf("stats %+v", st)
	}
	injected := 0
	for _, r := range s.Requests() {
		if r.Injected {
			injected++
		}
	}
	if injected != 3 {
		t.Fatalf("%d requests logged as injected, want 3", injected)
	}
}

func TestFailNextAfterCommit(t *testing.T) {
	s := newFake(t, unlimited)
	s.FailNextAfterCommit(1, http.StatusGatewayTimeout)
	r := call(t, s, http.MethodPost, people, map[string]any{"records": fieldsOf(map[string]any{"Name": "ghost"})})
	wantError(t, r, http.StatusGatewayTimeout, "GATEWAY_TIMEOUT")
	if recs := s.Records(testBase, "People"); len(recs) != 1 || recs[0].Fields["Name"] != "ghost" {
		t.Fatalf("the write was not committed: %+v", recs)
	}
	wantOK(t, call(t, s, http.MethodGet, people, nil))
}

func TestLatency(t *testing.T) {
	const latency = 50 * time.Millisecond
	s := newFake(t, Options{Latency: latency, PerBase: -1, PerToken: -1})
	start := time.Now()
	wantOK(t, call(t, s, http.MethodGet, people, nil))
	if d := time.Since(start); d < latency {
		t.Fatalf("answered in %v, before the %v latency", d, latency)
	}
}

func TestRequestLog(t *testing.T) {
	s := newFake(t, unlimited)
	rec := s.Insert(testBase, "People", map[string]any{"Name": "seeded"}) // not logged
	call(t, s, http.MethodPost, people, map[string]any{"records": fieldsOf(
		map[string]any{"Name": "a"}, map[string]any{"Name": "b"}, map[string]any{"Name": "c"})})
	call(t, s, http.MethodPost, people, map[string]any{"fields": map[string]any{"Name": "d"}})
	call(t, s, http.MethodGet, people+"?pageSize=101", nil)
	call(t, s, http.MethodDelete, people+"?records[]="+rec.ID, nil)
	call(t, s, http.MethodPost, people+"/listRecords", map[string]any{"pageSize": 1})

	logs := s.Requests()
	want := []struct {
		method  string
		records int
		status  int
		err     string
	}{
		{http.MethodPost, 3, 200, ""},
		{http.MethodPost, 1, 200, ""},
		{http.MethodGet, 0, 422, errInvalidRequest},
		{http.MethodDelete, 1, 200, ""},
		{http.MethodPost, 0, 200, ""},
	}
	if len(logs) != len(want) {
		t.Fatalf("%d requests logged, want %d: %+v", len(logs), len(want), logs)
	}
	for i, w := range want {
		l := logs[i]
		if l.Method != w.method || l.Records != w.records || l.Status != w.status || l.Error != w.err ||
			l.Base != testBase || l.Table != "People" || l.Token != DefaultToken || l.At.IsZero() {
			t.Fatalf("log %d: %+v, want %+v", i, l, w)
		}
	}
	if st := s.Stats(); st.MaxWriteBatch != 3 || st.Requests != 5 {
		t.Fatalf("stats %+v", st)
	}
	s.ResetRequests()
	if len(s.Requests()) != 0 || s.Stats().Requests != 0 {
		t.Fatal("ResetRequests kept the log")
	}
}

func TestMetadata(t *testing.T) {
	s := newFake(t, unlimited)
	r := call(t, s, http.MethodGet, "/v0/meta/bases/"+testBase+"/tables", nil)
	wantOK(t, r)
	tables := r.body["tables"].([]any)
	if len(tables) != 2 {
		t.Fatalf("%d tables", len(tables))
	}
	companies, peopleTbl := tables[0].(map[string]any), tables[1].(map[string]any)
	fields := peopleTbl["fields"].([]any)
	byName := map[string]map[string]any{}
	for _, f := range fields {
		f := f.(map[string]any)
		byName[f["name"].(string)] = f
	}
	if peopleTbl["primaryFieldId"] != byName["Name"]["id"] || peopleTbl["id"] != s.mustTableID("People") {
		t.Fatalf("table %v", peopleTbl)
	}
	if byName["Age"]["type"] != TypeNumber || byName["Score"]["options"].(map[string]any)["precision"] != 2.0 {
		t.Fatalf("number fields %v %v", byName["Age"], byName["Score"])
	}
	if byName["Company"]["options"].(map[string]any)["linkedTableId"] != companies["id"] {
		t.Fatalf("link field %v", byName["Company"])
	}
	if byName["Last Modified"]["type"] != TypeLastModifiedTime || byName["Email"]["id"] != s.FieldID(testBase, "People", "Email") {
		t.Fatalf("fields %v %v", byName["Last Modified"], byName["Email"])
	}
	views := peopleTbl["views"].([]any)
	if len(views) != 1 || views[0].(map[string]any)["name"] != "Grid view" {
		t.Fatalf("views %v", views)
	}
	wantError(t, call(t, s, http.MethodGet, "/v0/meta/bases/appNope/tables", nil), 404, errNotFound)
}

// mustTableID finds a table's ID in the test base.
func (s *Server) mustTableID(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mustTable(testBase, name).id
}
