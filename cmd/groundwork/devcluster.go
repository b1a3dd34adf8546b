package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/internal/config"
	"github.com/groundwork-dev/groundwork/internal/devstack"
)

// devClusterCmd is what `make dev-cluster` runs: the production shape on
// one machine without Docker. Postgres with a streaming read replica and
// the Temporal dev server (as `groundwork dev` starts them, same .data/),
// migrations and the dev API key once, then several `groundwork api` and
// `groundwork worker` processes of this same binary behind nginx. It
// restarts a child that exits unexpectedly (the Temporal dev server too,
// on the same ports and DB file), takes an API that fails
// /readyz out of nginx's upstream until it is ready again, and stops
// everything it started on Ctrl-C.
func devClusterCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("dev-cluster", flag.ContinueOnError)
	dataDir := fs.String("data", ".data", "directory for local state (shared with `groundwork dev`; the cluster's own files go to <data>/cluster)")
	apis := fs.Int("api-replicas", 2, "number of `groundwork api` processes behind nginx")
	workers := fs.Int("workers", 2, "number of `groundwork worker` processes")
	lbPort := fs.Int("lb-port", 8080, "port of the nginx load balancer on 127.0.0.1")
	apiPort := fs.Int("api-port", 8081, "port of the first API process (the next ones count up); 0 picks free ports")
	metricsPort := fs.Int("metrics-port", 9465, "metrics port of the first process (APIs, then workers, count up); 0 picks free ports")
	pgPort := fs.Int("pg-port", 55432, "port of the local Postgres primary (when DATABASE_URL is unset)")
	replicaPort := fs.Int("replica-port", 55433, "port of its streaming read replica")
	replica := fs.Bool("replica", true, "run a streaming read replica of the local Postgres for the APIs' DATABASE_READ_URL")
	tPort := fs.Int("temporal-port", 7233, "port of the local Temporal frontend (when TEMPORAL_ADDRESS is unset)")
	uiPort := fs.Int("ui-port", 8233, "port of the Temporal Web UI")
	cli := fs.String("temporal-cli", "", "temporal CLI binary (default: bin/temporal)")
	nginxBin := fs.String("nginx", "", "nginx binary (default: nginx on PATH, else /usr/sbin/nginx)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *apis < 1 || *workers < 0 {
		return errors.New("dev-cluster: --api-replicas must be at least 1 and --workers at least 0")
	}
	if *nginxBin == "" {
		var err error
		if *nginxBin, err = devstack.FindNginx(); err != nil {
			return fmt.Errorf("dev-cluster: %w", err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("dev-cluster: find own binary: %w", err)
	}
	abs, err := filepath.Abs(*dataDir)
	if err != nil {
		return err
	}
	clusterDir := filepath.Join(abs, "cluster")
	logDir := filepath.Join(clusterDir, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return fmt.Errorf("dev-cluster: %w", err)
	}
	// The postgres user must reach .data/pg and .data/cluster/pg-replica
	// when we run as root.
	_ = os.Chmod(abs, 0o755)
	_ = os.Chmod(clusterDir, 0o755)
	logf := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05")+" dev-cluster: "+format+"\n", args...)
	}

	readURL := os.Getenv("DATABASE_READ_URL")
	replicaNote := "(none: DATABASE_URL is yours; set DATABASE_READ_URL for one)"
	if os.Getenv("DATABASE_URL") == "" {
		logf("starting Postgres in %s/pg on 127.0.0.1:%d…", abs, *pgPort)
		pg, err := devstack.StartPostgres(ctx, filepath.Join(abs, "pg"), devstack.PostgresOptions{Port: *pgPort})
		if err != nil {
			return fmt.Errorf("local postgres: %w", err)
		}
		defer func() {
			logf("stopping Postgres…")
			_ = pg.Stop()
		}()
		_ = os.Setenv("DATABASE_URL", pg.URL)
		replicaNote = "(off: --replica=false)"
		if *replica {
			logf("starting its streaming replica in %s/pg-replica on 127.0.0.1:%d…", clusterDir, *replicaPort)
			if err := pg.EnableReplication(ctx); err != nil {
				return fmt.Errorf("local postgres: %w", err)
			}
			r, err := devstack.StartReplica(ctx, pg, filepath.Join(clusterDir, "pg-replica"), devstack.PostgresOptions{Port: *replicaPort})
			if err != nil {
				return fmt.Errorf("read replica: %w", err)
			}
			defer func() {
				logf("stopping the replica…")
				_ = r.Stop()
			}()
			readURL = r.URL
		}
	}
	uiURL := "(see your Temporal deployment)"
	// The Temporal dev server's supervisor writes cluster.json at a
	// restart, once the cluster exists.
	var (
		temporalChild *devstack.Child
		clusterRef    atomic.Pointer[cluster]
	)
	if os.Getenv("TEMPORAL_ADDRESS") == "" {
		path := *cli
		if path == "" {
			path = filepath.Join("bin", "temporal")
		}
		logf("starting Temporal dev server (%s) on 127.0.0.1:%d, state in %s/temporal.db…", path, *tPort, abs)
		// Supervised like the APIs and workers: when it exits (a crash,
		// or the chaos bench's restart) it is started again on the same
		// ports and DB file, and the APIs' and workers' Temporal clients
		// reconnect by themselves. A supervisor of its own, stopped after
		// the one of the APIs and workers (defers run in reverse).
		// A server already there would answer the health checks below.
		if err := portFree(*tPort); err != nil {
			return err
		}
		targs, err := devstack.TemporalCommand(devstack.TemporalOptions{
			CLI: path, DBFile: filepath.Join(abs, "temporal.db"), Port: *tPort, UIPort: *uiPort,
		})
		if err != nil {
			return fmt.Errorf("local temporal: %w", err)
		}
		tsup := &devstack.Supervisor{Logf: logf, OnRestart: func(*devstack.Child) {
			if c := clusterRef.Load(); c != nil {
				c.writeState()
			}
		}}
		tchild, err := tsup.Start(devstack.ChildSpec{Name: "temporal", Path: path, Args: targs, Env: os.Environ(),
			LogPath: filepath.Join(abs, "temporal.log"), StopSignal: syscall.SIGINT, StopTimeout: 15 * time.Second})
		if err != nil {
			return fmt.Errorf("local temporal: %w", err)
		}
		defer func() {
			logf("stopping Temporal…")
			tsup.Stop()
		}()
		tAddr := fmt.Sprintf("127.0.0.1:%d", *tPort)
		exited := func() error {
			if n := tchild.Restarts(); n >= 3 {
				return fmt.Errorf("temporal dev server exited %d times while starting; end of %s:\n%s", n+1, tchild.Spec.LogPath, logTail(tchild.Spec.LogPath))
			}
			return nil
		}
		if err := devstack.WaitTemporal(ctx, tAddr, 60*time.Second, exited); err != nil {
			return fmt.Errorf("local temporal: %w", err)
		}
		temporalChild = tchild
		_ = os.Setenv("TEMPORAL_ADDRESS", tAddr)
		uiURL = fmt.Sprintf("http://localhost:%d", *uiPort)
		if os.Getenv("GROUNDWORK_TEMPORAL_UI_URL") == "" {
			_ = os.Setenv("GROUNDWORK_TEMPORAL_UI_URL", uiURL)
		}
	}
	lbURL := fmt.Sprintf("http://127.0.0.1:%d", *lbPort)
	for name, file := range map[string]string{"GROUNDWORK_SIGNING_KEY": "signing.key", "GROUNDWORK_ENCRYPTION_KEY": "encryption.key"} {
		if os.Getenv(name) == "" {
			key, err := persistentSecret(filepath.Join(abs, file))
			if err != nil {
				return err
			}
			_ = os.Setenv(name, key)
		}
	}
	if os.Getenv("GROUNDWORK_BLOB_URL") == "" {
		// One directory for every process: they run on one machine.
		_ = os.Setenv("GROUNDWORK_BLOB_URL", "file://"+filepath.Join(abs, "blobs"))
	}
	if os.Getenv("GROUNDWORK_PUBLIC_URL") == "" {
		// Signed links point at the load balancer, not at one API.
		_ = os.Setenv("GROUNDWORK_PUBLIC_URL", lbURL)
	}

	// Migrations and the dev key, once, before any API starts.
	key, err := migrateAndKey(ctx, filepath.Join(abs, "dev-api-key"))
	if err != nil {
		return err
	}

	c := &cluster{
		logf:      logf,
		statePath: filepath.Join(clusterDir, "cluster.json"),
		nginx:     &devstack.Nginx{Bin: *nginxBin, Prefix: filepath.Join(clusterDir, "nginx"), Conf: filepath.Join(clusterDir, "nginx.conf")},
		lbListen:  fmt.Sprintf("127.0.0.1:%d", *lbPort),
		state: devstack.ClusterState{
			SupervisorPID: os.Getpid(), LoadBalancer: lbURL,
			DatabaseURL: os.Getenv("DATABASE_URL"), DatabaseReadURL: readURL,
			TemporalAddress: os.Getenv("TEMPORAL_ADDRESS"), TemporalUI: uiURL,
			APIKeyFile: filepath.Join(abs, "dev-api-key"),
		},
		temporal: temporalChild,
	}
	clusterRef.Store(c)
	c.sup = &devstack.Supervisor{Logf: logf, OnRestart: func(*devstack.Child) { c.writeState() }}
	defer func() {
		c.sup.Stop()
		_ = os.Remove(c.statePath)
	}()
	if err := c.start(ctx, self, *apis, *workers, *lbPort, *apiPort, *metricsPort, logDir); err != nil {
		if ctx.Err() != nil {
			return nil // Ctrl-C while starting
		}
		return err
	}
	c.printTable(os.Stderr, key, replicaNote, logDir)

	<-ctx.Done()
	logf("stopping nginx, then the APIs and workers…")
	c.stopProber()
	c.sup.Stop(c.lb)
	c.sup.Stop(append(c.apis, c.workers...)...)
	return nil
}

