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
	"strings"
	"syscall"
	"time"

	"github.com/groundwork-dev/groundwork/internal/devstack"
)

// stack is a throwaway Groundwork: Postgres, the Temporal dev server and
// `groundwork dev`, all started by this tool in a temp dir. It is the
// minimal part of bench/load's stack (a package main, so not importable).
type stack struct {
	APIURL          string
	DatabaseURL     string
	TemporalAddress string

	dir      string
	keep     bool
	pg       *devstack.Postgres
	temporal *devstack.Temporal
	tlog     *os.File
	api      *exec.Cmd
	apiDone  chan error
	apiLog   string
}

// startStack builds ./cmd/groundwork (unless o.groundwork names a binary)
// and starts the three processes; serverEnv is added to the API's
// environment. On error, whatever it had started is stopped again.
func startStack(ctx context.Context, o options, serverEnv []string) (_ *stack, err error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "groundwork-bench-airtable-")
	if err != nil {
		return nil, fmt.Errorf("create temp dir: %w", err)
	}
	s := &stack{dir: dir, keep: o.keep}
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
		// Build into the temp dir: the binary then matches the source
		// being measured and bin/ stays someone else's.
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
	logf("starting Temporal dev server on 127.0.0.1:%d…", tPort)
	s.temporal, err = devstack.StartTemporal(ctx, devstack.TemporalOptions{
		CLI: filepath.Join(root, "bin", "temporal"), Port: tPort, UIPort: uiPort, Log: s.tlog,
		DBFile: filepath.Join(dir, "temporal", "temporal.db"),
	})
	if err != nil {
		return nil, fmt.Errorf("start temporal: %w", err)
	}
	s.TemporalAddress = s.temporal.Address
	if err := s.startAPI(ctx, bin, serverEnv); err != nil {
		return nil, err
	}
	return s, nil
}

// startAPI runs `groundwork dev` against our Postgres and Temporal (so it
// starts neither) and waits for /readyz, which answers only after the
// migrations ran and both dependencies are reachable.
func (s *stack) startAPI(ctx context.Context, bin string, extraEnv []string) error {
	port, err := devstack.FreePort()
	if err != nil {
		return err
	}
	s.APIURL = fmt.Sprintf("http://127.0.0.1:%d", port)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	env := []string{
		"DATABASE_URL=" + s.DatabaseURL,
		"TEMPORAL_ADDRESS=" + s.temporal.Address,
		"TEMPORAL_NAMESPACE=default",
		fmt.Sprintf("GROUNDWORK_HTTP_ADDR=127.0.0.1:%d", port),
		"GROUNDWORK_PUBLIC_URL=" + s.APIURL,
		"GROUNDWORK_SIGNING_KEY=" + hex.EncodeToString(key),
		"GROUNDWORK_BLOB_URL=file://" + filepath.Join(s.dir, "blobs"),
		"GROUNDWORK_LOG_LEVEL=warn",
	}
	env = append(cleanEnv(os.Environ()), append(env, extraEnv...)...)

	s.apiLog = filepath.Join(s.dir, "groundwork.log")
	logFile, err := os.Create(s.apiLog)
	if err != nil {
		return fmt.Errorf("create groundwork log: %w", err)
	}
	cmd := exec.Command(bin, "dev", "--data", filepath.Join(s.dir, "gw"))
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Own process group: a terminal Ctrl-C reaches only us, so we stop the
	// API before the dependencies it would otherwise log errors about.
	// Pdeathsig still takes it down if we are killed outright.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	logf("starting %s dev on %s…", bin, s.APIURL)
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start groundwork dev: %w", err)
	}
	s.api = cmd
	s.apiDone = make(chan error, 1)
	go func() {
		s.apiDone <- cmd.Wait()
		logFile.Close()
	}()
	return s.waitReady(ctx)
}

// cleanEnv drops settings that would point the API elsewhere or change its
// limits behind the bench's back.
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
	if s.api != nil && s.api.Process != nil {
		logf("stopping groundwork dev…")
		_ = s.api.Process.Signal(os.Interrupt)
		select {
		case <-s.apiDone:
		case <-time.After(30 * time.Second):
			_ = s.api.Process.Kill()
			<-s.apiDone
		}
	}
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
	if s.keep {
		logf("kept %s (groundwork.log, temporal.log, pg/server.log)", s.dir)
		return
	}
	if err := os.RemoveAll(s.dir); err != nil {
		logf("remove %s: %v", s.dir, err)
	}
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
	fmt.Fprintf(os.Stderr, "airtable: "+format+"\n", args...)
}
