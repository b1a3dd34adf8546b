package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/groundwork-dev/groundwork/internal/devstack"
)

// stack is what the tool attacks: either processes it started itself
// (Postgres, the Temporal dev server, `groundwork dev`) or, with --api, an
// existing API whose dependencies are only addressed.
type stack struct {
	APIURL          string
	DatabaseURL     string
	TemporalAddress string
	Namespace       string

	dir      string
	keep     bool
	bin      string   // the groundwork binary, for restartAPI
	env      []string // --server-env, for restartAPI
	pg       *devstack.Postgres
	temporal *devstack.Temporal
	api      *exec.Cmd
	apiDone  chan error
	apiLog   string
	tlog     *os.File
}

// startStack starts everything the run needs unless --api points at a
// running API. On error, whatever it had started is stopped again.
func startStack(ctx context.Context, o options) (_ *stack, err error) {
	if o.apiURL != "" {
		return &stack{
			APIURL:          strings.TrimRight(o.apiURL, "/"),
			DatabaseURL:     o.databaseURL,
			TemporalAddress: o.temporalAddr,
			Namespace:       o.namespace,
		}, nil
	}
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "groundwork-bench-")
	if err != nil {
		return nil, fmt.Errorf("create temp dir: %w", err)
	}
	s := &stack{dir: dir, keep: o.keep, Namespace: "default", env: o.serverEnv}
	defer func() {
		if err != nil {
			s.stop()
		}
	}()
	// As root, Postgres runs as the postgres user and must reach its data
	// directory inside ours.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, fmt.Errorf("chmod %s: %w", dir, err)
	}

	bin := o.groundwork
	if bin == "" {
		// Build into the temp dir rather than bin/: the binary then matches
		// the source being measured and bin/ stays someone else's.
		bin = filepath.Join(dir, "groundwork")
		logf("building ./cmd/groundwork…")
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/groundwork")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build ./cmd/groundwork: %w\n%s", err, out)
		}
	} else if bin, err = filepath.Abs(bin); err != nil {
		return nil, fmt.Errorf("--groundwork-bin: %w", err)
	}

	logf("starting Postgres (fast=%v) in %s…", o.pgFast, dir)
	s.pg, err = devstack.StartPostgres(ctx, filepath.Join(dir, "pg"), devstack.PostgresOptions{Fast: o.pgFast})
	if err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	s.DatabaseURL = s.pg.URL

	tPort, err := devstack.FreePort()
	if err != nil {
		return nil, err
	}
	uiPort, err := devstack.FreePort()
	if err != nil {
		return nil, err
	}
	if s.tlog, err = os.Create(filepath.Join(dir, "temporal.log")); err != nil {
		return nil, fmt.Errorf("create temporal log: %w", err)
	}
	topts := devstack.TemporalOptions{CLI: filepath.Join(root, "bin", "temporal"), Port: tPort, UIPort: uiPort, Log: s.tlog}
	if o.temporalDB == "file" {
		topts.DBFile = filepath.Join(dir, "temporal", "temporal.db")
	}
	logf("starting Temporal dev server (db=%s) on 127.0.0.1:%d…", o.temporalDB, tPort)
	s.temporal, err = devstack.StartTemporal(ctx, topts)
	if err != nil {
		return nil, fmt.Errorf("start temporal: %w", err)
	}
	s.TemporalAddress = s.temporal.Address

	s.bin = bin
	if err := s.startAPI(ctx, s.env); err != nil {
		return nil, err
	}
	return s, nil
}

// restartAPI stops `groundwork dev` and starts it again with extraEnv on
// top of --server-env, against the same Postgres and Temporal, so a
// scenario can compare worker settings with everything else unchanged.
// The API comes back on a new port: read APIURL again.
func (s *stack) restartAPI(ctx context.Context, extraEnv []string) error {
	if s.dir == "" {
		return errors.New("cannot restart an API this tool did not start (drop --api)")
	}
	s.stopAPI()
	return s.startAPI(ctx, append(slices.Clone(s.env), extraEnv...))
}

// APIPID is the process id of `groundwork dev` (0 with --api): the worker,
// whose child processes include Chrome.
func (s *stack) APIPID() int {
	if s.api == nil || s.api.Process == nil {
		return 0
	}
	return s.api.Process.Pid
}