// migrateAndKey runs the migrations and returns the dev user's API key,
// as `groundwork dev` does.
func migrateAndKey(ctx context.Context, keyFile string) (string, error) {
	// The dev role like its children's (--dev-cluster-child): the same
	// environment, GROUNDWORK_RESEARCH_ALLOW_CIDRS included, is loaded.
	a, err := openApp(ctx, config.RoleDB|config.RoleDev)
	if err != nil {
		return "", err
	}
	defer a.Close()
	if err := db.Migrate(ctx, a.Pool, a.Log); err != nil {
		return "", err
	}
	return devAPIKey(ctx, a, keyFile)
}

// cluster is the supervised part of dev-cluster: API and worker processes,
// nginx in front of the APIs, and the prober that keeps nginx's upstream
// to the ready ones.
type cluster struct {
	logf      func(string, ...any)
	sup       *devstack.Supervisor
	nginx     *devstack.Nginx
	lbListen  string
	statePath string

	apis, workers []*devstack.Child
	lb            *devstack.Child
	// temporal is the supervised Temporal dev server (nil when
	// TEMPORAL_ADDRESS names another).
	temporal    *devstack.Child
	apiAddrs    []string
	metricsURLs map[*devstack.Child]string
	stopProber  func()

	mu    sync.Mutex
	down  []bool
	state devstack.ClusterState
}

