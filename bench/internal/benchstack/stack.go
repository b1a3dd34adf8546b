// Package benchstack starts a throwaway Groundwork for the benches:
// Postgres, the Temporal dev server and `groundwork dev`, in a temp dir on
// free ports. internal/devstack starts only the first two, and
// internal/testenv needs a *testing.T, which a bench command has none of.
package benchstack

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

// Options configure Start.
type Options struct {
	// TempPrefix is the os.MkdirTemp pattern of the stack's directory, so
	// a kept directory tells which bench left it.
	TempPrefix string
	// Groundwork is a prebuilt groundwork binary; empty builds
	// ./cmd/groundwork into the temp dir.
	Groundwork string
	// Keep leaves the temp dir with its logs in place after Stop.
	Keep bool
	// PGFast runs Postgres without fsync, unlike `make dev`.
	PGFast bool
	// TemporalMemory keeps Temporal's state in memory instead of the WAL
	// SQLite file `make dev` uses, so the zero value measures what
	// `make dev` runs.
	TemporalMemory bool
	// ServerEnv is KEY=VALUE added to the API's environment after the
	// stack's own settings, so it can override them.
	ServerEnv []string
	// Logf reports progress; nil reports nothing.
	Logf func(format string, args ...any)
}

// Stack is what a bench runs against. Start fills every field; a Stack
// with only APIURL, DatabaseURL, TemporalAddress and Namespace set stands
// for an API started elsewhere, which Stop leaves alone and RestartAPI
// refuses.
type Stack struct {
	// APIURL is the API's base URL, without a trailing slash.
	APIURL string
	// DatabaseURL is the API's Postgres.
	DatabaseURL string
	// TemporalAddress is the API's Temporal frontend, host:port.
	TemporalAddress string
	// Namespace is the API's Temporal namespace.
	Namespace string
	// Dir is the temp dir holding the stack's data and logs; empty when
	// this package did not start the stack.
	Dir string

	keep     bool
	bin      string   // the groundwork binary, for RestartAPI
	env      []string // Options.ServerEnv, for RestartAPI
	logf     func(string, ...any)
	pg       *devstack.Postgres
	temporal *devstack.Temporal
	tlog     *os.File
	api      *exec.Cmd
	apiDone  chan error
	apiLog   string
}

// Start builds ./cmd/groundwork (unless o.Groundwork names a binary) and
// starts Postgres, Temporal and `groundwork dev` in a new temp dir. On
// error, whatever it had started is stopped again.
func Start(ctx context.Context, o Options) (_ *Stack, err error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", o.TempPrefix)
	if err != nil {
		return nil, fmt.Errorf("create temp dir: %w", err)
	}
	s := &Stack{Dir: dir, Namespace: "default", keep: o.Keep, env: o.ServerEnv, logf: o.Logf}
	if s.logf == nil {
		s.logf = func(string, ...any) {}
	}
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()
	// As root, Postgres runs as the postgres user and must reach its data
	// directory inside ours.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, fmt.Errorf("chmod %s: %w", dir, err)
	}

	if s.bin, err = groundworkBinary(ctx, root, dir, o.Groundwork, s.logf); err != nil {
		return nil, err
	}

	s.logf("starting Postgres (fast=%v) in %s…", o.PGFast, dir)
	s.pg, err = devstack.StartPostgres(ctx, filepath.Join(dir, "pg"), devstack.PostgresOptions{Fast: o.PGFast})
	if err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	s.DatabaseURL = s.pg.URL

	tPort, err := devstack.FreePort()
	if err != nil {
		return nil, fmt.Errorf("temporal port: %w", err)
	}
	uiPort, err := devstack.FreePort()
	if err != nil {
		return nil, fmt.Errorf("temporal UI port: %w", err)
	}
	if s.tlog, err = os.Create(filepath.Join(dir, "temporal.log")); err != nil {
		return nil, fmt.Errorf("create temporal log: %w", err)
	}
	topts := devstack.TemporalOptions{CLI: filepath.Join(root, "bin", "temporal"), Port: tPort, UIPort: uiPort, Log: s.tlog}
	db := "memory"
	if !o.TemporalMemory {
		db = "file"
		topts.DBFile = filepath.Join(dir, "temporal", "temporal.db")
	}
	s.logf("starting Temporal dev server (db=%s) on 127.0.0.1:%d…", db, tPort)
	s.temporal, err = devstack.StartTemporal(ctx, topts)
	if err != nil {
		return nil, fmt.Errorf("start temporal: %w", err)
	}
	s.TemporalAddress = s.temporal.Address

	if err := s.startAPI(ctx, s.env); err != nil {
		return nil, err
	}
	return s, nil
}

// groundworkBinary returns the absolute path of the binary to run: prebuilt
// if given, else built into dir rather than bin/, so that it matches the
// source being measured and bin/ stays someone else's.
func groundworkBinary(ctx context.Context, root, dir, prebuilt string, logf func(string, ...any)) (string, error) {
	if prebuilt != "" {
		bin, err := filepath.Abs(prebuilt)
		if err != nil {
			return "", fmt.Errorf("groundwork binary %s: %w", prebuilt, err)
		}
		return bin, nil
	}
	bin := filepath.Join(dir, "groundwork")
	logf("building ./cmd/groundwork…")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/groundwork")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/groundwork: %w\n%s", err, out)
	}
	return bin, nil
}

