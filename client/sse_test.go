package client

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestSSEReader(t *testing.T) {
	stream := "\ufeff: comment\r\n" +
		"retry: 2500\r\n" +
		"id: 7\r\nevent: progress\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\n" +
		"data:no space\rid\r\r" + // lone CRs; an empty id resets it
		"event: ignored-without-data\n\n" +
		"id: 9\nevent: done\ndata: x\n" // no blank line: never dispatched
	r := newSSEReader(strings.NewReader(stream))
	want := []sseEvent{
		{event: "progress", id: "7", data: "{\"a\":\n1}"},
		{event: "message", id: "", data: "no space"},
	}
	for i, w := range want {
		got, err := r.next()
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if got != w {
			t.Errorf("event %d = %+v, want %+v", i, got, w)
		}
	}
	if _, err := r.next(); !errors.Is(err, io.EOF) {
		t.Errorf("after the last event: err = %v, want EOF", err)
	}
	if r.retry != 2500*time.Millisecond || r.lastID != "9" {
		t.Errorf("retry = %v, lastID = %q", r.retry, r.lastID)
	}
}
