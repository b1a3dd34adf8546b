package main

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// maxErrorSamples bounds the distinct error messages kept per endpoint.
const maxErrorSamples = 5

// sample collects the results of one endpoint. Every latency is kept, so
// percentiles are exact; runs are bounded, so this stays small.
type sample struct {
	mu        sync.Mutex
	endpoint  string
	latencies []time.Duration
	codes     map[int]int // 0: transport error, no status
	errors    int
	messages  map[string]int // a few distinct errors, for the reader
	first     time.Time
	last      time.Time
}

func newSample(endpoint string) *sample {
	return &sample{endpoint: endpoint, codes: map[int]int{}, messages: map[string]int{}}
}

// add records one result. An error is anything but a 2xx answer: a
// transport failure (code 0), a 4xx, a 5xx or vegeta's own timeout.
func (s *sample) add(r *vegeta.Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latencies = append(s.latencies, r.Latency)
	code := int(r.Code)
	s.codes[code]++
	if code < 200 || code > 299 {
		s.errors++
		msg := r.Error
		if code != 0 {
			msg = fmt.Sprintf("%d %.200s", code, bytes.TrimSpace(r.Body))
		}
		if len(s.messages) < maxErrorSamples || s.messages[msg] > 0 {
			s.messages[msg]++
		}
	}
	if s.first.IsZero() || r.Timestamp.Before(s.first) {
		s.first = r.Timestamp
	}
	if r.Timestamp.After(s.last) {
		s.last = r.Timestamp
	}
}

// Summary is one endpoint's figures.
type Summary struct {
	Endpoint string `json:"endpoint"`
	Requests int    `json:"requests"`
	// Rate is requests per second as sent: (n-1) over the span from the
	// first to the last request.
	Rate      float64        `json:"rate_per_s"`
	P50ms     float64        `json:"p50_ms"`
	P95ms     float64        `json:"p95_ms"`
	P99ms     float64        `json:"p99_ms"`
	MaxMs     float64        `json:"max_ms"`
	Errors    int            `json:"errors"`
	ErrorRate float64        `json:"error_rate"`
	Codes     map[string]int `json:"codes"`
	// ErrorSamples counts a few distinct errors: the transport error, or
	// the status and the start of the body.
	ErrorSamples map[string]int `json:"error_samples,omitempty"`
}

func (s *sample) summary() Summary {
	s.mu.Lock()
	defer s.mu.Unlock()
	lat := slices.Clone(s.latencies)
	slices.Sort(lat)
	sum := Summary{Endpoint: s.endpoint, Requests: len(lat), Errors: s.errors, Codes: map[string]int{}}
	for c, n := range s.codes {
		k := strconv.Itoa(c)
		if c == 0 {
			k = "transport"
		}
		sum.Codes[k] = n
	}
	if len(s.messages) > 0 {
		sum.ErrorSamples = make(map[string]int, len(s.messages))
		for m, n := range s.messages {
			sum.ErrorSamples[m] = n
		}
	}
	if len(lat) == 0 {
		return sum
	}
	sum.ErrorRate = float64(s.errors) / float64(len(lat))
	if span := s.last.Sub(s.first); len(lat) > 1 && span > 0 {
		sum.Rate = round2(float64(len(lat)-1) / span.Seconds())
	}
	sum.P50ms = ms(percentile(lat, 0.50))
	sum.P95ms = ms(percentile(lat, 0.95))
	sum.P99ms = ms(percentile(lat, 0.99))
	sum.MaxMs = ms(lat[len(lat)-1])
	return sum
}

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Millisecond)*10) / 10
}

// Ratio compares the API's start path with the raw baseline at one rate.
type Ratio struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
}

func ratio(api, raw Summary) *Ratio {
	if raw.Requests == 0 || raw.P50ms == 0 || raw.P95ms == 0 || api.Requests == 0 {
		return nil
	}
	return &Ratio{
		P50: math.Round(api.P50ms/raw.P50ms*100) / 100,
		P95: math.Round(api.P95ms/raw.P95ms*100) / 100,
	}
}
