package test

import (
	"bytes"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
)

// TestHostileBodiesGet4xx probes every POST and PUT operation of the served
// document with malformed bodies: every answer is a 4xx problem, never a
// 5xx, and an oversized body gets a readable 413.
func TestHostileBodiesGet4xx(t *testing.T) {
	s := sharedStack(t)
	admin := s.client(t, "hostile-admin", "hostile-ws", "admin")
	deep := strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000)
	bodies := map[string][]byte{
		"NUL in a string": []byte(`{"mapping_id": "\u0000", "name": "a\u0000b", "company": "\u0000", "template": "\u0000"}`),
		"NUL in a key":    []byte(`{"a\u0000": 1}`),
		"invalid UTF-8":   []byte("{\"name\": \"\xff\xfe\"}"),
		"wrong types":     []byte(`{"name": 5, "mapping_id": [], "format": {}, "rows": "x", "company": true}`),
		"unknown fields":  []byte(`{"surprise": 1}`),
		"deep nesting":    []byte(deep),
		"huge array":      []byte(`{"rows": [` + strings.Repeat(`["x"],`, 150000) + `["x"]]}`),
		"not JSON":        []byte(`{"a": `),
		"empty":           []byte(``),
		"over 16 MiB":     bytes.Repeat([]byte("x"), 16<<20+1),
		"over 1 MiB":      append(append([]byte(`{"name": "`), bytes.Repeat([]byte("x"), 1<<20)...), []byte(`"}`)...),
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	defer func() {
		// The API runs in this process: after every hostile body, its heap
		// is back near where it was (bodies are capped before parsing).
		if after := heap(); after > before+64<<20 {
			t.Errorf("heap grew from %d to %d MiB over the hostile bodies", before>>20, after>>20)
		}
	}()
	// Routes whose own limit is above 1 MiB: exports carry tables, a
	// tracking batch a thousand events.
	largeBodies := map[string]bool{"start-export": true, "track-events": true}
	for _, op := range servedOperations(t, s) {
		if op.method != http.MethodPost && op.method != http.MethodPut || !op.hasBody {
			continue
		}
		path := strings.ReplaceAll(op.path, "{id}", "map_01JD4X7Q2W6ZC5D3V9N8K1M2P3")
		for name, body := range bodies {
			t.Run(op.id+"/"+name, func(t *testing.T) {
				req, _ := http.NewRequest(op.method, s.URL+path, bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+admin.token)
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatalf("no readable answer: %v", err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode < 400 || resp.StatusCode >= 500 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
					t.Errorf("%d %s: %.300s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
				}
				if strings.HasPrefix(name, "over") && resp.StatusCode != http.StatusRequestEntityTooLarge && !(name == "over 1 MiB" && largeBodies[op.id]) {
					t.Errorf("oversized body: %d", resp.StatusCode)
				}
			})
		}
	}
}
