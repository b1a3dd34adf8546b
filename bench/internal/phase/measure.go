package phase

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

// Sample collects one measured operation's latencies. Every latency is
// kept, so percentiles are exact; runs are bounded, so this stays small.
type Sample struct {
	mu        sync.Mutex
	name      string
	latencies []time.Duration
	codes     map[int]int // 0: transport error, no status
	errors    int
	messages  map[string]int
}

// NewSample starts a Sample of the named operation.
func NewSample(name string) *Sample {
	return &Sample{name: name, codes: map[int]int{}, messages: map[string]int{}}
}

// Add records one answer; ok says whether it was what the bench expected.
// A failed one still counts its latency.
func (s *Sample) Add(took time.Duration, code int, ok bool, msg string) {
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

// Summary computes the percentiles; wall, when positive, is the span the
// operations took together, giving the rate.
func (s *Sample) Summary(wall time.Duration) Summary {
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

// DurationSummary summarizes plain durations (no status codes).
func DurationSummary(name string, ds []time.Duration, wall time.Duration) Summary {
	sum := Summary{Name: name}
	summarize(&sum, ds, wall)
	return sum
}

func summarize(sum *Summary, ds []time.Duration, wall time.Duration) {
	lat := slices.Clone(ds)
	slices.Sort(lat)
	sum.Count = len(lat)
	if wall > 0 {
		sum.WallSecs = Secs(wall)
		sum.PerSec = Round1(float64(len(lat)) / wall.Seconds())
	}
	if len(lat) == 0 {
		return
	}
	var total time.Duration
	for _, d := range lat {
		total += d
	}
	sum.MeanMs = Ms(total / time.Duration(len(lat)))
	sum.P50ms = Ms(Percentile(lat, 0.50))
	sum.P95ms = Ms(Percentile(lat, 0.95))
	sum.P99ms = Ms(Percentile(lat, 0.99))
	sum.MaxMs = Ms(lat[len(lat)-1])
}

// Percentile is the nearest-rank percentile p (0..1) of sorted durations.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// Ms is d in milliseconds, to a tenth.
func Ms(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Millisecond)*10) / 10
}

// Secs is d in seconds, to a hundredth.
func Secs(d time.Duration) float64 {
	return math.Round(d.Seconds()*100) / 100
}

// Round1 rounds f to a tenth.
func Round1(f float64) float64 {
	return math.Round(f*10) / 10
}

// FmtMs prints milliseconds, switching to seconds from 10 s.
func FmtMs(v float64) string {
	if v >= 10000 {
		return fmt.Sprintf("%.2f s", v/1000)
	}
	return fmt.Sprintf("%.1f ms", v)
}
