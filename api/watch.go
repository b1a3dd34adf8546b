package api

import (
	"context"
	"sync"
	"time"
)

// runWatch follows one run for every event stream open on it: one read of
// Postgres and (while it runs) one progress query per tick, however many
// streams follow the run, instead of one per stream.
type runWatch struct {
	mu  sync.Mutex
	run Run
	err error
	// ready is closed once the first read is in; changed is closed and
	// replaced after every read.
	ready   chan struct{}
	changed chan struct{}
	subs    int
	cancel  context.CancelFunc
}

// state returns the latest read, the channel closed after the next, and
// the latest read's error.
func (w *runWatch) state() (Run, <-chan struct{}, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.run, w.changed, w.err
}

// watches holds the run watches of a server, keyed by owner and run.
type watches struct {
	mu   sync.Mutex
	runs map[string]*runWatch
}

// watchRun subscribes to the run's watch, starting one if none runs; the
// returned func unsubscribes, and the last one out stops the watch.
func (s *Server) watchRun(owner, id string) (*runWatch, func()) {
	key := owner + "\x00" + id
	s.watch.mu.Lock()
	defer s.watch.mu.Unlock()
	if s.watch.runs == nil {
		s.watch.runs = map[string]*runWatch{}
	}
	w := s.watch.runs[key]
	if w == nil {
		ctx, cancel := context.WithCancel(context.Background())
		w = &runWatch{ready: make(chan struct{}), changed: make(chan struct{}), cancel: cancel}
		s.watch.runs[key] = w
		go s.pollRun(ctx, key, w, owner, id)
	}
	w.subs++
	return w, func() {
		s.watch.mu.Lock()
		defer s.watch.mu.Unlock()
		if w.subs--; w.subs == 0 {
			w.cancel()
			if s.watch.runs[key] == w {
				delete(s.watch.runs, key)
			}
		}
	}
}

// pollRun reads the run every ProgressPoll until it ends, fails to be
// read, or nobody follows it any more.
func (s *Server) pollRun(ctx context.Context, key string, w *runWatch, owner, id string) {
	tick := time.NewTicker(s.d.ProgressPoll)
	defer tick.Stop()
	first := true
	for {
		run, err := s.readRun(ctx, owner, id)
		if ctx.Err() != nil {
			return
		}
		w.mu.Lock()
		w.run, w.err = run, err
		close(w.changed)
		w.changed = make(chan struct{})
		w.mu.Unlock()
		done := err != nil || isTerminal(run.Status)
		if first {
			close(w.ready)
			first = false
		}
		if done {
			// Later streams start a watch of their own, which reads the
			// closed run once.
			s.watch.mu.Lock()
			if s.watch.runs[key] == w {
				delete(s.watch.runs, key)
			}
			s.watch.mu.Unlock()
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
