package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/groundwork-dev/groundwork/bench/internal/cluster"
	"github.com/groundwork-dev/groundwork/internal/devstack"
)

// soakWarmup is how much of the start the "after warm-up" slopes leave
// out: the first minute only ramps the users up, and the caches, pools and
// Go heaps of every process grow to their working size in the next few.
const soakWarmup = 5 * time.Minute

// soakSampler records, for a users run against a dev-cluster, the p95 of
// each endpoint per interval and, at the end of each interval, the RSS of
// every process of the cluster.
type soakSampler struct {
	statePath string
	every     time.Duration

	mu      sync.Mutex
	began   time.Time
	windows map[int]*soakWindow
	samples []SoakSample
}

// soakWindow is the results of one interval, by endpoint.
type soakWindow struct {
	starts, polls []time.Duration
	errStarts     int
	errPolls      int
}

func newSoakSampler(statePath string, every time.Duration) *soakSampler {
	return &soakSampler{statePath: statePath, every: every, windows: map[int]*soakWindow{}}
}

// record files one result in the interval it was sent in.
func (s *soakSampler) record(poll bool, r *vegeta.Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := int(r.Timestamp.Sub(s.began) / s.every)
	w := s.windows[i]
	if w == nil {
		w = &soakWindow{}
		s.windows[i] = w
	}
	bad := r.Code < 200 || r.Code > 299
	if poll {
		w.polls = append(w.polls, r.Latency)
		if bad {
			w.errPolls++
		}
	} else {
		w.starts = append(w.starts, r.Latency)
		if bad {
			w.errStarts++
		}
	}
}

// run samples memory at began and then every interval until ctx is done;
// the load's intervals are counted from began.
func (s *soakSampler) run(ctx context.Context, began time.Time, du time.Duration) {
	s.mu.Lock()
	s.began = began
	s.mu.Unlock()
	n := int(du / s.every)
	for k := 0; k <= n; k++ {
		if k > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Until(began.Add(time.Duration(k) * s.every))):
			}
		}
		m := s.sampleMemory()
		m.Minute = round2(float64(k) * s.every.Minutes())
		m.At = time.Now().UTC()
		s.mu.Lock()
		s.samples = append(s.samples, m)
		s.mu.Unlock()
		if k > 0 {
			logf("soak %s", s.progressLine(k, m))
		}
	}
}

// progressLine is one interval in a line, for stderr while it runs.
func (s *soakSampler) progressLine(k int, m SoakSample) string {
	s.mu.Lock()
	w := s.windows[k-1]
	s.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "min %g:", m.Minute)
	if w != nil {
		fmt.Fprintf(&b, " POST p95 %.1f ms, GET p95 %.1f ms, errors %d;", p95ms(w.starts), p95ms(w.polls), w.errStarts+w.errPolls)
	}
	for _, name := range soakColumns(m.RSSMiB) {
		fmt.Fprintf(&b, " %s %.1f", name, m.RSSMiB[name])
	}
	fmt.Fprintf(&b, " MiB; load %.2f", m.Load1)
	return b.String()
}

// sampleMemory reads the RSS of the cluster's processes now: the ones
// cluster.json lists (reread every time: a restarted process has a new
// pid), the Temporal dev server and the supervisor itself from its process
// tree, and the Postgres primary and replica from their postmaster.pid,
// each postmaster's own VmRSS plus the summed private (RssAnon) memory of
// its children. Summing VmRSS over backends would count shared_buffers
// once per backend that touched it.
func (s *soakSampler) sampleMemory() SoakSample {
	m := SoakSample{RSSMiB: map[string]float64{}, PIDs: map[string]int{}}
	if la, err := loadAvg1(); err == nil {
		m.Load1 = la
	}
	st, err := devstack.ReadClusterState(s.statePath)
	if err != nil {
		m.Errors = append(m.Errors, err.Error())
		return m
	}
	t, err := readProcTable()
	if err != nil {
		m.Errors = append(m.Errors, err.Error())
	}
	put := func(name string, pid int, kib uint64) {
		m.RSSMiB[name] = math.Round(float64(kib)/1024*10) / 10
		m.PIDs[name] = pid
	}
	own := func(name string, pid int) {
		v, err := procStatusKiB(pid, "VmRSS")
		if err != nil {
			m.Errors = append(m.Errors, fmt.Sprintf("%s (pid %d): %v", name, pid, err))
			return
		}
		put(name, pid, v)
	}
	own("supervisor", st.SupervisorPID)
	for _, p := range st.Processes {
		if p.Role != "nginx" {
			own(p.Name, p.PID)
			continue
		}
		// nginx's master plus its worker processes.
		sum, err := procStatusKiB(p.PID, "VmRSS")
		if err != nil {
			m.Errors = append(m.Errors, fmt.Sprintf("%s (pid %d): %v", p.Name, p.PID, err))
			continue
		}
		for _, c := range t.descendants(p.PID) {
			if v, err := procStatusKiB(c.pid, "VmRSS"); err == nil {
				sum += v
			}
		}
		put(p.Name, p.PID, sum)
	}
	for _, c := range t.descendants(st.SupervisorPID) {
		if strings.HasPrefix(c.comm, "temporal") {
			own("temporal", c.pid)
			break
		}
	}
	data := filepath.Dir(filepath.Dir(s.statePath))
	for i, dir := range cluster.PostgresDirs(data) {
		name := [...]string{"pg-primary", "pg-replica"}[i]
		pid := cluster.PostmasterPID(dir)
		if pid == 0 {
			m.Errors = append(m.Errors, name+": no running postmaster in "+dir)
			continue
		}
		own(name, pid)
		var anon uint64
		for _, c := range t.descendants(pid) {
			if v, err := procStatusKiB(c.pid, "RssAnon"); err == nil {
				anon += v
			}
		}
		put(name+"-children-anon", pid, anon)
		m.PGChildren = append(m.PGChildren, len(t.descendants(pid)))
	}
	return m
}