// RestartAPI stops `groundwork dev` and starts it again with extraEnv on
// top of Options.ServerEnv, against the same Postgres and Temporal, so a
// bench can compare server settings with everything else unchanged. The
// API comes back on a new port: read APIURL again.
func (s *Stack) RestartAPI(ctx context.Context, extraEnv []string) error {
	if s.Dir == "" {
		return errors.New("cannot restart an API this stack did not start")
	}
	s.stopAPI()
	return s.startAPI(ctx, append(slices.Clone(s.env), extraEnv...))
}

// APIPID is the process id of `groundwork dev`, whose children include the
// worker's Chrome, or 0 when this stack did not start it.
func (s *Stack) APIPID() int {
	if s.api == nil || s.api.Process == nil {
		return 0
	}
	return s.api.Process.Pid
}

// PostgresPID is the postmaster's process id from its postmaster.pid, or 0
// when this stack did not start Postgres or the file cannot be read.
func (s *Stack) PostgresPID() int {
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
func (s *Stack) startAPI(ctx context.Context, extraEnv []string) error {
	port, err := devstack.FreePort()
	if err != nil {
		return fmt.Errorf("API port: %w", err)
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
		"GROUNDWORK_BLOB_URL=file://" + filepath.Join(s.Dir, "blobs"),
		"GROUNDWORK_LOG_LEVEL=warn",
		// A free port: several stacks (and a make dev) may run at once.
		"GROUNDWORK_METRICS_ADDR=127.0.0.1:0",
	}
	env = append(cleanEnv(os.Environ()), append(env, extraEnv...)...)

	s.apiLog = filepath.Join(s.Dir, "groundwork.log")
	// Append: after RestartAPI the log keeps every run's lines.
	logFile, err := os.OpenFile(s.apiLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("create groundwork log: %w", err)
	}
	cmd := exec.Command(s.bin, "dev", "--data", filepath.Join(s.Dir, "gw"))
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Own process group: a terminal Ctrl-C reaches only us, so we stop the
	// API before the dependencies it would otherwise log errors about.
	// Pdeathsig still takes it down if we are killed outright.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	s.logf("starting %s dev on %s…", s.bin, s.APIURL)
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start groundwork dev: %w", err)
	}
	s.api = cmd
	// A local channel: the goroutine must not read s.apiDone, which the
	// next startAPI replaces.
	done := make(chan error, 1)
	s.apiDone = done
	go func() {
		done <- cmd.Wait()
		logFile.Close()
	}()
	return s.waitReady(ctx)
}

// cleanEnv drops settings of the caller's shell that would point the API
// elsewhere or change its limits behind the bench's back: GROUNDWORK_*,
// TEMPORAL_*, DATABASE_URL, and AIRTABLE_* (the Airtable sync reads
// AIRTABLE_TOKEN and AIRTABLE_API_URL, which must not reach real Airtable).
// Options.ServerEnv adds any back on purpose.
func cleanEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		if strings.HasPrefix(kv, "GROUNDWORK_") || strings.HasPrefix(kv, "TEMPORAL_") ||
			strings.HasPrefix(kv, "DATABASE_URL=") || strings.HasPrefix(kv, "AIRTABLE_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// waitReady polls /readyz for up to two minutes; if the API exits or never
// gets ready, the error carries the end of its log, which says why.
func (s *Stack) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	hc := &http.Client{Timeout: 2 * time.Second}
	for {
		select {
		case err := <-s.apiDone:
			// Put it back: stopAPI waits on the same channel.
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

// Stop ends, in reverse order, everything Start started and removes the
// temp dir unless Options.Keep; it does nothing for an API started
// elsewhere.
func (s *Stack) Stop() {
	if s.Dir == "" {
		return
	}
	s.stopAPI()
	if s.temporal != nil {
		s.logf("stopping Temporal…")
		_ = s.temporal.Stop()
	}
	if s.tlog != nil {
		_ = s.tlog.Close()
	}
	if s.pg != nil {
		s.logf("stopping Postgres…")
		if err := s.pg.Stop(); err != nil {
			s.logf("%v", err)
		}
	}
	if s.keep {
		s.logf("kept %s (groundwork.log, temporal.log, pg/server.log)", s.Dir)
		return
	}
	if err := os.RemoveAll(s.Dir); err != nil {
		s.logf("remove %s: %v", s.Dir, err)
	}
}

// stopAPI interrupts `groundwork dev`, which closes its Chrome, and waits
// for it to exit; after 30 s it is killed.
func (s *Stack) stopAPI() {
	if s.api == nil || s.api.Process == nil {
		return
	}
	s.logf("stopping groundwork dev…")
	_ = s.api.Process.Signal(os.Interrupt)
	select {
	case <-s.apiDone:
	case <-time.After(30 * time.Second):
		_ = s.api.Process.Kill()
		<-s.apiDone
	}
	s.api = nil
}

// RepoRoot walks up from the working directory to the module's go.mod, so
// a bench finds bin/temporal and ./cmd/groundwork from anywhere inside it.
func RepoRoot() (string, error) {
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

// tailFile returns the last n bytes of a log for an error message, or why
// it could not be read.
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