func (c *cluster) start(ctx context.Context, self string, apis, workers, lbPort, apiPort, metricsPort int, logDir string) error {
	// A fixed port that is taken fails here, not after a restart loop.
	port := func(base, i int) (int, error) {
		if base == 0 {
			return devstack.FreePort()
		}
		return base + i, portFree(base + i)
	}
	if err := portFree(lbPort); err != nil {
		return err
	}
	env := os.Environ()
	// A child restarted while others still start rewrites the state:
	// everything writeState reads is set under c.mu.
	c.mu.Lock()
	c.metricsURLs = map[*devstack.Child]string{}
	c.down = make([]bool, apis)
	c.mu.Unlock()
	for i := range apis + workers {
		mport, err := port(metricsPort, i)
		if err != nil {
			return err
		}
		maddr := fmt.Sprintf("127.0.0.1:%d", mport)
		spec := devstack.ChildSpec{Path: self, StopTimeout: 45 * time.Second}
		if i < apis {
			hport, err := port(apiPort, i)
			if err != nil {
				return err
			}
			addr := fmt.Sprintf("127.0.0.1:%d", hport)
			spec.Name, spec.Args = fmt.Sprintf("api-%d", i+1), []string{"api", "--" + devClusterFlag}
			spec.Env = setEnv(env, "GROUNDWORK_HTTP_ADDR="+addr, "GROUNDWORK_METRICS_ADDR="+maddr,
				// nginx on 127.0.0.1 sets X-Forwarded-For: the APIs count
				// rate limits against the client it names.
				"GROUNDWORK_TRUSTED_PROXIES=127.0.0.1/32")
			if c.state.DatabaseReadURL != "" {
				spec.Env = setEnv(spec.Env, "DATABASE_READ_URL="+c.state.DatabaseReadURL)
			}
			c.mu.Lock()
			c.apiAddrs = append(c.apiAddrs, addr)
			c.mu.Unlock()
		} else {
			spec.Name, spec.Args = fmt.Sprintf("worker-%d", i-apis+1), []string{"worker", "--" + devClusterFlag}
			// Workers have no use for the replica (analytics reads are the API's).
			spec.Env = setEnv(withoutEnv(env, "DATABASE_READ_URL"), "GROUNDWORK_METRICS_ADDR="+maddr)
		}
		spec.LogPath = filepath.Join(logDir, spec.Name+".log")
		c.logf("starting %s (metrics on %s)…", spec.Name, maddr)
		child, err := c.sup.Start(spec)
		if err != nil {
			return err
		}
		c.mu.Lock()
		c.metricsURLs[child] = "http://" + maddr
		if i < apis {
			c.apis = append(c.apis, child)
		} else {
			c.workers = append(c.workers, child)
		}
		c.mu.Unlock()
	}
	for i, a := range c.apis {
		if err := waitHTTP(ctx, "http://"+c.apiAddrs[i]+"/readyz", a, 90*time.Second); err != nil {
			return err
		}
	}
	for _, w := range c.workers {
		if err := waitHTTP(ctx, c.metricsURLs[w]+"/healthz", w, 90*time.Second); err != nil {
			return err
		}
	}

	if err := c.nginx.WriteConfig(ctx, c.nginxConfig(), true); err != nil {
		return fmt.Errorf("nginx: %w", err)
	}
	c.logf("starting nginx on %s (config %s)…", c.lbListen, c.nginx.Conf)
	lb, err := c.sup.Start(devstack.ChildSpec{Name: "nginx", Path: c.nginx.Bin, Args: c.nginx.Args(),
		Env: os.Environ(), LogPath: filepath.Join(logDir, "nginx.log"),
		// Graceful: finish requests in flight (worker_shutdown_timeout bounds it).
		StopSignal: syscall.SIGQUIT, StopTimeout: 15 * time.Second})
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.lb = lb
	c.mu.Unlock()
	if err := waitHTTP(ctx, c.state.LoadBalancer+"/readyz", lb, 30*time.Second); err != nil {
		return err
	}

	targets := make([]string, len(c.apiAddrs))
	for i, a := range c.apiAddrs {
		targets[i] = "http://" + a
	}
	pctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	p := &devstack.Prober{Targets: targets, Interval: time.Second, Apply: c.applyHealth}
	go func() { defer close(done); p.Run(pctx) }()
	c.stopProber = func() { cancel(); <-done }
	c.writeState()
	return nil
}

