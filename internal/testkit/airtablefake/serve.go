package airtablefake

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
)

// maxBodyBytes bounds a request body. Airtable's own limit is not
// published; this only keeps a runaway client from exhausting memory.
const maxBodyBytes = 8 << 20

// recorder captures what a handler answered, for the request log.
type recorder struct {
	http.ResponseWriter
	status  int
	errType string
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(p)
}

// gate is what happens to a request before the API sees it.
type gate int

const (
	gateOpen gate = iota
	gateFault
	gateUnauthorized
	gateLimited
	gateFaultAfterCommit
)

// serve logs a request, then applies, in order, injected failures,
// authentication and the rate limits, all decided at arrival, then the
// latency, and only then the API itself.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, tooLarge := readBody(r)
	baseID, tableRef := scope(r.URL.Path)
	token := bearer(r)

	s.mu.Lock()
	entry := &RequestLog{
		Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Base: baseID, Table: tableRef,
		Token: token, At: time.Now(), Records: countRecords(r, body),
	}
	s.log = append(s.log, entry)
	s.counts.Requests++
	s.counts.MaxWriteBatch = max(s.counts.MaxWriteBatch, entry.Records)
	g, status, wait := s.admitLocked(baseID, token, entry.At)
	entry.Injected = g == gateFault || g == gateFaultAfterCommit
	s.mu.Unlock()

	rec := &recorder{ResponseWriter: w}
	defer func() {
		s.mu.Lock()
		entry.Status, entry.Error = rec.status, rec.errType
		s.mu.Unlock()
	}()
	if !s.delay(r) {
		rec.status = 499 // the client went away; nginx's code for it
		return
	}
	switch g {
	case gateFault:
		writeFault(rec, status)
	case gateUnauthorized:
		writeError(rec, &apiError{http.StatusUnauthorized, errAuthRequired, "Authentication required"})
	case gateLimited:
		writeRateLimited(rec, wait, s.opts.RetryAfter)
	case gateFaultAfterCommit:
		s.mux.ServeHTTP(&discard{header: http.Header{}}, r)
		writeFault(rec, status)
	default:
		if tooLarge {
			writeError(rec, &apiError{http.StatusRequestEntityTooLarge, errTooLarge, "Request body is too large"})
			return
		}
		s.mux.ServeHTTP(rec, r)
	}
}

// admitLocked decides the gate for a request that arrived at now.
func (s *Server) admitLocked(baseID, token string, now time.Time) (g gate, status int, wait time.Duration) {
	if s.faults.before > 0 {
		s.faults.before--
		s.counts.Injected++
		return gateFault, s.faults.beforeStatus, 0
	}
	if !s.tokens[token] {
		s.counts.Unauthorized++
		return gateUnauthorized, 0, 0
	}
	if ok, wait := s.limiter.admit(baseID, token, now); !ok {
		s.counts.RateLimited++
		return gateLimited, 0, wait
	}
	if s.faults.after > 0 {
		s.faults.after--
		s.counts.Injected++
		return gateFaultAfterCommit, s.faults.afterStatus, 0
	}
	return gateOpen, 0, 0
}

// delay waits out Options.Latency, or until the client gives up.
func (s *Server) delay(r *http.Request) bool {
	if s.opts.Latency <= 0 {
		return true
	}
	t := time.NewTimer(s.opts.Latency)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// faultTypes are the error types of injected failures, as Airtable's
// servers and gateways send them.
var faultTypes = map[int]string{
	http.StatusInternalServerError: "SERVER_ERROR",
	http.StatusBadGateway:          "BAD_GATEWAY",
	http.StatusServiceUnavailable:  "SERVICE_UNAVAILABLE",
	http.StatusGatewayTimeout:      "GATEWAY_TIMEOUT",
}

func writeFault(w http.ResponseWriter, status int) {
	if status == http.StatusTooManyRequests {
		writeRateLimited(w, 0, false)
		noteError(w, "")
		return
	}
	typ := faultTypes[status]
	if typ == "" {
		typ = strings.ToUpper(strings.ReplaceAll(http.StatusText(status), " ", "_"))
	}
	writeJSON(w, status, errorBody{errorDetail{typ, "Try again. If the problem persists, contact support."}})
}

// discard is a ResponseWriter that drops the response of a request whose
// answer FailNextAfterCommit replaces.
type discard struct{ header http.Header }

func (d *discard) Header() http.Header         { return d.header }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

// readBody buffers the body so that it can be both counted for the log and
// read by the handler.
func readBody(r *http.Request) (body []byte, tooLarge bool) {
	if r.Body == nil {
		return nil, false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil || len(body) > maxBodyBytes {
		tooLarge = len(body) > maxBodyBytes
		body = nil
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, tooLarge
}

// scope extracts the base and table a path addresses, for the rate limits
// and the log, before routing.
func scope(path string) (baseID, tableRef string) {
	rest, ok := strings.CutPrefix(path, "/v0/")
	if !ok {
		return "", ""
	}
	seg := strings.Split(rest, "/")
	if seg[0] == "meta" {
		if len(seg) >= 3 && seg[1] == "bases" {
			return seg[2], ""
		}
		return "", ""
	}
	if len(seg) >= 2 {
		tableRef = seg[1]
	}
	return seg[0], tableRef
}

func bearer(r *http.Request) string {
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return strings.TrimSpace(token)
}

// countRecords is the number of records a write carries, for the log.
func countRecords(r *http.Request, body []byte) int {
	switch r.Method {
	case http.MethodDelete:
		if n := len(r.URL.Query()["records[]"]); n > 0 {
			return n
		}
		if strings.Count(strings.TrimPrefix(r.URL.Path, "/v0/"), "/") == 2 { // one record's URL
			return 1
		}
		return 0
	case http.MethodPost, http.MethodPatch, http.MethodPut:
		if strings.HasSuffix(r.URL.Path, "/listRecords") {
			return 0
		}
		var b struct {
			Records []json.RawMessage `json:"records"`
			Fields  json.RawMessage   `json:"fields"`
		}
		if json.Unmarshal(body, &b) != nil {
			return 0
		}
		if b.Records == nil && b.Fields != nil {
			return 1
		}
		return len(b.Records)
	}
	return 0
}
