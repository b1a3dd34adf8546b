package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// ChildSpec describes a process a Supervisor runs and keeps running.
type ChildSpec struct {
	// Name identifies it in logs and tables (api-1, worker-2, nginx).
	Name string
	// Path and Args are the command.
	Path string
	Args []string
	// Env is its whole environment.
	Env []string
	// LogPath receives its stdout and stderr, appended across restarts.
	LogPath string
	// StopSignal asks it to stop (default SIGTERM); StopTimeout is how long
	// it gets before its process group is killed (default 30 s).
	StopSignal  syscall.Signal
	StopTimeout time.Duration
}

// Child is a supervised process.
type Child struct {
	// Spec is what it runs.
	Spec ChildSpec

	sup      *Supervisor
	mu       sync.Mutex
	cmd      *exec.Cmd
	restarts int
	stopping bool
	stop     chan struct{}
	done     chan struct{}
}

// Pid is the current process ID, or 0 between a crash and its restart.
func (c *Child) Pid() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd == nil || c.cmd.Process == nil {
		return 0
	}
	return c.cmd.Process.Pid
}

// Restarts counts the restarts after unexpected exits.
func (c *Child) Restarts() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.restarts
}

// Supervisor starts children each in a process group of its own (so a
// terminal's Ctrl-C reaches only the supervisor, which stops them in
// order) with a parent-death signal (so they do not outlive a supervisor
// that is killed outright), restarts a child that exits unexpectedly with
// exponential backoff, and stops them.
type Supervisor struct {
	// Logf reports exits and restarts.
	Logf func(format string, args ...any)
	// OnRestart, when set, is called after a child was restarted.
	OnRestart func(*Child)
	// MinBackoff and MaxBackoff bound the wait before a restart: it doubles
	// at each quick exit and starts over once a child ran for StableAfter.
	MinBackoff, MaxBackoff, StableAfter time.Duration

	mu       sync.Mutex
	children []*Child
}

// Start starts spec's process and supervises it; the error is the first
// start's.
func (s *Supervisor) Start(spec ChildSpec) (*Child, error) {
	c := &Child{Spec: spec, sup: s, stop: make(chan struct{}), done: make(chan struct{})}
	exited, err := c.start()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.children = append(s.children, c)
	s.mu.Unlock()
	go c.supervise(exited)
	return c, nil
}

// start starts the process once; the channel yields its exit.
func (c *Child) start() (<-chan error, error) {
	logf, err := os.OpenFile(c.Spec.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s: open log: %w", c.Spec.Name, err)
	}
	cmd := exec.Command(c.Spec.Path, c.Spec.Args...)
	cmd.Env = c.Spec.Env
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s (%s): %w", c.Spec.Name, c.Spec.Path, err)
	}
	c.mu.Lock()
	c.cmd = cmd
	c.mu.Unlock()
	exited := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		logf.Close()
		exited <- err
	}()
	return exited, nil
}

func (c *Child) supervise(exited <-chan error) {
	defer close(c.done)
	s := c.sup
	backoff := s.MinBackoff
	if backoff <= 0 {
		backoff = 500 * time.Millisecond
	}
	maxBackoff := s.MaxBackoff
	if maxBackoff <= 0 {
		maxBackoff = 30 * time.Second
	}
	stable := s.StableAfter
	if stable <= 0 {
		stable = 10 * time.Second
	}
	started := time.Now()
	for {
		var err error
		select {
		case err = <-exited:
		case <-c.stop:
			c.terminate(exited)
			return
		}
		c.mu.Lock()
		pid := c.cmd.Process.Pid
		c.cmd = nil
		stopping := c.stopping
		c.mu.Unlock()
		// What it left in its group dies with it: an nginx master killed
		// outright leaves a worker holding the port its successor needs.
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		if stopping {
			return
		}
		if time.Since(started) >= stable {
			backoff = s.MinBackoff
			if backoff <= 0 {
				backoff = 500 * time.Millisecond
			}
		}
		s.logf("%s (pid %d) exited unexpectedly (%v); restarting in %v\n%s", c.Spec.Name, pid, exitReason(err), backoff.Round(time.Millisecond), tailFile(c.Spec.LogPath, 800))
		for {
			select {
			case <-c.stop:
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, maxBackoff)
			started = time.Now()
			if exited, err = c.start(); err == nil {
				break
			}
			s.logf("%v; retrying in %v", err, backoff)
		}
		c.mu.Lock()
		c.restarts++
		c.mu.Unlock()
		s.logf("%s restarted (pid %d)", c.Spec.Name, c.Pid())
		if s.OnRestart != nil {
			s.OnRestart(c)
		}
	}
}

// terminate signals the process group and waits, killing the group after
// the stop timeout.
func (c *Child) terminate(exited <-chan error) {
	c.mu.Lock()
	cmd := c.cmd
	c.mu.Unlock()
	if cmd == nil {
		return
	}
	sig := c.Spec.StopSignal
	if sig == 0 {
		sig = syscall.SIGTERM
	}
	timeout := c.Spec.StopTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	pgid := cmd.Process.Pid
	_ = syscall.Kill(-pgid, sig)
	select {
	case <-exited:
	case <-time.After(timeout):
		c.sup.logf("%s did not stop within %v: killing it", c.Spec.Name, timeout)
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-exited
	}
	// Whatever it left in its group goes with it.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	c.mu.Lock()
	c.cmd = nil
	c.mu.Unlock()
}

