package test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/client"

	"github.com/groundwork-dev/groundwork/internal/devstack"
	"github.com/groundwork-dev/groundwork/internal/testkit/testenv"
)

// TestDevCluster runs `groundwork dev-cluster` as `make dev-cluster` does
// (on free ports, in a data directory of its own): an export through nginx
// succeeds, its row reaches the streaming replica and analytics reads go
// there, GETs keep succeeding while one API process is SIGKILLed (nginx
// retries them on the other), the supervisor restarts it, the Temporal dev
// server stopped with SIGINT is started again with its workflows and the
// APIs and workers reconnect, and SIGINT stops every process it started.
func TestDevCluster(t *testing.T) {
	testenv.SkipShort(t, "Postgres, Temporal and nginx")
	if _, err := devstack.FindNginx(); err != nil {
		t.Skipf("dev-cluster needs nginx: %v (make test-deps installs it)", err)
	}
	if _, err := os.Stat(testenv.TemporalCLI()); err != nil {
		t.Fatalf("temporal CLI missing at %s: run `make tools`", testenv.TemporalCLI())
	}
	bin := groundworkBinary(t)
	began := time.Now()

	// Not t.TempDir: the postgres user (we may be root) must reach it.
	dir, err := os.MkdirTemp("", "gw-cluster-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	ports := make([]string, 5)
	for i := range ports {
		p, err := devstack.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = strconv.Itoa(p)
	}
	out, err := os.Create(filepath.Join(dir, "dev-cluster.out"))
	if err != nil {
		t.Fatal(err)
	}
	proc := exec.Command(bin, "dev-cluster", "--data", data, "--api-replicas", "2", "--workers", "2",
		"--lb-port", ports[0], "--pg-port", ports[1], "--replica-port", ports[2], "--temporal-port", ports[3], "--ui-port", ports[4],
		"--api-port", "0", "--metrics-port", "0", "--temporal-cli", testenv.TemporalCLI())
	proc.Dir = dir
	// The test's own settings must not point the cluster elsewhere; the
	// rate limits are raised for the request loop below.
	proc.Env = append(clusterEnv(os.Environ()), "GROUNDWORK_LOG_LEVEL=warn",
		"GROUNDWORK_RATE_PER_SECOND=100000", "GROUNDWORK_RATE_PER_MINUTE=1000000", "GROUNDWORK_IP_RATE_PER_SECOND=100000")
	proc.Stdout, proc.Stderr = out, out
	if err := proc.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- proc.Wait() }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = proc.Process.Signal(os.Interrupt)
			select {
			case <-exited:
			case <-time.After(60 * time.Second):
				_ = proc.Process.Kill()
				<-exited
			}
		}
		// Postgres runs detached (pg_ctl): never leave it behind.
		for _, d := range []string{filepath.Join(data, "pg"), filepath.Join(data, "cluster", "pg-replica")} {
			if pid := postmasterPID(d); pid > 0 {
				t.Errorf("Postgres in %s still running (pid %d): stopping it", d, pid)
				_ = syscall.Kill(pid, syscall.SIGQUIT)
			}
		}
		_ = out.Close()
		if t.Failed() {
			b, _ := os.ReadFile(out.Name())
			t.Logf("dev-cluster output:\n%s", b)
			for _, name := range []string{"api-1", "api-2", "worker-1", "nginx"} {
				b, _ := os.ReadFile(filepath.Join(data, "cluster", "logs", name+".log"))
				t.Logf("%s.log (end):\n%s", name, clusterLogTail(b, 1500))
			}
		}
		_ = os.RemoveAll(dir)
	})

	statePath := filepath.Join(data, "cluster", "cluster.json")
	var st devstack.ClusterState
	testenv.Eventually(t, 90*time.Second, "dev-cluster to be up (cluster.json)", func() bool {
		select {
		case err := <-exited:
			exited <- err
			stopped = true
			b, _ := os.ReadFile(out.Name())
			t.Fatalf("dev-cluster exited while starting: %v\n%s", err, b)
		default:
		}
		st, err = devstack.ReadClusterState(statePath)
		return err == nil
	})
	t.Logf("cluster up after %v", time.Since(began).Round(time.Millisecond))
	if st.LoadBalancer != "http://127.0.0.1:"+ports[0] || st.DatabaseReadURL == "" {
		t.Fatalf("unexpected state: %+v", st)
	}
	api1 := processNamed(t, st, "api-1")
	if n := len(st.Processes); n != 6 {
		t.Fatalf("want 2 APIs, 2 workers, the Temporal dev server and nginx, got %d processes: %+v", n, st.Processes)
	}
	key, err := os.ReadFile(st.APIKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	c := &apiClient{t: t, base: st.LoadBalancer, token: strings.TrimSpace(string(key))}

	// An export through the load balancer runs on the workers.
	r, resp := c.startExport(map[string]any{"format": "csv", "filename": "cluster",
		"columns": []string{"name", "score"}, "rows": [][]any{{"Acme", 91}, {"Globex", 77}}})
	if resp.Status != http.StatusAccepted {
		t.Fatalf("start export through nginx: %d %s", resp.Status, resp.Body)
	}
	if r = c.waitRun(r.ID); r.Status != "succeeded" {
		t.Fatalf("export %s: %s %+v", r.ID, r.Status, r.Error)
	}

	// The replica has the row, and is a standby.
	ctx := context.Background()
	replica, err := pgx.Connect(ctx, strings.Replace(st.DatabaseReadURL, "/groundwork?", "/postgres?", 1))
	if err != nil {
		t.Fatal(err)
	}
	defer replica.Close(ctx)
	testenv.Eventually(t, 10*time.Second, "the run's row on the replica", func() bool {
		return replicaRunStatus(t, st.DatabaseReadURL, r.ID) == "succeeded"
	})
	var recovering bool
	if err := replica.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&recovering); err != nil || !recovering {
		t.Fatalf("replica in recovery: %v %v", recovering, err)
	}
	// Analytics reads go to the replica (DATABASE_READ_URL): its groundwork
	// database commits transactions only the APIs' read pools run there
	// (this connection is to the postgres database).
	commits := func() int64 {
		var n int64
		if err := replica.QueryRow(ctx, "SELECT xact_commit FROM pg_stat_database WHERE datname = 'groundwork'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := commits()
	testenv.Eventually(t, 10*time.Second, "an analytics read to reach the replica", func() bool {
		if resp := c.do(http.MethodGet, "/v1/analytics/overview", nil); resp.Status != http.StatusOK {
			t.Fatalf("analytics overview through nginx: %d %s", resp.Status, resp.Body)
		}
		return commits() > before
	})

	// SIGKILL one API: GETs through nginx keep succeeding, and the
	// supervisor starts it again.
	if err := syscall.Kill(api1.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	gets := 0
	var restarted devstack.ProcessState
	testenv.Eventually(t, 30*time.Second, "api-1 to be restarted and ready", func() bool {
		if resp := c.do(http.MethodGet, "/v1/runs/"+r.ID, nil); resp.Status != http.StatusOK {
			t.Fatalf("GET through nginx %v after api-1 was killed: %d %s", time.Since(killed), resp.Status, resp.Body)
		}
		gets++
		s, err := devstack.ReadClusterState(statePath)
		if err != nil {
			return false
		}
		restarted = processNamed(t, s, "api-1")
		return restarted.Restarts == 1 && restarted.PID != api1.PID && readyzOK(restarted.URL)
	})
	t.Logf("api-1 (pid %d) restarted as pid %d and ready after %v; %d GETs through nginx meanwhile, all 200",
		api1.PID, restarted.PID, time.Since(killed).Round(time.Millisecond), gets)
	// nginx passed at least one of them on from the dead process to the
	// live one (connect refused, then 200).
	access, _ := os.ReadFile(filepath.Join(data, "cluster", "nginx", "logs", "access.log"))
	if !strings.Contains(string(access), "upstream="+strings.TrimPrefix(api1.URL, "http://")+", ") {
		t.Errorf("no request was retried from %s on the other API; access log:\n%s", api1.URL, clusterLogTail(access, 3000))
	}
	if pidAlive(api1.PID) {
		t.Errorf("killed pid %d is alive", api1.PID)
	}
	for range 20 {
		if resp := c.do(http.MethodGet, "/v1/runs/"+r.ID, nil); resp.Status != http.StatusOK {
			t.Fatalf("GET through nginx after the restart: %d %s", resp.Status, resp.Body)
		}
	}

	// Stop the Temporal dev server as Ctrl-C does: the supervisor starts it
	// again on the same port and DB file, the first run's workflow is
	// still there, and the APIs and workers reconnect by themselves.
	tempo := processNamed(t, st, "temporal")
	if err := syscall.Kill(tempo.PID, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	stoppedT := time.Now()
	testenv.Eventually(t, 60*time.Second, "the Temporal dev server to be restarted", func() bool {
		s, err := devstack.ReadClusterState(statePath)
		if err != nil {
			return false
		}
		p := processNamed(t, s, "temporal")
		return p.Restarts == 1 && p.PID != tempo.PID && devstack.TemporalHealthy(ctx, st.TemporalAddress) == nil
	})
	t.Logf("temporal (pid %d) restarted and healthy after %v", tempo.PID, time.Since(stoppedT).Round(time.Millisecond))
	tc, err := client.Dial(client.Options{HostPort: st.TemporalAddress})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tc.DescribeWorkflowExecution(ctx, r.ID, ""); err != nil {
		t.Errorf("workflow %s after the Temporal restart: %v", r.ID, err)
	}
	tc.Close()
	var r2 run
	testenv.Eventually(t, 30*time.Second, "a start through nginx after the Temporal restart", func() bool {
		var resp response
		r2, resp = c.startExport(map[string]any{"format": "csv", "filename": "after-restart",
			"columns": []string{"name"}, "rows": [][]any{{"Initech"}}})
		return resp.Status == http.StatusAccepted
	})
	if r2 = c.waitRun(r2.ID); r2.Status != "succeeded" {
		t.Fatalf("export %s after the Temporal restart: %s %+v", r2.ID, r2.Status, r2.Error)
	}

	// Ctrl-C stops everything it started.
	final, err := devstack.ReadClusterState(statePath)
	if err != nil {
		t.Fatal(err)
	}
	stopAt := time.Now()
	if err := proc.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		stopped = true
		if err != nil {
			t.Errorf("dev-cluster exited with %v after SIGINT", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("dev-cluster did not stop within 60 s of SIGINT")
	}
	t.Logf("stopped in %v; whole test %v", time.Since(stopAt).Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
	for _, p := range final.Processes {
		if pidAlive(p.PID) {
			t.Errorf("%s (pid %d) still running after dev-cluster stopped", p.Name, p.PID)
		}
	}
	if _, err := os.Stat(statePath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s left behind: %v", statePath, err)
	}
}

// clusterEnv drops the settings of the test's environment that would send
// dev-cluster to another database or Temporal.
func clusterEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		if strings.HasPrefix(kv, "GROUNDWORK_") || strings.HasPrefix(kv, "TEMPORAL_") || strings.HasPrefix(kv, "DATABASE_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

func processNamed(t *testing.T, st devstack.ClusterState, name string) devstack.ProcessState {
	t.Helper()
	for _, p := range st.Processes {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no %s in cluster state %+v", name, st.Processes)
	return devstack.ProcessState{}
}

// replicaRunStatus reads a run's status straight from the replica.
func replicaRunStatus(t *testing.T, url, id string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect to replica: %v", err)
	}
	defer conn.Close(ctx)
	var status string
	if err := conn.QueryRow(ctx, "SELECT status::text FROM runs WHERE id = $1", id).Scan(&status); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		t.Fatalf("read run from replica: %v", err)
	}
	return status
}

func readyzOK(base string) bool {
	hc := &http.Client{Timeout: time.Second}
	resp, err := hc.Get(base + "/readyz")
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func pidAlive(pid int) bool {
	return pid > 0 && syscall.Kill(pid, 0) == nil
}

// postmasterPID is the pid of a running server on dir, or 0.
func postmasterPID(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(first))
	if !pidAlive(pid) {
		return 0
	}
	return pid
}

func clusterLogTail(b []byte, n int) string {
	if len(b) > n {
		return fmt.Sprintf("…%s", b[len(b)-n:])
	}
	return string(b)
}
