// Package testenv starts the real dependencies of Groundwork's tests — a
// throwaway Postgres cluster and a Temporal dev server from the pinned CLI —
// once per test binary, and hands each test a freshly migrated database.
package testenv

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/internal/devstack"
)

const templateDB = "groundwork_template"

var (
	mu        sync.Mutex
	pg        *devstack.Postgres
	dbSerial  atomic.Int64
	devServer *testsuite.DevServer
	stops     []func()
)

// Main runs the tests of a package and stops whatever they started, after
// running first, the package's own cleanups (services on top of Postgres and
// Temporal). Call it from TestMain: os.Exit(testenv.Main(m)).
func Main(m *testing.M, first ...func()) int {
	code := m.Run()
	for _, f := range first {
		f()
	}
	mu.Lock()
	defer mu.Unlock()
	for i := len(stops) - 1; i >= 0; i-- {
		stops[i]()
	}
	return code
}

// RepoRoot is the repository's top directory, three levels above this
// file; it panics if no go.mod is there, so a move of this package fails
// loudly rather than pointing builds at the wrong directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		panic("testenv: no go.mod at the repository root " + root + ": " + err.Error())
	}
	return root
}

// Logger returns a logger that writes through t.Log, quiet unless -v or
// the test fails.
func Logger(tb testing.TB) *slog.Logger {
	w := &testWriter{tb: tb}
	tb.Cleanup(w.close)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// testWriter forwards to t.Log until the test ends. Background goroutines
// (a Temporal worker's pollers, a server draining) can still log after that,
// and t.Log then panics and takes the whole package down, so late lines are
// dropped instead.
type testWriter struct {
	mu   sync.Mutex
	tb   testing.TB
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return len(p), nil
	}
	w.tb.Helper()
	w.tb.Log(string(p))
	return len(p), nil
}

func (w *testWriter) close() {
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()
}

// StartPostgres starts a new cluster owned by the caller, for tests that
// need to stop Postgres under a running service.
func StartPostgres(tb testing.TB) *devstack.Postgres {
	tb.Helper()
	p, stop := startCluster(tb)
	tb.Cleanup(stop)
	return p
}

func startCluster(tb testing.TB) (*devstack.Postgres, func()) {
	tb.Helper()
	SkipShort(tb, "Postgres")
	dir, err := os.MkdirTemp("", "gw-pg-")
	if err != nil {
		tb.Fatal(err)
	}
	// The postgres user (we may be root) must reach the data directory.
	if err := os.Chmod(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	p, err := devstack.StartPostgres(context.Background(), filepath.Join(dir, "data"), devstack.PostgresOptions{Fast: true})
	if err != nil {
		_ = os.RemoveAll(dir)
		tb.Fatalf("start postgres: %v", err)
	}
	return p, func() {
		_ = p.Stop()
		_ = os.RemoveAll(dir)
	}
}

func sharedPostgres(tb testing.TB) *devstack.Postgres {
	tb.Helper()
	SkipShort(tb, "Postgres")
	mu.Lock()
	defer mu.Unlock()
	if pg != nil {
		return pg
	}
	p, stop := startCluster(tb)
	stops = append(stops, stop)
	// Migrate a template once; every test database is a cheap copy of it.
	if err := migrateTemplate(context.Background(), p); err != nil {
		tb.Fatalf("migrate template: %v", err)
	}
	pg = p
	return pg
}

func migrateTemplate(ctx context.Context, p *devstack.Postgres) error {
	admin, err := pgx.Connect(ctx, adminURL(p, "postgres"))
	if err != nil {
		return err
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+templateDB); err != nil {
		return fmt.Errorf("create template: %w", err)
	}
	pool, err := db.Open(ctx, adminURL(p, templateDB), db.PoolConfig{MaxConns: 2})
	if err != nil {
		return err
	}
	defer pool.Close()
	return db.Migrate(ctx, pool, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func adminURL(p *devstack.Postgres, dbname string) string {
	return fmt.Sprintf("postgres://groundwork@127.0.0.1:%d/%s?sslmode=disable", p.Port, dbname)
}

// DatabaseURL returns the URL of a new, migrated database for this test.
func DatabaseURL(tb testing.TB) string {
	tb.Helper()
	p := sharedPostgres(tb)
	name := fmt.Sprintf("t_%d_%d", os.Getpid(), dbSerial.Add(1))
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, adminURL(p, "postgres"))
	if err != nil {
		tb.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, templateDB)); err != nil {
		tb.Fatalf("create test database: %v", err)
	}
	return adminURL(p, name)
}

// Pool returns a pool on a new, migrated database, closed with the test.
func Pool(tb testing.TB) (*pgxpool.Pool, string) {
	tb.Helper()
	url := DatabaseURL(tb)
	pool, err := db.Open(context.Background(), url, db.PoolConfig{MaxConns: 10})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	return pool, url
}

// TemporalCLI is the pinned temporal binary the dev server runs from.
func TemporalCLI() string {
	if p := os.Getenv("GROUNDWORK_TEMPORAL_CLI"); p != "" {
		return p
	}
	return filepath.Join(RepoRoot(), "bin", "temporal")
}

// DevServerOptions are the options of every test dev server: the pinned
// CLI (StartDevServer would otherwise try to download one), the search
// attributes, and eager start enabled as in `make dev`.
func DevServerOptions() testsuite.DevServerOptions {
	return testsuite.DevServerOptions{
		ExistingPath: TemporalCLI(),
		LogLevel:     "error",
		ClientOptions: &client.Options{
			Namespace: "default",
			Logger:    sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		},
		SearchAttributes: temporal.NewSearchAttributes(
			temporal.NewSearchAttributeKeyKeyword(groundwork.SearchAttrOwnerName).ValueSet(""),
			temporal.NewSearchAttributeKeyKeyword(groundwork.SearchAttrKindName).ValueSet(""),
		),
		ExtraArgs: []string{"--dynamic-config-value", "system.enableEagerWorkflowStart=true"},
	}
}

// StartTemporal starts a dev server owned by the caller (stopped with the
// test), for tests that stop Temporal under a running service.
func StartTemporal(tb testing.TB) *testsuite.DevServer {
	tb.Helper()
	s := startDevServer(tb)
	tb.Cleanup(func() { _ = s.Stop() })
	return s
}

func startDevServer(tb testing.TB) *testsuite.DevServer {
	tb.Helper()
	SkipShort(tb, "a Temporal dev server")
	if _, err := os.Stat(TemporalCLI()); err != nil {
		tb.Fatalf("temporal CLI missing at %s: run `make tools`", TemporalCLI())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := testsuite.StartDevServer(ctx, DevServerOptions())
	if err != nil {
		tb.Fatalf("start temporal dev server: %v", err)
	}
	return s
}

// Temporal returns the package's shared dev server.
func Temporal(tb testing.TB) *testsuite.DevServer {
	tb.Helper()
	SkipShort(tb, "a Temporal dev server")
	mu.Lock()
	defer mu.Unlock()
	if devServer != nil {
		return devServer
	}
	s := startDevServer(tb)
	stops = append(stops, func() { _ = s.Stop() })
	devServer = s
	return s
}

// Eventually polls cond every 10 ms until it holds or timeout passes.
func Eventually(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// SkipShort skips tests that need real services under go test -short.
func SkipShort(tb testing.TB, what string) {
	tb.Helper()
	if testing.Short() {
		tb.Skipf("needs %s; skipped with -short", what)
	}
}
