package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

const (
	// DefaultUserAgent is sent unless WithUserAgent names the program.
	DefaultUserAgent = "groundwork-go-client"
	// requestTimeout bounds every request but the event stream, which
	// lives as long as the run and is bounded by its context and
	// streamIdle instead.
	requestTimeout = 30 * time.Second
	// streamIdle is three missed server heartbeats (15 s each): a stream
	// silent for that long is a dead connection no read would notice.
	streamIdle = 45 * time.Second
	// defaultPoll is the polling period of WaitRun's fallback and the
	// delay before it reconnects a broken stream.
	defaultPoll = time.Second
	// maxErrorBody bounds how much of a failed answer is read.
	maxErrorBody = 64 << 10
)

// Client calls one Groundwork API with one credential. It is safe for
// concurrent use; make one and share it.
type Client struct {
	base      string
	token     string
	http      *http.Client
	userAgent string
	poll      time.Duration
	idle      time.Duration

	// etags remembers the last answer to each GetRun, so a repeated read
	// sends If-None-Match and a 304 costs headers only.
	etags *etagCache
}

// Option configures a Client.
type Option func(*Client)

// WithAPIKey sends key as "Authorization: Bearer key": an API key (gw_…)
// or a JWT from the platform's auth provider.
func WithAPIKey(key string) Option { return func(c *Client) { c.token = key } }

// WithHTTPClient sends every request through hc (a transport with a proxy,
// tracing, custom TLS). Leave its Timeout zero: it would also cut event
// streams, which last as long as a run; the client bounds other requests
// itself.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithUserAgent names the program in the User-Agent header, which the
// API's logs show.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// WithPollInterval sets how often WaitRun polls when it cannot stream, and
// how long it waits before reconnecting a broken stream (default 1 s).
func WithPollInterval(d time.Duration) Option {
	return func(c *Client) {
		if d > 0 {
			c.poll = d
		}
	}
}

// New returns a client for the API at baseURL (for example
// http://localhost:8080; a path prefix is kept).
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("groundwork client: base URL %q is not an http(s) URL", baseURL)
	}
	c := &Client{
		base:      strings.TrimRight(baseURL, "/"),
		http:      &http.Client{},
		userAgent: DefaultUserAgent,
		poll:      defaultPoll,
		idle:      streamIdle,
		etags:     newETagCache(etagCacheSize),
	}
	for _, o := range opts {
		o(c)
	}
	if c.http == nil {
		c.http = &http.Client{}
	}
	return c, nil
}

// newRequest is an authenticated request of path?q with an optional JSON
// body.
func (c *Client) newRequest(ctx context.Context, method, path string, q url.Values, body []byte) (*http.Request, error) {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// answer is a 2xx (or 304) response read whole.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request, bounded by requestTimeout, and returns the answer
// of a 2xx or 304; any other status is a *Problem.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, body []byte, header http.Header) (answer, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := c.newRequest(ctx, method, path, q, body)
	if err != nil {
		return answer{}, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode/100 != 2 && resp.StatusCode != http.StatusNotModified {
		return answer{}, problemFrom(resp)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, fmt.Errorf("read answer: %w", err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// sleep waits d, or less if ctx ends first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// etagCacheSize bounds the runs whose last answer is kept: enough for a
// program polling many runs, small enough not to grow without end.
const etagCacheSize = 256

// etagCache maps a run ID to the ETag and body of its last answer.
type etagCache struct {
	mu    sync.Mutex
	max   int
	order []string
	byID  map[string]etagEntry
}

type etagEntry struct {
	tag  string
	body []byte
}

func newETagCache(max int) *etagCache {
	return &etagCache{max: max, byID: map[string]etagEntry{}}
}

func (e *etagCache) get(id string) (etagEntry, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	v, ok := e.byID[id]
	return v, ok
}

// put remembers an answer, forgetting the oldest run when full.
func (e *etagCache) put(id string, v etagEntry) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.byID[id]; !ok {
		if len(e.order) >= e.max {
			delete(e.byID, e.order[0])
			e.order = e.order[1:]
		}
		e.order = append(e.order, id)
	}
	e.byID[id] = v
}

// decodeJSON decodes an answer's body into v, naming what it was.
func decodeJSON(b []byte, v any, what string) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %s: %w", what, err)
	}
	return nil
}

// errNoID refuses a run ID that is empty, which would read the list.
var errNoID = errors.New("empty run ID")
