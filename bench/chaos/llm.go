package main

import (
	"math/rand/v2"
	"sync"
	"time"

	"github.com/groundwork-dev/groundwork/internal/testkit/llmfake"
)

// llmFront is the fake LLM provider the workers call: llmfake (OpenAI wire
// format) with a share of its requests answered by an injected fault: a
// 429 with Retry-After, a 500, a 503, or a slow answer. The fake consumes
// queued faults one per request as they arrive; each answered request
// queues one for a later request with probability rate, so about that
// share of requests fails. (A reverse proxy in front of the fake, tried
// first, cut about one stream in 200 by itself: it is not used.)
type llmFront struct {
	fake *llmfake.Server

	mu       sync.Mutex
	rng      *rand.Rand
	rate     float64
	injected map[string]int
}

func newLLMFront(rate float64) *llmFront {
	f := &llmFront{
		rng:      rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano()))),
		rate:     rate,
		injected: map[string]int{},
	}
	f.fake = llmfake.New(llmfake.Options{ChunkWords: 5, ChunkDelay: 50 * time.Millisecond,
		Reply: func(r llmfake.Request) string {
			f.maybeFault()
			return llmfake.DefaultReply(r)
		}})
	return f
}

// maybeFault queues one fault with probability rate.
func (f *llmFront) maybeFault() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rng.Float64() >= f.rate {
		return
	}
	var flt llmfake.Fault
	switch f.rng.IntN(4) {
	case 0:
		flt = llmfake.Fault{Kind: llmfake.FaultRateLimited, RetryAfter: 2 * time.Second}
	case 1:
		flt = llmfake.Fault{Kind: llmfake.FaultServerError}
	case 2:
		flt = llmfake.Fault{Kind: llmfake.FaultOverloaded}
	default:
		flt = llmfake.Fault{Kind: llmfake.FaultSlow, Delay: 5 * time.Second}
	}
	f.injected[flt.Kind.String()]++
	f.fake.Enqueue(flt)
}

// baseURL is the OPENAI_BASE_URL of the workers.
func (f *llmFront) baseURL() string { return f.fake.OpenAIBaseURL() }

// inFlight is the number of requests the fake is answering now.
func (f *llmFront) inFlight() int64 { return int64(f.fake.Stats().InFlight) }

func (f *llmFront) close() { f.fake.Close() }

// counts returns the injected faults by kind.
func (f *llmFront) counts() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for k, v := range f.injected {
		out[k] = v
	}
	return out
}
