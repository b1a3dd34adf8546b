package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
)

// maxETagBody is the largest answer etag buffers; a larger one goes out
// as it is, without a validator.
const maxETagBody = 1 << 20

// etagged reports whether a request reads a run or the run list: the
// reads a frontend polls every second or two.
func etagged(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1/runs")
	return ok && (rest == "" || rest == "/" || strings.Count(rest, "/") == 1)
}

// etag gives the polled reads a strong ETag (a hash of the answer) and
// answers If-None-Match with 304 Not Modified and no body: a poll that
// finds nothing new costs headers only.
func etag(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !etagged(r) {
			next.ServeHTTP(w, r)
			return
		}
		bw := &bufferedWriter{header: http.Header{}, status: http.StatusOK}
		next.ServeHTTP(bw, r)
		for k, v := range bw.header {
			w.Header()[k] = v
		}
		if bw.status != http.StatusOK || bw.overflow {
			w.WriteHeader(bw.status)
			_, _ = w.Write(bw.body.Bytes())
			return
		}
		sum := sha256.Sum256(bw.body.Bytes())
		tag := `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
		w.Header().Set("ETag", tag)
		// The answer depends on who asks.
		w.Header().Add("Vary", "Authorization")
		w.Header().Set("Cache-Control", "private, no-cache")
		if matchesETag(r.Header.Get("If-None-Match"), tag) {
			w.Header().Del("Content-Length")
			w.Header().Del("Content-Type")
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(bw.body.Bytes())
	})
}

// matchesETag reports whether an If-None-Match header names tag (or *),
// comparing weakly as RFC 9110 asks for If-None-Match.
func matchesETag(header, tag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == tag {
			return true
		}
	}
	return false
}

// bufferedWriter holds an answer until etag has seen all of it.
type bufferedWriter struct {
	header   http.Header
	status   int
	body     bytes.Buffer
	overflow bool
	wrote    bool
}

func (b *bufferedWriter) Header() http.Header { return b.header }

func (b *bufferedWriter) WriteHeader(code int) {
	if !b.wrote {
		b.status, b.wrote = code, true
	}
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	b.wrote = true
	if b.body.Len()+len(p) > maxETagBody {
		b.overflow = true
	}
	return b.body.Write(p)
}
