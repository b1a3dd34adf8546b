// Package airtablefake is a local fake of the Airtable Web API
// (https://airtable.com/developers/web/api/introduction) for tests and
// benchmarks of code that syncs with Airtable. It serves Airtable's REST wire
// format under /v0/ from an httptest server and enforces the rules a client
// gets wrong in production: at most 10 records per write and 100 per page,
// opaque list offsets, typed field validation, read-only computed fields,
// upserts, and the rate limits of 5 requests per second per base and 50 per
// token, with a lockout after a breach. Every request is recorded, so a test
// can assert how a client behaved and not only what it wrote.
//
//	srv := airtablefake.New(airtablefake.Options{})
//	defer srv.Close()
//	srv.CreateTable("appSales", airtablefake.TableSpec{Name: "People", Fields: []airtablefake.FieldSpec{
//		{Name: "Email", Type: airtablefake.TypeEmail},
//		{Name: "Modified", Type: airtablefake.TypeLastModifiedTime},
//	}})
//	// the client under test talks to srv.URL() with "Bearer pat-test"
//
// filterByFormula supports this subset of Airtable's formula language, which
// covers what sync tools send; anything else is a 422
// INVALID_FILTER_BY_FORMULA, and a formula that evaluates to an error for a
// record (a bad date, a division by zero) leaves that record out:
//
//   - {Field Name} references (by name or field ID), 'single' and "double"
//     quoted strings with backslash escapes, numbers, TRUE and FALSE;
//   - the operators = != <> < > <= >= on numbers, text and times, & to
//     concatenate, arithmetic with + - * / and unary minus; a blank cell
//     equals the empty string, 0 and BLANK();
//   - AND, OR, NOT, IF, BLANK, TRUE, FALSE;
//   - RECORD_ID, CREATED_TIME, LAST_MODIFIED_TIME (with or without field
//     arguments), NOW, TODAY;
//   - IS_AFTER, IS_BEFORE, IS_SAME (optional unit), DATETIME_PARSE (ISO 8601,
//     or a format of numeric Moment.js tokens), DATEADD;
//   - LOWER, UPPER, TRIM, LEN, FIND, CONCATENATE.
//
// Function names ignore case; field names do not. Multiple selects read as
// "a, b", and links as the primary field values of the linked records.
//
// Where the fake knowingly differs from Airtable it says so next to the
// behaviour; the larger gaps are that tables only have the one default view,
// links have no inverse field, and times are always UTC.
package airtablefake

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// DefaultToken is the only token a fake accepts when Options.Tokens is empty.
const DefaultToken = "pat-test"

// Airtable's published limits, the defaults of Options.
const (
	defaultPerBase  = 5
	defaultPerToken = 50
	defaultWindow   = time.Second
	defaultLockout  = 30 * time.Second
)

// Options configure a fake; the zero value behaves like Airtable.
type Options struct {
	// Tokens are the personal access tokens accepted in
	// "Authorization: Bearer <token>"; empty means DefaultToken alone.
	Tokens []string
	// PerBase is how many requests to one base may arrive within Window;
	// 0 means Airtable's 5 and a negative value turns the limit off.
	PerBase int
	// PerToken is how many requests with one token may arrive within Window,
	// across all bases; 0 means Airtable's 50 and negative turns it off.
	PerToken int
	// Window is the sliding window the limits count in; 0 means a second.
	Window time.Duration
	// Lockout is how long a base or token that went over its limit gets
	// nothing but 429s; 0 means Airtable's 30 seconds, and a negative value
	// means no lockout, so that only requests over the limit are refused.
	Lockout time.Duration
	// RetryAfter adds a Retry-After header, in whole seconds until the
	// lockout ends, to 429s. Airtable does not always send one, so a client
	// must not depend on it; it is off by default.
	RetryAfter bool
	// Now is the clock for createdTime, modification times and NOW() in
	// formulas; nil means time.Now. Rate limiting and the request log
	// always use the real clock, because clients wait on real time.
	Now func() time.Time
	// Latency delays every response, after the request was counted against
	// the rate limits, as a network round trip would.
	Latency time.Duration
}

// Server is a running fake; it is safe for concurrent use.
type Server struct {
	srv  *httptest.Server
	opts Options
	mux  *http.ServeMux

	mu        sync.Mutex
	tokens    map[string]bool
	bases     map[string]*base
	seq       map[string]uint64 // per ID prefix, so IDs follow creation order
	lastStamp time.Time
	limiter   *limiter
	iterators map[string]*iterator
	faults    faults
	log       []*RequestLog
	counts    Stats
}

// New starts a fake on a local port; Close it when done.
func New(opts Options) *Server {
	if len(opts.Tokens) == 0 {
		opts.Tokens = []string{DefaultToken}
	}
	opts.PerBase = orDefault(opts.PerBase, defaultPerBase)
	opts.PerToken = orDefault(opts.PerToken, defaultPerToken)
	if opts.Window <= 0 {
		opts.Window = defaultWindow
	}
	if opts.Lockout == 0 {
		opts.Lockout = defaultLockout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		opts:      opts,
		tokens:    map[string]bool{},
		bases:     map[string]*base{},
		seq:       map[string]uint64{},
		limiter:   newLimiter(opts.PerBase, opts.PerToken, opts.Window, opts.Lockout),
		iterators: map[string]*iterator{},
	}
	for _, t := range opts.Tokens {
		s.tokens[t] = true
	}
	s.mux = s.routes()
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// orDefault maps the zero value to def; negative values stay, meaning "off".
func orDefault(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// URL is the base URL the client should use in place of
// https://api.airtable.com; the API lives under its /v0/.
func (s *Server) URL() string { return s.srv.URL }

// Close stops the fake and waits for requests in flight.
func (s *Server) Close() { s.srv.Close() }