func (c *cluster) nginxConfig() devstack.NginxConfig {
	cfg := devstack.NginxConfig{Listen: c.lbListen, MaxFails: 1, FailTimeout: 5 * time.Second}
	for i, a := range c.apiAddrs {
		cfg.Upstreams = append(cfg.Upstreams, devstack.NginxUpstream{Addr: a, Down: c.down[i]})
	}
	return cfg
}

// applyHealth is the prober's verdict: an API not ready is marked down in
// nginx's upstream, and back up once ready. When none is ready (Postgres
// or Temporal is down for all) none is marked down, so clients get the
// APIs' own 503 naming what is missing rather than nginx's 502.
func (c *cluster) applyHealth(ready []bool) error {
	anyReady := false
	for _, r := range ready {
		anyReady = anyReady || r
	}
	c.mu.Lock()
	down := make([]bool, len(ready))
	changed := false
	for i, r := range ready {
		down[i] = anyReady && !r
		changed = changed || down[i] != c.down[i]
	}
	if !changed {
		c.mu.Unlock()
		return nil
	}
	old := c.down
	c.down = down
	cfg := c.nginxConfig()
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := c.nginx.WriteConfig(ctx, cfg, true)
	if err == nil {
		err = c.nginx.Reload(ctx)
	}
	if err != nil {
		c.mu.Lock()
		c.down = old
		c.mu.Unlock()
		c.logf("health: cannot update nginx (will retry): %v", err)
		return err
	}
	for i := range down {
		switch {
		case down[i] && !old[i]:
			c.logf("health: %s (%s) fails /readyz: marked down in nginx", c.apis[i].Spec.Name, c.apiAddrs[i])
		case !down[i] && old[i]:
			c.logf("health: %s (%s) is ready again: back in nginx", c.apis[i].Spec.Name, c.apiAddrs[i])
		}
	}
	c.writeState()
	return nil
}

