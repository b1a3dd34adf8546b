package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/groundwork-dev/groundwork/internal/devstack"
)

// cluster is the `groundwork dev-cluster` subprocess this tool started,
// with the files it keeps in its data directory.
type cluster struct {
	dir     string // the temp dir: binary, data, output
	data    string // --data of dev-cluster
	proc    *exec.Cmd
	exited  chan error
	outPath string
	state   devstack.ClusterState
	key     string
}

// buildBinary builds ./cmd/groundwork into dir, unless bin is given.
func buildBinary(ctx context.Context, dir, bin string) (string, error) {
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

// startCluster runs `groundwork dev-cluster` on free ports in dir/data,
// with env added to a copy of this process's environment that has every
// GROUNDWORK_, TEMPORAL_ and DATABASE_ setting removed, and waits for its
// cluster.json.
func startCluster(ctx context.Context, dir, bin, temporalCLI string, apis, workers int, env []string) (*cluster, error) {
	c := &cluster{dir: dir, data: filepath.Join(dir, "data"), exited: make(chan error, 1), outPath: filepath.Join(dir, "dev-cluster.out")}
	ports := make([]string, 5)
	for i := range ports {
		p, err := devstack.FreePort()
		if err != nil {
			return nil, err
		}
		ports[i] = strconv.Itoa(p)
	}
	out, err := os.Create(c.outPath)
	if err != nil {
		return nil, err
	}
	c.proc = exec.Command(bin, "dev-cluster", "--data", c.data,
		"--api-replicas", strconv.Itoa(apis), "--workers", strconv.Itoa(workers),
		"--lb-port", ports[0], "--pg-port", ports[1], "--replica-port", ports[2], "--temporal-port", ports[3], "--ui-port", ports[4],
		"--api-port", "0", "--metrics-port", "0", "--temporal-cli", temporalCLI)
	c.proc.Dir = dir
	c.proc.Env = append(cleanEnv(os.Environ()), env...)
	c.proc.Stdout, c.proc.Stderr = out, out
	// Its own process group: a Ctrl-C of this tool reaches the cluster only
	// through stop, after the figures are taken.
	c.proc.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.proc.Start(); err != nil {
		out.Close()
		return nil, err
	}
	go func() { c.exited <- c.proc.Wait(); out.Close() }()

	statePath := filepath.Join(c.data, "cluster", "cluster.json")
	deadline := time.Now().Add(4 * time.Minute)
	for {
		select {
		case err := <-c.exited:
			c.exited <- err
			b, _ := os.ReadFile(c.outPath)
			return nil, fmt.Errorf("dev-cluster exited while starting: %v\n%s", err, tailBytes(b, 3000))
		case <-ctx.Done():
			c.stop()
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
		if st, err := devstack.ReadClusterState(statePath); err == nil {
			c.state = st
			break
		}
		if time.Now().After(deadline) {
			c.stop()
			b, _ := os.ReadFile(c.outPath)
			return nil, fmt.Errorf("dev-cluster not up within 4 minutes:\n%s", tailBytes(b, 3000))
		}
	}
	key, err := os.ReadFile(c.state.APIKeyFile)
	if err != nil {
		c.stop()
		return nil, err
	}
	c.key = strings.TrimSpace(string(key))
	return c, nil
}

// cleanEnv drops the settings that would send dev-cluster to another
// database or Temporal, or change what the bench measures.
func cleanEnv(env []string) []string {
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

// readState rereads cluster.json (rewritten at each restart).
func (c *cluster) readState() (devstack.ClusterState, error) {
	return devstack.ReadClusterState(filepath.Join(c.data, "cluster", "cluster.json"))
}

// process is the named process of the current cluster.json.
func (c *cluster) process(name string) (devstack.ProcessState, error) {
	st, err := c.readState()
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

// stop sends dev-cluster SIGINT (it stops everything it started) and waits
// up to 90 s, then kills it; a Postgres left running in the data directory
// is stopped too.
func (c *cluster) stop() {
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
	for _, d := range []string{filepath.Join(c.data, "pg"), filepath.Join(c.data, "cluster", "pg-replica")} {
		if pid := postmasterPID(d); pid > 0 {
			logf("Postgres in %s still running (pid %d): stopping it", d, pid)
			_ = syscall.Kill(pid, syscall.SIGQUIT)
		}
	}
}

// pgServer controls one Postgres data directory of the cluster with
// pg_ctl, as internal/devstack does: as the postgres user when root.
type pgServer struct {
	name string
	dir  string
	opts string // server options, from postmaster.opts
}

// newPGServer reads the options the server was started with, so that it
// can be started again the same way after a stop.
func newPGServer(name, dir string) (*pgServer, error) {
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.opts"))
	if err != nil {
		return nil, err
	}
	// `/usr/lib/postgresql/15/bin/postgres "-D" "dir" "-p" "5432" …`: drop the
	// program; pg_ctl runs the rest through the shell, quotes and all.
	line := strings.TrimSpace(string(b))
	_, rest, ok := strings.Cut(line, " ")
	if !ok {
		return nil, fmt.Errorf("%s/postmaster.opts: unexpected %q", dir, line)
	}
	return &pgServer{name: name, dir: dir, opts: rest}, nil
}

func (p *pgServer) pgctl(ctx context.Context, args ...string) error {
	bin, err := exec.LookPath("pg_ctl")
	if err != nil {
		bin, err = devstack.FindPostgresBin()
		if err != nil {
			return err
		}
		bin = filepath.Join(bin, "pg_ctl")
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = "/"
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return errors.New("running as root without a postgres user")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// stopFast is `pg_ctl stop -m fast`.
func (p *pgServer) stopFast(ctx context.Context) error {
	return p.pgctl(ctx, "-D", p.dir, "-m", "fast", "-w", "-t", "60", "stop")
}

// start is `pg_ctl start` with the options of the last start.
func (p *pgServer) start(ctx context.Context) error {
	return p.pgctl(ctx, "-D", p.dir, "-o", p.opts, "-l", filepath.Join(p.dir, "server.log"), "-w", "-t", "60", "start")
}

// postmasterPID is the pid of a running server on dir, or 0.
func postmasterPID(dir string) int {
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

func tailBytes(b []byte, n int) string {
	if len(b) > n {
		return "…" + string(b[len(b)-n:])
	}
	return string(b)
}
