package test

import (
	"net/http"
	"testing"
)

// TestRunReadsAnswer304 polls a finished run and the run list as a
// frontend does: the first read carries an ETag, a read with it in
// If-None-Match is a 304 without a body, and a change (a new run) changes
// the list's tag. Another user's tag does not open a run.
func TestRunReadsAnswer304(t *testing.T) {
	s := sharedStack(t)
	c := s.newUser(t, "etag-user")
	r, resp := c.startExport(map[string]any{"format": "csv", "columns": []string{"n"}, "rows": [][]any{{1}}})
	if resp.Status != http.StatusAccepted {
		t.Fatalf("export: %d %s", resp.Status, resp.Body)
	}
	c.waitRun(r.ID)
	for _, path := range []string{"/v1/runs/" + r.ID, "/v1/runs"} {
		first := c.do(http.MethodGet, path, nil)
		tag := first.Header.Get("ETag")
		if first.Status != http.StatusOK || tag == "" || first.Header.Get("Cache-Control") != "private, no-cache" {
			t.Fatalf("%s: %d, ETag %q, Cache-Control %q", path, first.Status, tag, first.Header.Get("Cache-Control"))
		}
		again := c.do(http.MethodGet, path, nil, "If-None-Match", tag)
		if again.Status != http.StatusNotModified || len(again.Body) != 0 || again.Header.Get("ETag") != tag {
			t.Errorf("%s with If-None-Match: %d, %d bytes, ETag %q", path, again.Status, len(again.Body), again.Header.Get("ETag"))
		}
		if other := c.do(http.MethodGet, path, nil, "If-None-Match", `"not-it", W/`+tag); other.Status != http.StatusNotModified {
			t.Errorf("%s with a weak match in a list: %d", path, other.Status)
		}
	}
	list := c.do(http.MethodGet, "/v1/runs", nil).Header.Get("ETag")
	r2, _ := c.startExport(map[string]any{"format": "csv", "columns": []string{"n"}, "rows": [][]any{{2}}})
	c.waitRun(r2.ID)
	if changed := c.do(http.MethodGet, "/v1/runs", nil, "If-None-Match", list); changed.Status != http.StatusOK {
		t.Errorf("the list after a new run: %d", changed.Status)
	}
	tag := c.do(http.MethodGet, "/v1/runs/"+r.ID, nil).Header.Get("ETag")
	stranger := s.newUser(t, "etag-stranger")
	if got := stranger.do(http.MethodGet, "/v1/runs/"+r.ID, nil, "If-None-Match", tag); got.Status != http.StatusNotFound {
		t.Errorf("another user with the tag: %d", got.Status)
	}
}