// writeState rewrites cluster.json with the current pids.
func (c *cluster) writeState() {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.state
	st.Processes = nil
	for i, a := range c.apis {
		st.Processes = append(st.Processes, devstack.ProcessState{Name: a.Spec.Name, Role: "api", PID: a.Pid(),
			URL: "http://" + c.apiAddrs[i], MetricsURL: c.metricsURLs[a] + "/metrics", Restarts: a.Restarts(),
			OutOfRotation: c.down[i], Log: a.Spec.LogPath})
	}
	for _, w := range c.workers {
		st.Processes = append(st.Processes, devstack.ProcessState{Name: w.Spec.Name, Role: "worker", PID: w.Pid(),
			MetricsURL: c.metricsURLs[w] + "/metrics", Restarts: w.Restarts(), Log: w.Spec.LogPath})
	}
	if c.temporal != nil {
		st.Processes = append(st.Processes, devstack.ProcessState{Name: "temporal", Role: "temporal", PID: c.temporal.Pid(),
			Restarts: c.temporal.Restarts(), Log: c.temporal.Spec.LogPath})
	}
	if c.lb != nil {
		st.Processes = append(st.Processes, devstack.ProcessState{Name: "nginx", Role: "nginx", PID: c.lb.Pid(),
			URL: c.state.LoadBalancer, Restarts: c.lb.Restarts(), Log: c.lb.Spec.LogPath})
	}
	if err := devstack.WriteClusterState(c.statePath, st); err != nil {
		c.logf("%v", err)
	}
}

func (c *cluster) printTable(w io.Writer, key, replicaNote, logDir string) {
	c.mu.Lock()
	st := c.state
	c.mu.Unlock()
	fmt.Fprintf(w, "\nGroundwork dev cluster is up.\n\n")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  process\tpid\tserves\tmetrics\n")
	for i, a := range c.apis {
		fmt.Fprintf(tw, "  %s\t%d\thttp://%s\t%s/metrics\n", a.Spec.Name, a.Pid(), c.apiAddrs[i], c.metricsURLs[a])
	}
	for _, wk := range c.workers {
		fmt.Fprintf(tw, "  %s\t%d\t-\t%s/metrics\n", wk.Spec.Name, wk.Pid(), c.metricsURLs[wk])
	}
	if c.temporal != nil {
		fmt.Fprintf(tw, "  temporal\t%d\t%s\t-\n", c.temporal.Pid(), st.TemporalAddress)
	}
	fmt.Fprintf(tw, "  nginx\t%d\t%s\t-\n", c.lb.Pid(), st.LoadBalancer)
	_ = tw.Flush()
	replica := st.DatabaseReadURL
	if replica == "" {
		replica = replicaNote
	}
	fmt.Fprintf(w, `
  Load balancer      %s   (nginx; config %s)
  Temporal           %s, Web UI %s
  Postgres primary   %s   (DATABASE_URL)
  Postgres replica   %s   (DATABASE_READ_URL of the APIs)
  Logs               %s/   (state: %s)
  API key            %s   (user "dev")

  export GROUNDWORK_TOKEN=%s
  curl -s -H "Authorization: Bearer $GROUNDWORK_TOKEN" %s/v1/runs

A child that exits is restarted (Temporal too, keeping its state in
temporal.db); an API failing /readyz leaves nginx's
upstream until it is ready again. Ctrl-C stops everything started here.
`, st.LoadBalancer, c.nginx.Conf, st.TemporalAddress, st.TemporalUI, st.DatabaseURL, replica, logDir, c.statePath, key, key, st.LoadBalancer)
}

// portFree checks that nothing listens on 127.0.0.1:port.
func portFree(port int) error {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return fmt.Errorf("dev-cluster: port %d is taken (is `make dev` or another dev-cluster running?); choose others with the --*-port flags, 0 for free ones: %w", port, err)
	}
	return l.Close()
}

// waitHTTP polls url until it answers 200, reporting the end of child's
// log when it does not within timeout or keeps exiting.
func waitHTTP(ctx context.Context, url string, child *devstack.Child, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hc := &http.Client{Timeout: 2 * time.Second}
	for {
		if n := child.Restarts(); n >= 3 {
			return fmt.Errorf("%s exited %d times while starting; end of %s:\n%s", child.Spec.Name, n+1, child.Spec.LogPath, logTail(child.Spec.LogPath))
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := hc.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready at %s within %v; end of %s:\n%s", child.Spec.Name, url, timeout, child.Spec.LogPath, logTail(child.Spec.LogPath))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func logTail(path string) []byte {
	log, _ := os.ReadFile(path)
	if len(log) > 2000 {
		log = log[len(log)-2000:]
	}
	return log
}

// withoutEnv returns env without the given keys.
func withoutEnv(env []string, keys ...string) []string {
	var out []string
	for _, e := range env {
		k, _, _ := strings.Cut(e, "=")
		if !slices.Contains(keys, k) {
			out = append(out, e)
		}
	}
	return out
}

// setEnv returns env with each KEY=value of kv replacing any KEY there.
func setEnv(env []string, kv ...string) []string {
	keys := make([]string, len(kv))
	for i, s := range kv {
		keys[i], _, _ = strings.Cut(s, "=")
	}
	return append(withoutEnv(env, keys...), kv...)
}
