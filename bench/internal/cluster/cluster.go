// Package cluster starts `groundwork dev-cluster` (two APIs behind nginx,
// workers, Postgres with a streaming replica, the Temporal dev server) on
// free ports in a directory of the caller's, for the benchmarks in bench/
// that need the whole cluster (bench/chaos, bench/load --cluster).
package cluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/groundwork-dev/groundwork/internal/devstack"
)

// Cluster is the `groundwork dev-cluster` subprocess Start started, with
// the files it keeps in its data directory.
type Cluster struct {
	// Dir is the caller's directory: binary, data, output.
	Dir string
	// Data is the --data directory of dev-cluster.
	Data string
	// OutPath is the file dev-cluster's own stdout and stderr go to.
	OutPath string
	// State is cluster.json as read when the cluster was up.
	State devstack.ClusterState
	// Key is the dev user's API key.
	Key string

	proc   *exec.Cmd
	exited chan error
	logf   func(format string, args ...any)
}

// Options are what Start runs.
type Options struct {
	// Dir is where the data directory and output go (it must exist).
	Dir string
	// Bin is the groundwork binary (see BuildBinary).
	Bin string
	// TemporalCLI is the temporal CLI (make tools: bin/temporal).
	TemporalCLI string
	// APIs and Workers are --api-replicas and --workers.
	APIs, Workers int
	// Env is added to a copy of this process's environment that has every
	// GROUNDWORK_, TEMPORAL_, DATABASE_, OPENAI_, ANTHROPIC_ and OTEL_
	// setting removed (CleanEnv).
	Env []string
	// Logf reports progress; nil is silent.
	Logf func(format string, args ...any)
}

// BuildBinary builds ./cmd/groundwork into dir, unless bin is given, and
// returns the absolute path of the binary to run.
func BuildBinary(ctx context.Context, dir, bin string) (string, error) {
	if bin != "" {
		return filepath.Abs(bin)
	}
	out := filepath.Join(dir, "groundwork")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/groundwork")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/groundwork: %w", err)
	}
	return out, nil
}

// Start runs `groundwork dev-cluster` on free ports in o.Dir/data and
// waits for its cluster.json.
func Start(ctx context.Context, o Options) (*Cluster, error) {
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	c := &Cluster{Dir: o.Dir, Data: filepath.Join(o.Dir, "data"), exited: make(chan error, 1), OutPath: filepath.Join(o.Dir, "dev-cluster.out"), logf: logf}
	ports := make([]string, 5)
	for i := range ports {
		p, err := devstack.FreePort()
		if err != nil {
			return nil, err
		}
		ports[i] = strconv.Itoa(p)
	}
	out, err := os.Create(c.OutPath)
	if err != nil {
		return nil, err
	}
	c.proc = exec.Command(o.Bin, "dev-cluster", "--data", c.Data,
		"--api-replicas", strconv.Itoa(o.APIs), "--workers", strconv.Itoa(o.Workers),
		"--lb-port", ports[0], "--pg-port", ports[1], "--replica-port", ports[2], "--temporal-port", ports[3], "--ui-port", ports[4],
		"--api-port", "0", "--metrics-port", "0", "--temporal-cli", o.TemporalCLI)
	c.proc.Dir = o.Dir
	c.proc.Env = append(CleanEnv(os.Environ()), o.Env...)
	c.proc.Stdout, c.proc.Stderr = out, out
	// Its own process group: a Ctrl-C of the caller reaches the cluster
	// only through Stop, after the figures are taken.
	c.proc.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.proc.Start(); err != nil {
		out.Close()
		return nil, err
	}
	go func() { c.exited <- c.proc.Wait(); out.Close() }()

	deadline := time.Now().Add(4 * time.Minute)
	for {
		select {
		case err := <-c.exited:
			c.exited <- err
			b, _ := os.ReadFile(c.OutPath)
			return nil, fmt.Errorf("dev-cluster exited while starting: %v\n%s", err, TailBytes(b, 3000))
		case <-ctx.Done():
			c.Stop()
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
		if st, err := c.ReadState(); err == nil {
			c.State = st
			break
		}
		if time.Now().After(deadline) {
			c.Stop()
			b, _ := os.ReadFile(c.OutPath)
			return nil, fmt.Errorf("dev-cluster not up within 4 minutes:\n%s", TailBytes(b, 3000))
		}
	}
	key, err := os.ReadFile(c.State.APIKeyFile)
	if err != nil {
		c.Stop()
		return nil, err
	}
	c.Key = strings.TrimSpace(string(key))
	return c, nil
}

// CleanEnv drops the settings that would send dev-cluster to another
// database, Temporal or LLM provider, or change what a bench measures.
func CleanEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "GROUNDWORK_") || strings.HasPrefix(k, "TEMPORAL_") || strings.HasPrefix(k, "DATABASE_") ||
			strings.HasPrefix(k, "OPENAI_") || strings.HasPrefix(k, "ANTHROPIC_") || strings.HasPrefix(k, "OTEL_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// StatePath is the cluster.json of the data directory data.
func StatePath(data string) string {
	return filepath.Join(data, "cluster", "cluster.json")
}

// ReadState rereads cluster.json (rewritten at each restart).
func (c *Cluster) ReadState() (devstack.ClusterState, error) {
	return devstack.ReadClusterState(StatePath(c.Data))
}

// Process is the named process of the current cluster.json.
func (c *Cluster) Process(name string) (devstack.ProcessState, error) {
	st, err := c.ReadState()
	if err != nil {
		return devstack.ProcessState{}, err
	}
	for _, p := range st.Processes {
		if p.Name == name {
			return p, nil
		}
	}
	return devstack.ProcessState{}, fmt.Errorf("no %s in cluster.json", name)
}

// Exited reports whether dev-cluster has exited (without Stop, that is a
// crash or a fatal error of its own: see OutPath), and how.
func (c *Cluster) Exited() (bool, error) {
	select {
	case err := <-c.exited:
		c.exited <- err
		return true, err
	default:
		return false, nil
	}
}

// Stop sends dev-cluster SIGINT (it stops everything it started) and waits
// up to 90 s, then kills it; a Postgres left running in the data directory
// is stopped too. A nil Cluster is a no-op.
func (c *Cluster) Stop() {
	if c == nil || c.proc == nil || c.proc.Process == nil {
		return
	}
	_ = c.proc.Process.Signal(os.Interrupt)
	select {
	case err := <-c.exited:
		c.exited <- err
	case <-time.After(90 * time.Second):
		_ = c.proc.Process.Kill()
	}
	for _, d := range PostgresDirs(c.Data) {
		if pid := PostmasterPID(d); pid > 0 {
			c.logf("Postgres in %s still running (pid %d): stopping it", d, pid)
			_ = syscall.Kill(pid, syscall.SIGQUIT)
		}
	}
}

// PostgresDirs are the primary's and the replica's data directories under
// a dev-cluster data directory, in that order.
func PostgresDirs(data string) []string {
	return []string{filepath.Join(data, "pg"), filepath.Join(data, "cluster", "pg-replica")}
}

// PostmasterPID is the pid of a running Postgres server on dir, or 0.
func PostmasterPID(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(first))
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return 0
	}
	return pid
}

// TailBytes is the last n bytes of b, marked as cut when they are not all.
func TailBytes(b []byte, n int) string {
	if len(b) > n {
		return "…" + string(b[len(b)-n:])
	}
	return string(b)
}
