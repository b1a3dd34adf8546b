package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// closedLoop sends 0..n-1 from clients goroutines, each sending its next
// as soon as its last was answered.
func closedLoop(ctx context.Context, n, clients int, send func(int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				send(i)
			}
		})
	}
	wg.Wait()
}

// pacedLoop sends i at i × every from the start, whatever the latency
// (open loop), and waits for every answer.
func pacedLoop(ctx context.Context, n int, every time.Duration, send func(int)) {
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		// From the number, so that lateness never accumulates.
		if d := time.Until(start.Add(time.Duration(i) * every)); d > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(d):
			}
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() { send(i) })
	}
	wg.Wait()
}
