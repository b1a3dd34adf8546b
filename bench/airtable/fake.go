package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/groundwork-dev/groundwork/internal/testkit/airtablefake"
)

// The Airtable side of the bench.
const (
	baseID    = "appBenchBase12345"
	tableName = "Customers"
	keyField  = "Email"
	modField  = "Last Modified"
)

// newFake starts the fake Airtable with the scaled limits and the
// Customers table.
func newFake(o options) *airtablefake.Server {
	fake := airtablefake.New(airtablefake.Options{PerBase: o.rate, PerToken: 10 * o.rate, Lockout: o.lockout})
	fake.CreateTable(baseID, airtablefake.TableSpec{Name: tableName, Fields: []airtablefake.FieldSpec{
		{Name: keyField, Type: airtablefake.TypeEmail},
		{Name: "Name", Type: airtablefake.TypeSingleLineText},
		{Name: "Plan", Type: airtablefake.TypeSingleSelect, Choices: plans},
		{Name: "Seats", Type: airtablefake.TypeNumber},
		{Name: "Active", Type: airtablefake.TypeCheckbox},
		{Name: "Region", Type: airtablefake.TypeSingleLineText},
		{Name: modField, Type: airtablefake.TypeLastModifiedTime},
	}})
	return fake
}

// atFields turns canon values into Airtable cells; nil clears a cell.
func atFields(v values) map[string]any {
	out := make(map[string]any, len(v))
	for _, f := range fields {
		if x, ok := v[f.PG]; ok {
			out[f.AT] = x
		}
	}
	return out
}

// seedAirtable inserts Airtable's initial records (bypassing the limits)
// and adds them to the model.
func seedAirtable(fake *airtablefake.Server, d dataset, m *model) {
	for i := range d.atN {
		v := d.atSeed(i)
		cells := atFields(v)
		for k, x := range cells {
			if x == nil {
				delete(cells, k)
			}
		}
		cells[keyField] = keyOf(i)
		rec := fake.Insert(baseID, tableName, cells)
		m.rec(keyOf(i)).at = &sideState{vals: v, mod: rec.LastModified}
	}
}

// airtableState reads the fake's table as canon values by key, with each
// key's record ID.
func airtableState(fake *airtablefake.Server) (map[string]values, map[string]string) {
	state, ids := map[string]values{}, map[string]string{}
	for _, r := range fake.Records(baseID, tableName) {
		key, _ := r.Fields[keyField].(string)
		v := values{}
		for _, f := range fields {
			v[f.PG] = canon(f.typ, r.Fields[f.AT])
		}
		state[key], ids[key] = v, r.ID
	}
	return state, ids
}

// airtableFingerprint is every record's ID, modification time and cells,
// to prove that a run changed nothing.
func airtableFingerprint(fake *airtablefake.Server) string {
	var b strings.Builder
	for _, r := range fake.Records(baseID, tableName) {
		cells, _ := json.Marshal(r.Fields) // map keys come out sorted
		fmt.Fprintf(&b, "%s %s %s\n", r.ID, r.LastModified.Format(time.RFC3339Nano), cells)
	}
	return b.String()
}

// Request kinds, as the report counts them.
const (
	kindList   = "list"
	kindMeta   = "meta"
	kindCreate = "create" // a create, or an upsert (PATCH with performUpsert)
	kindUpdate = "update"
	kindDelete = "delete"
	kindOther  = "other"
)

// proxied is one request that went through the classifying proxy.
type proxied struct {
	At     time.Time
	Kind   string
	Status int
}

// classifier is a reverse proxy in front of the fake that tells upserts
// from updates (both are PATCH; only the body differs), which the fake's
// own request log cannot.
type classifier struct {
	srv *httptest.Server
	mu  sync.Mutex
	log []proxied
}

func newClassifier(target string) (*classifier, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	c := &classifier{}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: time.Minute}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		rp.ServeHTTP(rec, r)
		c.mu.Lock()
		c.log = append(c.log, proxied{At: at, Kind: classify(r, body), Status: rec.status})
		c.mu.Unlock()
	}))
	return c, nil
}

// URL is what the worker takes for AIRTABLE_API_URL.
func (c *classifier) URL() string { return c.srv.URL }

func (c *classifier) Close() { c.srv.Close() }

// take returns the requests logged since the last take and forgets them.
func (c *classifier) take() []proxied {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.log
	c.log = nil
	return out
}

func classify(r *http.Request, body []byte) string {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/v0/meta/"):
		return kindMeta
	case r.Method == http.MethodGet, r.Method == http.MethodPost && strings.HasSuffix(p, "/listRecords"):
		return kindList
	case r.Method == http.MethodPost:
		return kindCreate
	case r.Method == http.MethodPatch || r.Method == http.MethodPut:
		if bytes.Contains(body, []byte(`"performUpsert"`)) {
			return kindCreate
		}
		return kindUpdate
	case r.Method == http.MethodDelete:
		return kindDelete
	}
	return kindOther
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}