// PostgresPID is the postmaster's process id from its postmaster.pid, or 0
// when this tool did not start Postgres or the file cannot be read.
func (s *stack) PostgresPID() int {
	if s.pg == nil {
		return 0
	}
	b, err := os.ReadFile(filepath.Join(s.pg.Dir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(first))
	return pid
}

// startAPI runs `groundwork dev` against our Postgres and Temporal (so it
// starts neither) and waits for /readyz, which answers only after the
// migrations ran and both dependencies are reachable.
func (s *stack) startAPI(ctx context.Context, extraEnv []string) error {
	port, err := devstack.FreePort()
	if err != nil {
		return err
	}
	s.APIURL = fmt.Sprintf("http://127.0.0.1:%d", port)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	env := []string{
		"DATABASE_URL=" + s.DatabaseURL,
		"TEMPORAL_ADDRESS=" + s.TemporalAddress,
		"TEMPORAL_NAMESPACE=" + s.Namespace,
		fmt.Sprintf("GROUNDWORK_HTTP_ADDR=127.0.0.1:%d", port),
		"GROUNDWORK_PUBLIC_URL=" + s.APIURL,
		"GROUNDWORK_SIGNING_KEY=" + hex.EncodeToString(key),
		"GROUNDWORK_BLOB_URL=file://" + filepath.Join(s.dir, "blobs"),
		"GROUNDWORK_LOG_LEVEL=warn",
	}
	env = append(cleanEnv(os.Environ()), append(env, extraEnv...)...)

	s.apiLog = filepath.Join(s.dir, "groundwork.log")
	// Append: after restartAPI the log keeps every run's lines.
	logFile, err := os.OpenFile(s.apiLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("create groundwork log: %w", err)
	}
	cmd := exec.Command(s.bin, "dev", "--data", filepath.Join(s.dir, "gw"))
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Own process group: a terminal Ctrl-C reaches only us, so we stop the
	// API before the dependencies it would otherwise log errors about.
	// Pdeathsig still takes it down if we are killed outright.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	logf("starting %s dev on %s…", s.bin, s.APIURL)
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start groundwork dev: %w", err)
	}
	s.api = cmd
	done := make(chan error, 1)
	s.apiDone = done
	go func() {
		done <- cmd.Wait()
		logFile.Close()
	}()
	return s.waitReady(ctx)
}

// cleanEnv drops settings that would point the API elsewhere or change its
// limits behind the bench's back; --server-env adds any back on purpose.
func cleanEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		if strings.HasPrefix(kv, "GROUNDWORK_") || strings.HasPrefix(kv, "TEMPORAL_") || strings.HasPrefix(kv, "DATABASE_URL=") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

func (s *stack) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	hc := &http.Client{Timeout: 2 * time.Second}
	for {
		select {
		case err := <-s.apiDone:
			s.apiDone <- err
			return fmt.Errorf("groundwork dev exited before it was ready (%v); its log:\n%s", err, tailFile(s.apiLog, 3000))
		default:
		}
		if resp, err := hc.Get(s.APIURL + "/readyz"); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("groundwork dev not ready at %s/readyz: %w; its log:\n%s", s.APIURL, context.Cause(ctx), tailFile(s.apiLog, 3000))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// stop ends, in reverse order, everything startStack started and removes
// the temp dir unless --keep.
func (s *stack) stop() {
	s.stopAPI()
	if s.temporal != nil {
		logf("stopping Temporal…")
		_ = s.temporal.Stop()
	}
	if s.tlog != nil {
		_ = s.tlog.Close()
	}
	if s.pg != nil {
		logf("stopping Postgres…")
		if err := s.pg.Stop(); err != nil {
			logf("%v", err)
		}
	}
	if s.dir == "" {
		return
	}
	if s.keep {
		logf("kept %s (groundwork.log, temporal.log, pg/server.log)", s.dir)
		return
	}
	if err := os.RemoveAll(s.dir); err != nil {
		logf("remove %s: %v", s.dir, err)
	}
}

// stopAPI interrupts `groundwork dev`, which closes its Chrome, and waits
// for it to exit; after 30 s it is killed.
func (s *stack) stopAPI() {
	if s.api == nil || s.api.Process == nil {
		return
	}
	logf("stopping groundwork dev…")
	_ = s.api.Process.Signal(os.Interrupt)
	select {
	case <-s.apiDone:
	case <-time.After(30 * time.Second):
		_ = s.api.Process.Kill()
		<-s.apiDone
	}
	s.api = nil
}

// describe records what was measured, for the report.
func (s *stack) describe(o options) StackInfo {
	if s.dir == "" {
		return StackInfo{Mode: "existing API", APIURL: s.APIURL}
	}
	return StackInfo{Mode: "own stack", APIURL: s.APIURL, PGFast: o.pgFast, TemporalDB: o.temporalDB, ServerEnv: o.serverEnv}
}

// repoRoot walks up from the working directory to the module's go.mod, so
// the tool finds bin/temporal and ./cmd/groundwork from anywhere inside it.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/groundwork-dev/groundwork\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run inside the groundwork repository (no go.mod of github.com/groundwork-dev/groundwork above the working directory)")
		}
		dir = parent
	}
}

func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", path, err)
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// logf reports progress on stderr, keeping stdout for the results.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "load: "+format+"\n", args...)
}
