package activities

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSharedCacheReadsOnceForConcurrentCallers: callers asking for one key
// while it is being read wait for that read instead of spending another
// request of the domain's rate on it; a failed read is not kept.
func TestSharedCacheReadsOnceForConcurrentCallers(t *testing.T) {
	var c sharedCache[string]
	var loads atomic.Int64
	release := make(chan struct{})
	load := func(context.Context) (string, error) {
		loads.Add(1)
		<-release
		return "robots", nil
	}
	const callers = 5
	var wg sync.WaitGroup
	got := make([]string, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], _ = c.get(context.Background(), "https://a.example", time.Hour, load)
		}()
	}
	// Every caller is in: one reads, the others wait for its flight.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		f := c.flights["https://a.example"]
		if f != nil && f.waiters == callers-1 {
			c.mu.Unlock()
			break
		}
		c.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatal("the callers did not all join one read")
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if n := loads.Load(); n != 1 {
		t.Fatalf("%d reads for %d concurrent callers, want 1", n, callers)
	}
	for i, v := range got {
		if v != "robots" {
			t.Fatalf("caller %d got %q", i, v)
		}
	}
	// Within the TTL the value is kept; a failure is not.
	if _, err := c.get(context.Background(), "https://a.example", time.Hour, func(context.Context) (string, error) {
		t.Fatal("read again within the TTL")
		return "", nil
	}); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if _, err := c.get(context.Background(), "https://b.example", time.Hour, func(context.Context) (string, error) { return "", boom }); !errors.Is(err, boom) {
		t.Fatalf("err %v, want boom", err)
	}
	if v, err := c.get(context.Background(), "https://b.example", time.Hour, func(context.Context) (string, error) { return "again", nil }); err != nil || v != "again" {
		t.Fatalf("after a failed read: %q, %v; want a new read", v, err)
	}
}
