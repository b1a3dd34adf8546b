package activities

import (
	"context"
	"sync"
	"time"
)

// sharedCache keeps what a worker read from a site (robots.txt, sitemaps)
// for a while, and makes concurrent readers of one key share a single
// read: the home page and discovery, started together, would otherwise
// both spend a slot of the domain's rate on the same robots.txt.
type sharedCache[T any] struct {
	mu      sync.Mutex
	entries map[string]cacheEntry[T]
	flights map[string]*cacheFlight[T]
}

type cacheEntry[T any] struct {
	v  T
	at time.Time
}

// cacheFlight is a read in progress; done closes when v and err are set.
type cacheFlight[T any] struct {
	done chan struct{}
	v    T
	err  error
	// waiters counts the callers that joined the read (under the cache's
	// mutex), which tests wait on.
	waiters int
}

// get returns key's value read within ttl, else waits for a read already
// in progress, else reads it with load. A failed read is not kept: the
// next caller reads again (a waiter whose own context is still live does
// so at once, since the failure may have been the reader's cancellation).
func (c *sharedCache[T]) get(ctx context.Context, key string, ttl time.Duration, load func(context.Context) (T, error)) (T, error) {
	for {
		c.mu.Lock()
		if e, ok := c.entries[key]; ok && time.Since(e.at) < ttl {
			c.mu.Unlock()
			return e.v, nil
		}
		if f, ok := c.flights[key]; ok {
			f.waiters++
			c.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				var zero T
				return zero, ctx.Err()
			}
			if f.err == nil {
				return f.v, nil
			}
			if ctx.Err() != nil {
				return f.v, f.err
			}
			continue
		}
		f := &cacheFlight[T]{done: make(chan struct{})}
		if c.flights == nil {
			c.flights, c.entries = map[string]*cacheFlight[T]{}, map[string]cacheEntry[T]{}
		}
		c.flights[key] = f
		c.mu.Unlock()

		f.v, f.err = load(ctx)
		c.mu.Lock()
		delete(c.flights, key)
		if f.err == nil {
			c.entries[key] = cacheEntry[T]{v: f.v, at: time.Now()}
		}
		c.mu.Unlock()
		close(f.done)
		return f.v, f.err
	}
}
