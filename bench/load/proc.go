package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// userHZ is the unit of the CPU times in /proc/<pid>/stat and /proc/stat.
// It is 100 on every Linux architecture Go supports; reading it for real
// (sysconf(_SC_CLK_TCK)) would need cgo.
const userHZ = 100

// proc is one process as /proc/<pid>/stat describes it.
type proc struct {
	pid, ppid int
	comm      string
	// ticks is utime+stime+cutime+cstime: the process's CPU time plus
	// that of its children it reaped, so a Chrome renderer that ran and
	// exited still counts, in its zygote's figure.
	ticks uint64
	// ownTicks is utime+stime only.
	ownTicks uint64
}

// readProc parses /proc/<pid>/stat. The command name sits in parentheses
// and may itself contain spaces or parentheses, so the fields are counted
// from the last ')'.
func readProc(pid int) (proc, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return proc{}, err
	}
	open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || end < open || end+2 > len(b) {
		return proc{}, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	// Fields from the state on: state is field 3 of proc(5), so field n
	// is f[n-3].
	f := strings.Fields(string(b[end+2:]))
	if len(f) < 15 {
		return proc{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	p := proc{pid: pid, comm: string(b[open+1 : end])}
	p.ppid, _ = strconv.Atoi(f[1])
	var t [4]uint64
	for i := range t {
		t[i], _ = strconv.ParseUint(f[11+i], 10, 64)
	}
	p.ownTicks = t[0] + t[1]
	p.ticks = p.ownTicks + t[2] + t[3]
	return p, nil
}

// procTable is every live process, by parent.
type procTable map[int][]proc

// readProcTable walks /proc once. Processes that exit during the walk are
// left out.
func readProcTable() (procTable, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list /proc: %w", err)
	}
	t := procTable{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, err := readProc(pid); err == nil {
			t[p.ppid] = append(t[p.ppid], p)
		}
	}
	return t, nil
}

// descendants returns every process below root (not root itself).
func (t procTable) descendants(root int) []proc {
	var out []proc
	queue := []int{root}
	for len(queue) > 0 {
		next := queue[0]
		queue = queue[1:]
		for _, c := range t[next] {
			out = append(out, c)
			queue = append(queue, c.pid)
		}
	}
	return out
}

// isChrome says whether p is part of Chrome: the browser, its zygotes,
// renderers, GPU/utility processes and the crash handler. comm is cut at
// 15 bytes, so the command line decides when the name does not.
func isChrome(p proc) bool {
	if strings.Contains(p.comm, "chrom") {
		return true
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p.pid) + "/cmdline")
	if err != nil {
		return false
	}
	arg0, _, _ := bytes.Cut(b, []byte{0})
	return bytes.Contains(arg0, []byte("chrom"))
}

// chromeProcs is the Chrome processes below the worker.
func (t procTable) chromeProcs(worker int) []proc {
	var out []proc
	for _, p := range t.descendants(worker) {
		if isChrome(p) {
			out = append(out, p)
		}
	}
	return out
}

// treeTicks is the CPU ticks of the roots and everything below them,
// counting each process once even when one root is below another.
func (t procTable) treeTicks(roots ...int) uint64 {
	seen := map[int]bool{}
	var sum uint64
	add := func(p proc) {
		if !seen[p.pid] {
			seen[p.pid] = true
			sum += p.ticks
		}
	}
	for _, r := range roots {
		if p, err := readProc(r); err == nil {
			add(p)
		}
		for _, p := range t.descendants(r) {
			add(p)
		}
	}
	return sum
}

// rssKiB is a process's resident set from /proc/<pid>/statm. Summed over
// processes it counts shared pages (Chrome's binary, shared memory) once
// per process, so it overstates what they use together; pssKiB does not.
func rssKiB(pid int) (uint64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/statm")
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, fmt.Errorf("/proc/%d/statm: unexpected format", pid)
	}
	pages, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/statm: %w", pid, err)
	}
	return pages * uint64(os.Getpagesize()) / 1024, nil
}

// pssKiB is a process's proportional set size from smaps_rollup: shared
// pages divided among the processes sharing them, so the sum over Chrome's
// processes is what Chrome as a whole holds in memory.
func pssKiB(pid int) (uint64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/smaps_rollup")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "Pss:"); ok {
			kb, _, _ := strings.Cut(strings.TrimSpace(rest), " ")
			return strconv.ParseUint(kb, 10, 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read /proc/%d/smaps_rollup: %w", pid, err)
	}
	return 0, fmt.Errorf("/proc/%d/smaps_rollup: no Pss line", pid)
}

// hostCPU is the machine's CPU time from the first line of /proc/stat.
type hostCPU struct {
	busy, total uint64
}

func readHostCPU() (hostCPU, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return hostCPU{}, err
	}
	line, _, _ := bytes.Cut(b, []byte{'\n'})
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return hostCPU{}, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	var v [8]uint64 // user nice system idle iowait irq softirq steal
	for i := range v {
		v[i], _ = strconv.ParseUint(f[1+i], 10, 64)
	}
	var h hostCPU
	for i, x := range v {
		h.total += x
		if i != 3 && i != 4 { // idle, iowait
			h.busy += x
		}
	}
	return h, nil
}
