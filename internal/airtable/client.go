package airtable

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/groundwork-dev/groundwork/internal/metrics"
)

// DefaultBaseURL is where Airtable's API lives.
const DefaultBaseURL = "https://api.airtable.com"

// defaultUserAgent identifies the client when Client.UserAgent is empty.
const defaultUserAgent = "groundwork-airtable"

// maxResponseBytes bounds how much of a response is read. A page of 100
// records with long text fields runs to a few MB; anything near this is
// not a response we can use.
const maxResponseBytes = 64 << 20

// Client talks to one Airtable account; its zero value plus a Token works.
// It is safe for concurrent use as long as its fields are not changed.
type Client struct {
	// BaseURL replaces DefaultBaseURL, for tests and proxies.
	BaseURL string
	// Token is the personal access token or OAuth token sent as a bearer
	// token; it never appears in errors.
	Token string
	// HTTP sends the requests; nil means http.DefaultClient.
	HTTP *http.Client
	// UserAgent is sent with every request; empty means "groundwork-airtable".
	UserAgent string
	// Wait is called before every request with the base it goes to, so that
	// the caller can share one rate limiter per base and per token across
	// activities; an error aborts the request. Nil means no waiting.
	Wait func(ctx context.Context, baseID string) error
}

// call describes one request.
type call struct {
	method string
	baseID string   // for Wait
	path   []string // segments after /v0/, escaped here
	query  url.Values
	body   any // JSON-encoded when non-nil
}

// do sends one request and decodes a 2xx response into out. Failures from
// the network or Airtable are *Error; a failed Wait, a cancelled context
// and a bad request built by the caller are returned as they are.
func (c *Client) do(ctx context.Context, in call, out any) error {
	if c.Token == "" {
		return errors.New("airtable: no token")
	}
	req, err := c.newRequest(ctx, in)
	if err != nil {
		return err
	}
	if c.Wait != nil {
		if err := c.Wait(ctx, in.baseID); err != nil {
			return fmt.Errorf("wait for rate limit: %w", err)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		metrics.AirtableRequests.WithLabelValues("error").Inc()
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return &Error{Err: err}
	}
	metrics.AirtableRequests.WithLabelValues(strconv.Itoa(resp.StatusCode)).Inc()
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return &Error{Status: resp.StatusCode, Err: fmt.Errorf("read response body: %w", err)}
	}
	if len(data) > maxResponseBytes {
		return &Error{Status: resp.StatusCode, Err: fmt.Errorf("response body over %d bytes", maxResponseBytes)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return responseError(resp, data)
	}
	if out == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	// Numbers stay json.Number so that FromAirtable sees the exact text.
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return &Error{Status: resp.StatusCode, Err: fmt.Errorf("malformed response body: %w", err)}
	}
	return nil
}

func (c *Client) newRequest(ctx context.Context, in call) (*http.Request, error) {
	u, err := c.url(in.path, in.query)
	if err != nil {
		return nil, err
	}
	var body io.Reader
	if in.body != nil {
		data, err := json.Marshal(in.body)
		if err != nil {
			return nil, fmt.Errorf("encode request body: %w", err)
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, in.method, u, body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Accept", "application/json")
	if in.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	ua := c.UserAgent
	if ua == "" {
		ua = defaultUserAgent
	}
	req.Header.Set("User-Agent", ua)
	return req, nil
}

// url joins the base URL, /v0/ and the escaped path segments: table names
// may hold spaces, slashes and anything else a user types.
func (c *Client) url(segments []string, query url.Values) (string, error) {
	base := c.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	var b strings.Builder
	b.WriteString(strings.TrimRight(base, "/"))
	b.WriteString("/v0")
	for _, s := range segments {
		if s == "" {
			return "", errors.New("airtable: empty base, table or path segment")
		}
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	if len(query) > 0 {
		b.WriteByte('?')
		b.WriteString(query.Encode())
	}
	return b.String(), nil
}
