package test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestPreferWait: a POST with Prefer: wait=N answers 200 with the ended
// run (its result and a working download link) when it ends in time, in
// one round trip; a bad wait is a 400 that starts nothing; a repeated
// Idempotency-Key of an ended run answers 200 at once. The 202 when the
// run outlasts the wait is in TestGenerationsEndToEnd, whose fake LLM can
// hold an answer.
func TestPreferWait(t *testing.T) {
	s := sharedStack(t)
	c := s.newUser(t, "prefer-user")

	rows := make([][]any, 100)
	for i := range rows {
		rows[i] = []any{fmt.Sprintf("Company %03d", i), i * 10}
	}
	body := map[string]any{"format": "csv", "filename": "hundred", "columns": []string{"name", "score"}, "rows": rows}

	t.Run("ended in time: 200 with the result", func(t *testing.T) {
		c := c.with(t)
		r, resp := c.startExport(body, "Prefer", "wait=10", "Idempotency-Key", "prefer-100")
		if resp.Status != http.StatusOK || resp.Header.Get("Preference-Applied") != "wait=10" {
			t.Fatalf("%d (Preference-Applied %q): %s", resp.Status, resp.Header.Get("Preference-Applied"), resp.Body)
		}
		if r.Status != "succeeded" || r.Result["rows"] != float64(100) || resp.Header.Get("Location") != "/v1/runs/"+r.ID {
			t.Fatalf("run %+v, Location %q", r, resp.Header.Get("Location"))
		}
		link, _ := r.Result["download_url"].(string)
		got, err := http.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		defer got.Body.Close()
		file, _ := io.ReadAll(got.Body)
		if got.StatusCode != http.StatusOK || !strings.Contains(string(file), "Company 099,990") {
			t.Fatalf("download %s: %d\n%.200s", link, got.StatusCode, file)
		}

		// The retry of a start whose answer was lost: the same run, at once.
		again, resp := c.startExport(body, "Prefer", "wait=10", "Idempotency-Key", "prefer-100")
		if resp.Status != http.StatusOK || again.ID != r.ID || again.Status != "succeeded" {
			t.Fatalf("repeat: %d %s", resp.Status, resp.Body)
		}
	})

	t.Run("a wait over 10 s is capped", func(t *testing.T) {
		c := c.with(t)
		_, resp := c.startExport(body, "Prefer", "respond-async, wait=600")
		if resp.Status != http.StatusOK || resp.Header.Get("Preference-Applied") != "wait=10" {
			t.Fatalf("%d (Preference-Applied %q): %s", resp.Status, resp.Header.Get("Preference-Applied"), resp.Body)
		}
	})

	t.Run("without a wait: 202", func(t *testing.T) {
		c := c.with(t)
		for _, prefer := range []string{"", "respond-async", "wait=0"} {
			r, resp := c.startExport(body, "Prefer", prefer)
			if resp.Status != http.StatusAccepted || resp.Header.Get("Preference-Applied") != "" {
				t.Fatalf("Prefer %q: %d (Preference-Applied %q)", prefer, resp.Status, resp.Header.Get("Preference-Applied"))
			}
			c.waitRun(r.ID)
		}
	})

	t.Run("a bad wait is a 400 and starts nothing", func(t *testing.T) {
		c := c.with(t)
		before := len(c.listRuns())
		for _, prefer := range []string{"wait=soon", "wait=-1", "wait", "wait=1.5"} {
			_, resp := c.startExport(body, "Prefer", prefer)
			var p problemDoc
			resp.json(t, &p)
			if resp.Status != http.StatusBadRequest || !strings.HasSuffix(p.Type, "/invalid_preference") {
				t.Errorf("Prefer %q: %d %s", prefer, resp.Status, resp.Body)
			}
		}
		if after := len(c.listRuns()); after != before {
			t.Fatalf("bad Prefer headers left %d runs behind", after-before)
		}
	})
}
