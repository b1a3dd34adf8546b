package client

import (
	"bufio"
	"bytes"
	"io"
	"strconv"
	"strings"
	"time"
)

// sseEvent is one dispatched server-sent event.
type sseEvent struct {
	event, id, data string
}

// sseReader parses text/event-stream as the HTML standard specifies,
// minus what this client has no use for (the stream carries runs, which can be large).
type sseReader struct {
	sc     *bufio.Scanner
	lastID string
	retry  time.Duration
	first  bool
}

func newSSEReader(r io.Reader) *sseReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20) // a run's result can be large
	sc.Split(scanSSELines)
	return &sseReader{sc: sc, first: true}
}

// next returns the next event; io.EOF (or the read error) when the stream
// ends, discarding a half-received event as the standard says.
func (r *sseReader) next() (sseEvent, error) {
	var ev sseEvent
	var data strings.Builder
	hasData := false
	for r.sc.Scan() {
		line := r.sc.Text()
		if r.first {
			line = strings.TrimPrefix(line, "\ufeff")
			r.first = false
		}
		if line == "" {
			if !hasData {
				ev = sseEvent{} // nothing to dispatch; start over
				continue
			}
			ev.data = strings.TrimSuffix(data.String(), "\n")
			ev.id = r.lastID
			if ev.event == "" {
				ev.event = "message"
			}
			return ev, nil
		}
		if line[0] == ':' {
			continue // comment, e.g. the server's keep-alive
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			ev.event = value
		case "data":
			data.WriteString(value)
			data.WriteByte('\n')
			hasData = true
		case "id":
			if !strings.ContainsRune(value, 0) {
				r.lastID = value
			}
		case "retry":
			if ms, err := strconv.Atoi(value); err == nil && ms >= 0 {
				r.retry = time.Duration(ms) * time.Millisecond
			}
		}
	}
	if err := r.sc.Err(); err != nil {
		return sseEvent{}, err
	}
	return sseEvent{}, io.EOF
}

// scanSSELines splits on CRLF, LF or a lone CR, the three line endings
// the event-stream format allows.
func scanSSELines(data []byte, atEOF bool) (int, []byte, error) {
	i := bytes.IndexAny(data, "\r\n")
	switch {
	case i < 0 && atEOF && len(data) > 0:
		return len(data), data, nil
	case i < 0:
		return 0, nil, nil
	case data[i] == '\n':
		return i + 1, data[:i], nil
	case i+1 < len(data):
		if data[i+1] == '\n' {
			return i + 2, data[:i], nil
		}
		return i + 1, data[:i], nil
	case atEOF:
		return i + 1, data[:i], nil
	default:
		return 0, nil, nil // a CR at the end: wait to see whether LF follows
	}
}
