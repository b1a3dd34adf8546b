package llm

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
)

// maxErrorBody caps the copy of an error body kept for classification;
// provider error bodies are a few hundred bytes.
const maxErrorBody = 64 << 10

// exchange records the HTTP response of one Stream call. Both SDKs turn an
// error body they cannot parse (an HTML page from a proxy, Ollama's
// {"error":"..."}) into a bare decode error that has lost the status, so
// the status, headers and error body are kept here for classification.
type exchange struct {
	requests int
	status   int
	header   http.Header
	body     []byte
}

// record is an SDK middleware (both SDKs share the signature). The SDK runs
// it in the calling goroutine, so it needs no lock.
func (x *exchange) record(req *http.Request, next func(*http.Request) (*http.Response, error)) (*http.Response, error) {
	x.requests++
	res, err := next(req)
	if res == nil {
		return res, err
	}
	x.status, x.header = res.StatusCode, res.Header
	if res.StatusCode >= 400 && res.Body != nil {
		body, _ := io.ReadAll(io.LimitReader(res.Body, maxErrorBody))
		x.body = body
		res.Body = readCloser{io.MultiReader(bytes.NewReader(body), res.Body), res.Body}
	}
	return res, err
}

type readCloser struct {
	io.Reader
	io.Closer
}

// Sentinels for failures the SDKs do not report as errors.
var (
	// errCut: the stream ended cleanly but before its final event, as when
	// a proxy closes an idle connection politely.
	errCut = errors.New("the stream ended before its final event")
	// errNotStream: a 200 that is not an event stream, as when a proxy or
	// a server that ignores "stream": true answers; the SDK decoder finds
	// no events in it and ends without error.
	errNotStream = errors.New("the response is not an event stream")
	// errMalformed: events that parse as JSON but cannot be accumulated.
	errMalformed = errors.New("malformed stream event")
)

// endedEarly explains a stream that ended without error before its final
// event.
func (x *exchange) endedEarly() error {
	mt, _, _ := mime.ParseMediaType(x.header.Get("Content-Type"))
	if x.status == http.StatusOK && mt != "text/event-stream" {
		return errNotStream
	}
	return errCut
}
