// Package phase measures a benchmark's phases: the latency of each
// request as a Sample summarised into percentiles, and the CPU the phase
// took on the machine, its own and that of other work, so a figure taken on
// a busy machine says so. bench/customers and bench/webhooks share it.
package phase

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// The figures are only as good as the machine is quiet: the API, Temporal,
// Postgres and this tool share its cores. Each measured phase therefore
// records the machine's busy CPU and the part of it spent outside the
// benchmark's processes (this tool and everything below it, Postgres and
// everything below it), i.e. by whatever else runs on the machine.

// userHZ is the unit of the CPU times in /proc; 100 on every Linux
// architecture Go supports (reading it for real would need cgo).
const userHZ = 100

// BusyWarning is the CPU used outside the benchmark, in cores, from which
// the report warns that its figures are skewed.
const BusyWarning = 0.2

// CPUUse is the CPU of one measured phase, in cores (CPU seconds per
// wall second).
type CPUUse struct {
	Phase   string  `json:"phase"`
	Seconds float64 `json:"seconds"`
	// Busy is the whole machine's busy CPU.
	Busy float64 `json:"machine_busy_cores"`
	// Ours is the benchmark's processes'.
	Ours float64 `json:"benchmark_cores"`
	// Outside is Busy − Ours: other work on the machine.
	Outside float64 `json:"outside_cores"`
}

// CPUMark is the CPU counters at one moment.
type CPUMark struct {
	at   time.Time
	ours uint64
	busy uint64
}

// MarkCPU reads the counters; roots are the benchmark's process trees.
func MarkCPU(roots ...int) CPUMark {
	m := CPUMark{at: time.Now()}
	m.ours = treeTicks(roots)
	m.busy, _ = hostTicks()
	return m
}

// Since is the CPU used from m to now.
func (m CPUMark) Since(phase string, roots ...int) CPUUse {
	end := MarkCPU(roots...)
	wall := end.at.Sub(m.at).Seconds()
	u := CPUUse{Phase: phase, Seconds: Round1(wall)}
	if wall <= 0 {
		return u
	}
	cores := func(ticks uint64) float64 { return float64(int64(float64(ticks)/userHZ/wall*100+0.5)) / 100 }
	busy := end.busy - m.busy
	u.Busy = cores(busy)
	// Ours can shrink when one of our processes exits unreaped by another
	// of ours; then nothing is claimed.
	if end.ours >= m.ours {
		ours := end.ours - m.ours
		u.Ours = cores(ours)
		if busy > ours {
			u.Outside = cores(busy - ours)
		}
	}
	return u
}

// procStat is a process's parent and CPU ticks (utime+stime+cutime+cstime:
// its own and that of the children it reaped).
type procStat struct {
	pid, ppid int
	ticks     uint64
}

func readProcStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	// The command name may hold spaces or parentheses: count the fields
	// from the last ')'. Field n of proc(5) is f[n-3].
	end := bytes.LastIndexByte(b, ')')
	if end < 0 || end+2 > len(b) {
		return procStat{}, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(b[end+2:]))
	if len(f) < 15 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	p := procStat{pid: pid}
	p.ppid, _ = strconv.Atoi(f[1])
	for i := 11; i < 15; i++ {
		t, _ := strconv.ParseUint(f[i], 10, 64)
		p.ticks += t
	}
	return p, nil
}

// treeTicks sums the ticks of the roots and every process below them,
// each once.
func treeTicks(roots []int) uint64 {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	children := map[int][]procStat{}
	byPID := map[int]procStat{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, err := readProcStat(pid); err == nil {
			children[p.ppid] = append(children[p.ppid], p)
			byPID[pid] = p
		}
	}
	seen := map[int]bool{}
	var sum uint64
	queue := []int{}
	for _, r := range roots {
		if p, ok := byPID[r]; ok && !seen[r] {
			seen[r] = true
			sum += p.ticks
			queue = append(queue, r)
		}
	}
	for len(queue) > 0 {
		next := queue[0]
		queue = queue[1:]
		for _, c := range children[next] {
			if !seen[c.pid] {
				seen[c.pid] = true
				sum += c.ticks
				queue = append(queue, c.pid)
			}
		}
	}
	return sum
}

// hostTicks is the machine's busy and total CPU ticks from /proc/stat.
func hostTicks() (busy, total uint64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := bytes.Cut(b, []byte{'\n'})
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0
	}
	for i := range 8 { // user nice system idle iowait irq softirq steal
		v, _ := strconv.ParseUint(f[1+i], 10, 64)
		total += v
		if i != 3 && i != 4 {
			busy += v
		}
	}
	return busy, total
}

// QuietCores is the most CPU other work may use for a phase to start.
const QuietCores = 0.15

// track starts measuring one phase's CPU over the benchmark's process
// trees (roots); the returned func hands the phase's use to record and
// warns through logf when other work on the machine skewed it.
func track(phase string, roots []int, record func(CPUUse), logf func(string, ...any)) func() {
	m := MarkCPU(roots...)
	return func() {
		u := m.Since(phase, roots...)
		record(u)
		if u.Outside >= BusyWarning {
			logf("warning: %.2f cores went to other work on the machine during %s: its figures are skewed", u.Outside, phase)
		}
	}
}

// waitQuiet waits, up to wait, until a 2-second window shows less than
// QuietCores of CPU used outside the benchmark's process trees (roots), so
// that a phase does not start while something else keeps the machine
// busy. It gives up with a warning rather than failing: the phase's CPU
// line tells.
func waitQuiet(ctx context.Context, phase string, roots []int, wait time.Duration, logf func(string, ...any)) {
	if wait <= 0 {
		return
	}
	deadline := time.Now().Add(wait)
	for waited := false; ; waited = true {
		m := MarkCPU(roots...)
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
		u := m.Since(phase, roots...)
		if u.Outside < QuietCores {
			if waited {
				logf("the machine is quiet again (%.2f cores of other work); starting %s", u.Outside, phase)
			}
			return
		}
		if time.Now().After(deadline) {
			logf("warning: still %.2f cores of other work after waiting %s; starting %s anyway", u.Outside, wait, phase)
			return
		}
		if !waited {
			logf("waiting for other work on the machine to end (%.2f cores) before %s…", u.Outside, phase)
		}
	}
}

// Timer measures a benchmark's phases over its process trees: this
// process's and Postgres's (PGPID, which pg_ctl detaches).
type Timer struct {
	// PGPID is the postmaster's pid (0: none of our own).
	PGPID int
	// QuietWait is how long a phase waits for a quiet machine (0: not at all).
	QuietWait time.Duration
	// Record receives each phase's CPU use.
	Record func(CPUUse)
	// Logf reports waits and warnings.
	Logf func(string, ...any)
}

func (t *Timer) roots() []int {
	if t.PGPID > 0 {
		return []int{os.Getpid(), t.PGPID}
	}
	return []int{os.Getpid()}
}

// Start starts measuring the named phase's CPU; the returned func records it.
func (t *Timer) Start(name string) func() {
	return track(name, t.roots(), t.Record, t.Logf)
}

// WaitQuiet waits up to QuietWait for the machine to be quiet before the
// named phase starts.
func (t *Timer) WaitQuiet(ctx context.Context, name string) {
	waitQuiet(ctx, name, t.roots(), t.QuietWait, t.Logf)
}