// procStatusKiB reads one "<field>: N kB" line of /proc/<pid>/status.
func procStatusKiB(pid int, field string) (uint64, error) {
	if pid <= 0 {
		return 0, fmt.Errorf("no pid")
	}
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, _, _ := strings.Cut(strings.TrimSpace(rest), " ")
			return strconv.ParseUint(kb, 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no %s", pid, field)
}

// loadAvg1 is the 1-minute load average.
func loadAvg1() (float64, error) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, fmt.Errorf("/proc/loadavg: empty")
	}
	return strconv.ParseFloat(f[0], 64)
}

func p95ms(lat []time.Duration) float64 {
	if len(lat) == 0 {
		return 0
	}
	s := slices.Clone(lat)
	slices.Sort(s)
	return ms(percentile(s, 0.95))
}

// SoakResult is the per-interval view of a users run against a
// dev-cluster: latency, errors and each process's memory over time, and
// their trend.
type SoakResult struct {
	// Interval is how far apart the samples are.
	Interval string `json:"interval"`
	// Rows are one per interval: minute 0 is memory before the load,
	// minute k the load sent in (k-1, k] and memory at k.
	Rows []SoakRow `json:"rows"`
	// Slopes are least-squares slopes over the rows, per hour: MiB/h for
	// each process, ms/h for the p95s. SlopesAfterWarmup leave out the
	// rows before soakWarmup.
	Slopes            map[string]float64 `json:"slopes_per_hour"`
	SlopesAfterWarmup map[string]float64 `json:"slopes_per_hour_after_warmup"`
	// Errors is the bench's failed requests over the whole run.
	Errors int `json:"errors"`
}

// SoakRow is one interval.
type SoakRow struct {
	SoakSample
	// Posts and Gets count the requests sent in the interval; the p95s
	// are theirs, Errors their non-2xx answers.
	Posts    int     `json:"posts"`
	Gets     int     `json:"gets"`
	PostP95  float64 `json:"post_p95_ms"`
	GetP95   float64 `json:"get_p95_ms"`
	ErrCount int     `json:"errors"`
}

// SoakSample is the memory of the cluster's processes at one moment.
type SoakSample struct {
	// Minute is the time since the load began, in minutes.
	Minute float64   `json:"minute"`
	At     time.Time `json:"at"`
	// RSSMiB is VmRSS by process name (nginx with its workers; for
	// pg-*-children-anon the summed RssAnon of the postmaster's children).
	RSSMiB map[string]float64 `json:"rss_mib"`
	// PIDs are the pids read (a changed pid is a restart).
	PIDs map[string]int `json:"pids"`
	// PGChildren counts the primary's and the replica's child processes.
	PGChildren []int `json:"pg_children,omitempty"`
	// Load1 is the machine's 1-minute load average.
	Load1 float64 `json:"load1"`
	// Errors are processes that could not be read.
	Errors []string `json:"read_errors,omitempty"`
}

// result assembles the rows and slopes once the load is over.
func (s *soakSampler) result(errors int) *SoakResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &SoakResult{Interval: s.every.String(), Errors: errors}
	for k, m := range s.samples {
		row := SoakRow{SoakSample: m}
		if w := s.windows[k-1]; k > 0 && w != nil {
			row.Posts, row.Gets = len(w.starts), len(w.polls)
			row.PostP95, row.GetP95 = p95ms(w.starts), p95ms(w.polls)
			row.ErrCount = w.errStarts + w.errPolls
		}
		r.Rows = append(r.Rows, row)
	}
	r.Slopes = soakSlopes(r.Rows, 0)
	r.SlopesAfterWarmup = soakSlopes(r.Rows, soakWarmup.Minutes())
	return r
}

