package main

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"
)

// maxErrorSamples bounds the distinct error messages kept per sample.
const maxErrorSamples = 5

// sample collects one measured operation's latencies. Every latency is
// kept, so percentiles are exact; runs are bounded, so this stays small.
type sample struct {
	mu        sync.Mutex
	name      string
	latencies []time.Duration
	codes     map[int]int // 0: transport error, no status
	errors    int
	messages  map[string]int
}

func newSample(name string) *sample {
	return &sample{name: name, codes: map[int]int{}, messages: map[string]int{}}
}

// add records one answer; ok says whether it was what the bench expected.
// A failed one still counts its latency.
func (s *sample) add(took time.Duration, code int, ok bool, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latencies = append(s.latencies, took)
	s.codes[code]++
	if !ok {
		s.errors++
		if len(msg) > 200 {
			msg = msg[:200]
		}
		if len(s.messages) < maxErrorSamples || s.messages[msg] > 0 {
			s.messages[msg]++
		}
	}
}

// Summary is one operation's figures.
type Summary struct {
	Name     string  `json:"name"`
	Count    int     `json:"count"`
	P50ms    float64 `json:"p50_ms"`
	P95ms    float64 `json:"p95_ms"`
	P99ms    float64 `json:"p99_ms"`
	MaxMs    float64 `json:"max_ms"`
	MeanMs   float64 `json:"mean_ms"`
	Errors   int     `json:"errors"`
	PerSec   float64 `json:"per_second,omitempty"`
	WallSecs float64 `json:"wall_seconds,omitempty"`
	// Codes counts the status codes seen; "transport" is no answer.
	Codes map[string]int `json:"codes,omitempty"`
	// ErrorSamples counts a few distinct errors.
	ErrorSamples map[string]int `json:"error_samples,omitempty"`
}

// summary computes the percentiles; wall, when positive, is the span the
// operations took together, giving the rate.
func (s *sample) summary(wall time.Duration) Summary {
	s.mu.Lock()
	defer s.mu.Unlock()
	sum := Summary{Name: s.name, Errors: s.errors}
	if len(s.codes) > 0 {
		sum.Codes = map[string]int{}
		for c, n := range s.codes {
			k := strconv.Itoa(c)
			if c == 0 {
				k = "transport"
			}
			sum.Codes[k] = n
		}
	}
	if len(s.messages) > 0 {
		sum.ErrorSamples = make(map[string]int, len(s.messages))
		for m, n := range s.messages {
			sum.ErrorSamples[m] = n
		}
	}
	summarize(&sum, s.latencies, wall)
	return sum
}

// durationSummary summarizes plain durations (no status codes).
func durationSummary(name string, ds []time.Duration, wall time.Duration) Summary {
	sum := Summary{Name: name}
	summarize(&sum, ds, wall)
	return sum
}

func summarize(sum *Summary, ds []time.Duration, wall time.Duration) {
	lat := slices.Clone(ds)
	slices.Sort(lat)
	sum.Count = len(lat)
	if wall > 0 {
		sum.WallSecs = secs(wall)
		sum.PerSec = round1(float64(len(lat)) / wall.Seconds())
	}
	if len(lat) == 0 {
		return
	}
	var total time.Duration
	for _, d := range lat {
		total += d
	}
	sum.MeanMs = ms(total / time.Duration(len(lat)))
	sum.P50ms = ms(percentile(lat, 0.50))
	sum.P95ms = ms(percentile(lat, 0.95))
	sum.P99ms = ms(percentile(lat, 0.99))
	sum.MaxMs = ms(lat[len(lat)-1])
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

func secs(d time.Duration) float64 {
	return math.Round(d.Seconds()*100) / 100
}

func round1(f float64) float64 {
	return math.Round(f*10) / 10
}

// fmtMs prints milliseconds, switching to seconds from 10 s.
func fmtMs(v float64) string {
	if v >= 10000 {
		return fmt.Sprintf("%.2f s", v/1000)
	}
	return fmt.Sprintf("%.1f ms", v)
}
