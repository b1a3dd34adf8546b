package main

import (
	"os"
	"time"
)

// sampleEvery is how often the memory sampler walks /proc. A page lives in
// its tab for a second or more, so 100 ms catches every tab's renderer.
const sampleEvery = 100 * time.Millisecond

// pssEvery is how many samples apart PSS is read: smaps_rollup costs about
// 2 ms per Chrome process (it walks the page tables), which every 100 ms
// would take a quarter of a core from the Chrome being measured.
const pssEvery = 10

// procUsage is what the sampler saw of the worker and its Chrome during
// one research.
type procUsage struct {
	// ChromeRSSKiB is the peak of the summed RSS of Chrome's processes.
	ChromeRSSKiB uint64
	// ChromePSSKiB is the peak of their summed PSS (shared pages split),
	// sampled every pssEvery samples only.
	ChromePSSKiB uint64
	// ChromeProcs is the most Chrome processes alive at once.
	ChromeProcs int
	// WorkerRSSKiB is the worker process's own peak RSS.
	WorkerRSSKiB uint64
	// ChromeCPU and WorkerCPU are CPU seconds used during the research;
	// BenchCPU is this tool's own (the sampler, the test site, polling).
	ChromeCPU, WorkerCPU, BenchCPU float64
	// HostBusy is the share of all the machine's CPU time that was busy;
	// OtherCPU is the CPU seconds of it used outside the benchmark's
	// processes (this tool, Postgres and everything below either), i.e.
	// by whatever else runs on the machine.
	HostBusy, OtherCPU float64
	// Samples counts the /proc walks; Err is the last one that failed.
	Samples int
	Err     error
}

// cpuMark is the CPU counters at one moment.
type cpuMark struct {
	chrome, worker, bench, ours uint64
	host                        hostCPU
}

func markCPU(worker int, ours []int) cpuMark {
	var m cpuMark
	if p, err := readProc(worker); err == nil {
		m.worker = p.ownTicks
	}
	if p, err := readProc(os.Getpid()); err == nil {
		m.bench = p.ownTicks
	}
	if t, err := readProcTable(); err == nil {
		for _, p := range t.chromeProcs(worker) {
			m.chrome += p.ticks
		}
		m.ours = t.treeTicks(ours...)
	}
	m.host, _ = readHostCPU()
	return m
}

// procSampler samples the worker's memory and its Chrome's every
// sampleEvery until stopped.
type procSampler struct {
	worker int
	ours   []int
	start  cpuMark
	stopc  chan struct{}
	done   chan procUsage
}

// startSampler begins sampling the process tree under worker; ours are
// the roots of every process the benchmark runs, worker included.
func startSampler(worker int, ours []int) *procSampler {
	s := &procSampler{worker: worker, ours: ours, start: markCPU(worker, ours), stopc: make(chan struct{}), done: make(chan procUsage, 1)}
	go s.loop()
	return s
}

func (s *procSampler) loop() {
	var u procUsage
	t := time.NewTicker(sampleEvery)
	defer t.Stop()
	for {
		s.sample(&u)
		select {
		case <-s.stopc:
			s.done <- u
			return
		case <-t.C:
		}
	}
}

func (s *procSampler) sample(u *procUsage) {
	u.Samples++
	if kib, err := rssKiB(s.worker); err == nil {
		u.WorkerRSSKiB = max(u.WorkerRSSKiB, kib)
	}
	t, err := readProcTable()
	if err != nil {
		u.Err = err
		return
	}
	ps := t.chromeProcs(s.worker)
	var rss, pss uint64
	withPSS := u.Samples%pssEvery == 1
	for _, p := range ps {
		// A process that exits between the walk and these reads simply
		// adds nothing.
		if kib, err := rssKiB(p.pid); err == nil {
			rss += kib
		}
		if !withPSS {
			continue
		}
		if kib, err := pssKiB(p.pid); err == nil {
			pss += kib
		}
	}
	u.ChromeRSSKiB = max(u.ChromeRSSKiB, rss)
	u.ChromePSSKiB = max(u.ChromePSSKiB, pss)
	u.ChromeProcs = max(u.ChromeProcs, len(ps))
}

// stop ends sampling and returns the peaks and the CPU used since start.
func (s *procSampler) stop() procUsage {
	end := markCPU(s.worker, s.ours)
	close(s.stopc)
	u := <-s.done
	// Chrome's processes only grow their counters while they live; a
	// smaller end figure means Chrome was restarted, which loses the old
	// process's time, so report nothing rather than a wrong figure.
	if end.chrome >= s.start.chrome {
		u.ChromeCPU = float64(end.chrome-s.start.chrome) / userHZ
	}
	u.WorkerCPU = float64(end.worker-s.start.worker) / userHZ
	u.BenchCPU = float64(end.bench-s.start.bench) / userHZ
	if dt := end.host.total - s.start.host.total; dt > 0 {
		busy := end.host.busy - s.start.host.busy
		u.HostBusy = float64(busy) / float64(dt)
		// Ours can shrink when a process of ours exits unreaped by
		// another of ours; then the estimate is only a bound.
		if ours := end.ours - s.start.ours; end.ours >= s.start.ours && busy > ours {
			u.OtherCPU = float64(busy-ours) / userHZ
		}
	}
	return u
}