// soakSlopes fits a least-squares line per series over the rows from
// minute `from` on and returns each slope per hour.
func soakSlopes(rows []SoakRow, from float64) map[string]float64 {
	series := map[string][][2]float64{}
	for _, r := range rows {
		if r.Minute < from {
			continue
		}
		h := r.Minute / 60
		for name, v := range r.RSSMiB {
			series[name] = append(series[name], [2]float64{h, v})
		}
		if r.Posts > 0 {
			series["POST p95 ms"] = append(series["POST p95 ms"], [2]float64{h, r.PostP95})
		}
		if r.Gets > 0 {
			series["GET p95 ms"] = append(series["GET p95 ms"], [2]float64{h, r.GetP95})
		}
	}
	out := map[string]float64{}
	for name, pts := range series {
		if s, ok := leastSquaresSlope(pts); ok {
			out[name] = math.Round(s*100) / 100
		}
	}
	return out
}

// leastSquaresSlope is the slope of the least-squares line through pts
// (x, y); false with fewer than two distinct x.
func leastSquaresSlope(pts [][2]float64) (float64, bool) {
	n := float64(len(pts))
	if n < 2 {
		return 0, false
	}
	var sx, sy float64
	for _, p := range pts {
		sx += p[0]
		sy += p[1]
	}
	mx, my := sx/n, sy/n
	var sxx, sxy float64
	for _, p := range pts {
		sxx += (p[0] - mx) * (p[0] - mx)
		sxy += (p[0] - mx) * (p[1] - my)
	}
	if sxx == 0 {
		return 0, false
	}
	return sxy / sxx, true
}

// soakColumns orders process names for tables: the cluster's own in a
// fixed order, then anything else by name.
func soakColumns(rss map[string]float64) []string {
	order := []string{"api-1", "api-2", "worker-1", "worker-2", "nginx", "temporal",
		"pg-primary", "pg-primary-children-anon", "pg-replica", "pg-replica-children-anon", "supervisor"}
	var cols []string
	for _, c := range order {
		if _, ok := rss[c]; ok {
			cols = append(cols, c)
		}
	}
	var rest []string
	for c := range rss {
		if !slices.Contains(order, c) {
			rest = append(rest, c)
		}
	}
	slices.Sort(rest)
	return append(cols, rest...)
}

// shortColumn is a process name as a table header.
func shortColumn(c string) string {
	return strings.NewReplacer("-children-anon", " Σanon", "pg-primary", "pg-pri", "pg-replica", "pg-rep", "supervisor", "superv").Replace(c)
}

// printSoak prints the per-interval table and the slopes.
func printSoak(w io.Writer, r *SoakResult) {
	if r == nil || len(r.Rows) == 0 {
		return
	}
	cols := soakColumns(r.Rows[len(r.Rows)-1].RSSMiB)
	fmt.Fprintf(w, "\nsoak, every %s (RSS in MiB: VmRSS; nginx with its workers; Σanon = RssAnon summed over the postmaster's children):\n\n", r.Interval)
	tw := newTabWriter(w)
	hdr := []string{"min", "POST", "p95 ms", "GET", "p95 ms", "err"}
	for _, c := range cols {
		hdr = append(hdr, shortColumn(c))
	}
	hdr = append(hdr, "load1")
	fmt.Fprintln(tw, strings.Join(hdr, "\t")+"\t")
	for _, row := range r.Rows {
		f := []string{strconv.FormatFloat(row.Minute, 'f', -1, 64), strconv.Itoa(row.Posts), fmt.Sprintf("%.1f", row.PostP95),
			strconv.Itoa(row.Gets), fmt.Sprintf("%.1f", row.GetP95), strconv.Itoa(row.ErrCount)}
		for _, c := range cols {
			if v, ok := row.RSSMiB[c]; ok {
				f = append(f, fmt.Sprintf("%.1f", v))
			} else {
				f = append(f, "—")
			}
		}
		f = append(f, fmt.Sprintf("%.2f", row.Load1))
		fmt.Fprintln(tw, strings.Join(f, "\t")+"\t")
	}
	tw.Flush()
	fmt.Fprintf(w, "\nslopes per hour (least squares; MiB/h, p95 ms/h): all rows | from minute %g\n\n", soakWarmup.Minutes())
	tw = newTabWriter(w)
	for _, c := range append([]string{"POST p95 ms", "GET p95 ms"}, cols...) {
		fmt.Fprintf(tw, "%s\t%+.2f\t%+.2f\t\n", c, r.Slopes[c], r.SlopesAfterWarmup[c])
	}
	tw.Flush()
	fmt.Fprintf(w, "\nerrors over the run: %d\n", r.Errors)
	for _, row := range r.Rows {
		for _, e := range row.Errors {
			fmt.Fprintf(w, "  minute %g: %s\n", row.Minute, e)
		}
	}
}