// Stop stops the given children, or every child when none is given, all
// at once, and waits until they are gone.
func (s *Supervisor) Stop(children ...*Child) {
	if len(children) == 0 {
		s.mu.Lock()
		children = append(children, s.children...)
		s.mu.Unlock()
	}
	for _, c := range children {
		c.mu.Lock()
		if !c.stopping {
			c.stopping = true
			close(c.stop)
		}
		c.mu.Unlock()
	}
	for _, c := range children {
		<-c.done
	}
}

func (s *Supervisor) logf(format string, args ...any) {
	if s.Logf != nil {
		s.Logf(format, args...)
	}
}

func exitReason(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// tailFile is the end of a log file, indented, for a crash report.
func tailFile(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > n {
		_, _ = f.Seek(-n, io.SeekEnd)
	}
	b, _ := io.ReadAll(f)
	return "  last lines of " + path + ":\n" + string(b)
}

// Prober is the active health check OSS nginx lacks: it polls each
// target's /readyz and reports which are ready whenever that changes.
type Prober struct {
	// Targets are base URLs (http://127.0.0.1:8081).
	Targets []string
	// Interval between rounds (default 1 s).
	Interval time.Duration
	// Apply receives the readiness of every target, in order, at the
	// first round and whenever it changed; an error makes the next round
	// call it again.
	Apply func(ready []bool) error
}

// Run probes until ctx is done. A refused connection marks a target not
// ready at once; a timeout or a non-200 answer only at the second in a
// row, so one slow answer on a busy machine does not flap it. One 200
// marks it ready again.
func (p *Prober) Run(ctx context.Context) {
	interval := p.Interval
	if interval <= 0 {
		interval = time.Second
	}
	hc := &http.Client{Timeout: interval + interval/2}
	ready := make([]bool, len(p.Targets))
	fails := make([]int, len(p.Targets))
	var applied []bool
	for i := range ready {
		ready[i] = true
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		var wg sync.WaitGroup
		for i, target := range p.Targets {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, refused := probe(ctx, hc, target+"/readyz")
				switch {
				case ok:
					fails[i], ready[i] = 0, true
				case refused:
					fails[i], ready[i] = fails[i]+1, false
				default:
					fails[i]++
					if fails[i] >= 2 {
						ready[i] = false
					}
				}
			}()
		}
		wg.Wait()
		if ctx.Err() != nil {
			return
		}
		if !equalBools(ready, applied) {
			if err := p.Apply(append([]bool(nil), ready...)); err == nil {
				applied = append(applied[:0], ready...)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// probe GETs url: ok on 200; refused when nothing listens.
func probe(ctx context.Context, hc *http.Client, url string) (ok, refused bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, false
	}
	resp, err := hc.Do(req)
	if err != nil {
		return false, errors.Is(err, syscall.ECONNREFUSED)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK, false
}

func equalBools(a, b []bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// ClusterState is what `groundwork dev-cluster` runs, as it writes it to
// .data/cluster/cluster.json while it runs (rewritten at each restart or
// health change, removed when it stops) for scripts and tests.
type ClusterState struct {
	// SupervisorPID is the dev-cluster process.
	SupervisorPID int `json:"supervisor_pid"`
	// LoadBalancer is nginx's URL.
	LoadBalancer string `json:"load_balancer"`
	// DatabaseURL is the primary, DatabaseReadURL the replica the APIs
	// read analytics from ("" without one).
	DatabaseURL     string `json:"database_url"`
	DatabaseReadURL string `json:"database_read_url"`
	// TemporalAddress and TemporalUI are the Temporal frontend and Web UI.
	TemporalAddress string `json:"temporal_address"`
	TemporalUI      string `json:"temporal_ui"`
	// APIKeyFile holds the dev user's API key.
	APIKeyFile string `json:"api_key_file"`
	// Processes are the supervised children.
	Processes []ProcessState `json:"processes"`
}

// ProcessState is one supervised process.
type ProcessState struct {
	// Name is api-1, worker-1, nginx…
	Name string `json:"name"`
	// Role is api, worker or nginx.
	Role string `json:"role"`
	// PID is the current process (it changes when it is restarted).
	PID int `json:"pid"`
	// URL is where it serves HTTP (APIs, nginx); MetricsURL its
	// /metrics (APIs, workers).
	URL        string `json:"url,omitempty"`
	MetricsURL string `json:"metrics_url,omitempty"`
	// Restarts counts restarts after unexpected exits.
	Restarts int `json:"restarts"`
	// OutOfRotation is true while the health prober keeps an API out of
	// nginx's upstream (marked down: it fails /readyz).
	OutOfRotation bool `json:"out_of_rotation,omitempty"`
	// Log is the file its stdout and stderr go to.
	Log string `json:"log"`
}

// WriteClusterState writes st to path atomically.
func WriteClusterState(path string, st ClusterState) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode cluster state: %w", err)
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write cluster state: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write cluster state: %w", err)
	}
	return nil
}

// ReadClusterState reads a state file WriteClusterState wrote.
func ReadClusterState(path string) (ClusterState, error) {
	var st ClusterState
	b, err := os.ReadFile(path)
	if err != nil {
		return st, fmt.Errorf("read cluster state: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("decode cluster state %s: %w", path, err)
	}
	return st, nil
}
