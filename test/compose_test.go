package test

// These tests check docker-compose.yml and the Dockerfile without a Docker
// engine: the compose file is loaded the way `docker compose` loads it
// (compose-go: schema validation, interpolation, YAML anchors, consistency
// checks), then its wiring is checked against what the binary really reads
// and against the configuration files under deploy/ the services mount.

import (
	"bufio"
	"context"
	"maps"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"go.temporal.io/sdk/contrib/envconfig"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/internal/config"
	"github.com/groundwork-dev/groundwork/internal/testkit/testenv"
)

// composeSecrets are the variables docker-compose.yml requires, with
// stand-in values of the right shape (the signing key: 32 bytes as hex,
// as config.Load accepts).
var composeSecrets = map[string]string{
	"GROUNDWORK_SIGNING_KEY":        strings.Repeat("5a", 32),
	"POSTGRES_PASSWORD":             "test-postgres-password",
	"POSTGRES_REPLICATION_PASSWORD": "test-replication-password",
	"GRAFANA_ADMIN_PASSWORD":        "test-grafana-password",
}

// The services of the stack, by role.
var (
	composeAPIs     = []string{"api-1", "api-2"}
	composeWorkers  = []string{"worker-1", "worker-2"}
	composeGroundwk = slices.Concat(composeAPIs, composeWorkers)
	// composeLongRunning must stay up: each has a healthcheck and a
	// restart policy.
	composeLongRunning = slices.Concat([]string{
		"postgres", "postgres-replica", "temporal", "temporal-ui", "nginx",
		"prometheus", "grafana", "otel-collector", "jaeger",
	}, composeGroundwk)
	// composeOneShots run once and exit 0; others wait for that.
	composeOneShots = []string{"temporal-schema", "temporal-setup", "migrate"}
	// composeBuilt run the repository's Dockerfile.
	composeBuilt = slices.Concat([]string{"migrate"}, composeGroundwk)
)

// composeLBAddress is nginx's fixed address, the one proxy the APIs trust.
const composeLBAddress = "172.28.80.10"

// loadCompose loads docker-compose.yml with exactly env as the interpolation
// environment: neither the caller's environment nor a local .env file can
// change what the test sees.
func loadCompose(t *testing.T, env ...string) *types.Project {
	t.Helper()
	p, err := loadComposeErr(env...)
	if err != nil {
		t.Fatalf("load docker-compose.yml: %v", err)
	}
	return p
}

func loadComposeErr(env ...string) (*types.Project, error) {
	return loadComposeOpts(cli.WithEnv(env))
}

func loadComposeOpts(extra ...cli.ProjectOptionsFn) (*types.Project, error) {
	root := testenv.RepoRoot()
	opts, err := cli.NewProjectOptions(
		[]string{filepath.Join(root, "docker-compose.yml")},
		append([]cli.ProjectOptionsFn{cli.WithWorkingDirectory(root), cli.WithName("groundwork")}, extra...)...,
	)
	if err != nil {
		return nil, err
	}
	return opts.LoadProject(context.Background())
}

// defaultComposeEnv is what an operator must set: the secrets, nothing else.
func defaultComposeEnv() []string {
	var env []string
	for k, v := range composeSecrets {
		env = append(env, k+"="+v)
	}
	return env
}

func composeService(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, ok := p.Services[name]
	if !ok {
		t.Fatalf("docker-compose.yml has no service %q (has %v)", name, slices.Sorted(maps.Keys(p.Services)))
	}
	return s
}

// composeEnv returns a service's environment with unset entries dropped,
// as the container would see it.
func composeEnv(s types.ServiceConfig) map[string]string {
	env := map[string]string{}
	for k, v := range s.Environment {
		if v != nil {
			env[k] = *v
		}
	}
	return env
}

// imageTag returns the tag of an image reference ("" without one), with
// any digest dropped; a registry port is not a tag.
func imageTag(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	name := ref[strings.LastIndex(ref, "/")+1:]
	_, tag, _ := strings.Cut(name, ":")
	return tag
}

// pinnedTag reports whether tag names a release: not empty, not latest,
// and with a version number in it (16.10-alpine, v3.16.0, 1.29.1-…).
func pinnedTag(tag string) bool {
	return tag != "" && tag != "latest" && regexp.MustCompile(`\d+\.\d+`).MatchString(tag)
}

func TestComposeServicesAndImages(t *testing.T) {
	p := loadCompose(t, defaultComposeEnv()...)
	for _, name := range slices.Concat(composeLongRunning, composeOneShots) {
		composeService(t, p, name)
	}
	root := testenv.RepoRoot()
	for name, s := range p.Services {
		if s.Image == "" && s.Build == nil {
			t.Errorf("service %s has neither image nor build", name)
		}
		if s.Build != nil {
			// Built here: its Dockerfile's base images are checked below
			// (deploy/) or by TestComposeDockerfile (the repository's).
			if !slices.Contains(composeBuilt, name) {
				checkDockerfilePinned(t, name, filepath.Join(s.Build.Context, s.Build.Dockerfile))
			}
			continue
		}
		// Third-party images are pinned, so `docker compose up` next month
		// runs what was tested.
		if tag := imageTag(s.Image); !pinnedTag(tag) {
			t.Errorf("service %s: image %q is not pinned to a version tag", name, s.Image)
		}
	}
	for _, name := range composeBuilt {
		s := composeService(t, p, name)
		if s.Build == nil {
			t.Errorf("service %s is not built from the repository's Dockerfile", name)
			continue
		}
		if s.Build.Context != root {
			t.Errorf("service %s: build context %q, want the repository root", name, s.Build.Context)
		}
		if s.Build.Dockerfile != "Dockerfile" {
			t.Errorf("service %s: dockerfile %q, want Dockerfile", name, s.Build.Dockerfile)
		}
	}
	for _, name := range composeWorkers {
		if s := composeService(t, p, name); s.Build == nil || s.Build.Target != "worker" {
			t.Errorf("service %s is not built from the Dockerfile's worker target (Chromium)", name)
		}
	}
}

// checkDockerfilePinned requires every FROM of a Dockerfile under deploy/
// to name a pinned image or an earlier stage.
func checkDockerfilePinned(t *testing.T, service, path string) {
	t.Helper()
	if !strings.HasPrefix(path, filepath.Join(testenv.RepoRoot(), "deploy")+string(filepath.Separator)) {
		t.Errorf("service %s is built from %s; images of the stack are built from the repository's Dockerfile or under deploy/", service, path)
		return
	}
	stages := map[string]bool{}
	froms := 0
	for _, in := range parseDockerfile(t, path) {
		if in.cmd != "FROM" {
			continue
		}
		froms++
		f := strings.Fields(in.args)
		if len(f) >= 3 && strings.EqualFold(f[1], "AS") {
			stages[f[2]] = true
		}
		if stages[f[0]] && !(len(f) >= 3 && f[2] == f[0]) {
			continue
		}
		if !pinnedTag(imageTag(f[0])) {
			t.Errorf("%s (service %s): FROM %s is not pinned to a version tag", path, service, f[0])
		}
	}
	if froms == 0 {
		t.Errorf("%s (service %s) has no FROM", path, service)
	}
}

func TestComposeHealthchecksAndRestarts(t *testing.T) {
	p := loadCompose(t, defaultComposeEnv()...)
	for name, s := range p.Services {
		if s.Restart == "no" {
			// A one-shot job: something must wait for it to succeed, or
			// restart "no" would only be a way around the healthcheck.
			if !slices.Contains(composeOneShots, name) {
				t.Errorf("service %s has restart \"no\" but is not one of the one-shot jobs %v", name, composeOneShots)
			}
			continue
		}
		if s.HealthCheck == nil || s.HealthCheck.Disable || len(s.HealthCheck.Test) < 2 {
			t.Errorf("long-running service %s has no healthcheck", name)
		}
		if s.Restart != "unless-stopped" && s.Restart != "always" {
			t.Errorf("long-running service %s: restart %q, want unless-stopped or always", name, s.Restart)
		}
	}
	for _, name := range composeLongRunning {
		if s := composeService(t, p, name); s.Restart == "no" {
			t.Errorf("long-running service %s has restart \"no\"", name)
		}
	}
	// A one-shot restarted after exiting 0 would never count as completed,
	// and everything waiting on service_completed_successfully would hang.
	for _, name := range composeOneShots {
		if s := composeService(t, p, name); s.Restart != "no" {
			t.Errorf("one-shot service %s: restart %q, want \"no\"", name, s.Restart)
		}
	}
	for _, name := range composeAPIs {
		s := composeService(t, p, name)
		if got, want := []string(s.HealthCheck.Test), []string{"CMD", "/groundwork", "healthcheck"}; !slices.Equal(got, want) {
			t.Errorf("%s healthcheck %q, want %q", name, got, want)
		}
	}
	for _, name := range composeWorkers {
		s := composeService(t, p, name)
		if got, want := []string(s.HealthCheck.Test), []string{"CMD", "/groundwork", "healthcheck", "--temporal"}; !slices.Equal(got, want) {
			t.Errorf("%s healthcheck %q, want %q", name, got, want)
		}
	}
}

func TestComposePorts(t *testing.T) {
	p := loadCompose(t, defaultComposeEnv()...)
	for _, c := range []struct {
		service   string
		published string
		target    uint32
	}{
		{"nginx", "8080", 8080},
		{"temporal-ui", "8233", 8080},
		{"temporal", "7233", 7233},
		{"grafana", "3000", 3000},
		{"prometheus", "9090", 9090},
		{"jaeger", "16686", 16686},
	} {
		s := composeService(t, p, c.service)
		found := false
		for _, port := range s.Ports {
			if port.Published == c.published && port.Target == c.target {
				found = true
			}
		}
		if !found {
			t.Errorf("service %s does not publish %s -> %d (ports %+v)", c.service, c.published, c.target, s.Ports)
		}
	}
	// The UIs have no login (or, for Grafana, one password): nothing is
	// published beyond this machine.
	for name, s := range p.Services {
		for _, port := range s.Ports {
			if port.HostIP != "127.0.0.1" {
				t.Errorf("service %s publishes %s on %q, want 127.0.0.1 only", name, port.Published, port.HostIP)
			}
		}
	}
	// The replicas are reached through the load balancer only.
	for _, name := range composeGroundwk {
		if s := composeService(t, p, name); len(s.Ports) > 0 {
			t.Errorf("service %s publishes ports %+v; only nginx should", name, s.Ports)
		}
	}
}

func TestComposeDependencies(t *testing.T) {
	p := loadCompose(t, defaultComposeEnv()...)
	healthy, completed := types.ServiceConditionHealthy, types.ServiceConditionCompletedSuccessfully
	groundworkDeps := map[string]string{"migrate": completed, "temporal-setup": completed}
	apiDeps := maps.Clone(groundworkDeps)
	apiDeps["postgres-replica"] = healthy
	want := map[string]map[string]string{
		"postgres-replica": {"postgres": healthy},
		"temporal-schema":  {"postgres": healthy},
		"temporal":         {"postgres": healthy, "temporal-schema": completed},
		"temporal-setup":   {"temporal": healthy},
		"temporal-ui":      {"temporal": healthy},
		"migrate":          {"postgres": healthy},
		"nginx":            {"api-1": healthy, "api-2": healthy},
		"grafana":          {"prometheus": healthy},
		"otel-collector":   {"jaeger": healthy},
	}
	for _, name := range composeAPIs {
		want[name] = apiDeps
	}
	for _, name := range composeWorkers {
		want[name] = groundworkDeps
	}
	for name, deps := range want {
		s := composeService(t, p, name)
		for dep, cond := range deps {
			got, ok := s.DependsOn[dep]
			if !ok {
				t.Errorf("%s does not depend on %s", name, dep)
				continue
			}
			if got.Condition != cond {
				t.Errorf("%s depends on %s with condition %q, want %q", name, dep, got.Condition, cond)
			}
		}
	}
	// Every dependency waits for something real: health (of a service with
	// a healthcheck) or a one-shot's success. service_started would let a
	// service start against a dependency that is not ready; waiting for
	// health of a service without a healthcheck fails at `docker compose
	// up`, not at load time.
	for name, s := range p.Services {
		for dep, d := range s.DependsOn {
			switch d.Condition {
			case healthy:
				if hc := p.Services[dep].HealthCheck; hc == nil || hc.Disable {
					t.Errorf("%s waits for %s to be healthy, but %s has no healthcheck", name, dep, dep)
				}
			case completed:
				if !slices.Contains(composeOneShots, dep) {
					t.Errorf("%s waits for %s to complete, but %s is not a one-shot job", name, dep, dep)
				}
			default:
				t.Errorf("%s depends on %s with condition %q, want %s or %s", name, dep, d.Condition, healthy, completed)
			}
		}
	}
}

// TestComposeEnvLoadsConfig feeds each Groundwork service's environment to
// the same loaders the binary uses, so a misspelt or malformed setting
// fails here rather than in a container.
func TestComposeEnvLoadsConfig(t *testing.T) {
	p := loadCompose(t, defaultComposeEnv()...)
	type check struct {
		service string
		role    config.Role
	}
	checks := []check{{"migrate", config.RoleDB}}
	for _, name := range composeAPIs {
		checks = append(checks, check{name, config.RoleAPI})
	}
	for _, name := range composeWorkers {
		checks = append(checks, check{name, config.RoleWorker})
	}
	lb := netip.MustParseAddr(composeLBAddress)
	for _, c := range checks {
		t.Run(c.service, func(t *testing.T) {
			env := composeEnv(composeService(t, p, c.service))
			cfg, err := config.Load(func(k string) string { return env[k] }, c.role)
			if err != nil {
				t.Fatalf("config.Load with the compose environment: %v", err)
			}
			if !strings.Contains(cfg.DatabaseURL, "@postgres:5432/groundwork") {
				t.Errorf("DATABASE_URL %q does not point at the postgres service", cfg.DatabaseURL)
			}
			if c.role == config.RoleDB {
				return
			}
			for _, k := range []string{"DATABASE_URL", "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "GROUNDWORK_SIGNING_KEY", "GROUNDWORK_BLOB_URL"} {
				if env[k] == "" {
					t.Errorf("%s has no %s", c.service, k)
				}
			}
			if len(cfg.SigningKey) != 32 {
				t.Errorf("signing key decoded to %d bytes, want 32", len(cfg.SigningKey))
			}
			if cfg.MetricsAddr != ":9464" {
				t.Errorf("GROUNDWORK_METRICS_ADDR %q, want :9464 (prometheus.yml scrapes it there)", cfg.MetricsAddr)
			}
			if want := "http://otel-collector:4318/v1/traces"; cfg.TracesEndpoint != want {
				t.Errorf("traces go to %q, want the collector's %q", cfg.TracesEndpoint, want)
			}
			if env["OTEL_RESOURCE_ATTRIBUTES"] != "service.instance.id="+c.service {
				t.Errorf("OTEL_RESOURCE_ATTRIBUTES %q, want service.instance.id=%s", env["OTEL_RESOURCE_ATTRIBUTES"], c.service)
			}
			if c.role == config.RoleAPI {
				trusted := false
				for _, pfx := range cfg.TrustedProxies {
					trusted = trusted || pfx.Contains(lb)
				}
				if !trusted || len(cfg.TrustedProxies) != 1 || cfg.TrustedProxies[0].Bits() != 32 {
					t.Errorf("GROUNDWORK_TRUSTED_PROXIES %v, want exactly the load balancer %s/32", cfg.TrustedProxies, lb)
				}
			}
			topts, err := envconfig.LoadClientOptions(envconfig.LoadClientOptionsRequest{
				DisableFile: true,
				EnvLookup:   composeEnvLookup(env),
			})
			if err != nil {
				t.Fatalf("temporal envconfig with the compose environment: %v", err)
			}
			if topts.HostPort != "temporal:7233" || topts.Namespace != "default" {
				t.Errorf("temporal client options %q/%q, want temporal:7233/default", topts.HostPort, topts.Namespace)
			}
		})
	}
}

// TestComposeReadReplica checks the streaming replica and that the API
// replicas, and only they, read analytics from it.
func TestComposeReadReplica(t *testing.T) {
	p := loadCompose(t, defaultComposeEnv()...)
	root := testenv.RepoRoot()
	for _, name := range composeAPIs {
		env := composeEnv(composeService(t, p, name))
		u, err := url.Parse(env["DATABASE_READ_URL"])
		if err != nil || env["DATABASE_READ_URL"] == "" {
			t.Errorf("%s: DATABASE_READ_URL %q: %v", name, env["DATABASE_READ_URL"], err)
			continue
		}
		if u.Host != "postgres-replica:5432" || u.Path != "/groundwork" {
			t.Errorf("%s: DATABASE_READ_URL points at %s%s, want the replica postgres-replica:5432/groundwork", name, u.Host, u.Path)
		}
		if pw, _ := u.User.Password(); pw != composeSecrets["POSTGRES_PASSWORD"] {
			t.Errorf("%s: DATABASE_READ_URL does not use POSTGRES_PASSWORD", name)
		}
	}
	for _, name := range slices.Concat(composeWorkers, []string{"migrate"}) {
		if v, ok := composeEnv(composeService(t, p, name))["DATABASE_READ_URL"]; ok {
			t.Errorf("%s sets DATABASE_READ_URL %q; only the API reads from the replica", name, v)
		}
	}

	primary := composeService(t, p, "postgres")
	replica := composeService(t, p, "postgres-replica")
	if primary.Image != replica.Image {
		t.Errorf("replica image %q differs from the primary's %q", replica.Image, primary.Image)
	}
	if !hasBind(primary, filepath.Join(root, "deploy", "postgres", "init-replication.sh"), "/docker-entrypoint-initdb.d/") {
		t.Errorf("postgres does not mount deploy/postgres/init-replication.sh into /docker-entrypoint-initdb.d (volumes %+v)", primary.Volumes)
	}
	script := filepath.Join(root, "deploy", "postgres", "replica-entrypoint.sh")
	if !hasBind(replica, script, "/usr/local/bin/replica-entrypoint.sh") {
		t.Errorf("postgres-replica does not mount deploy/postgres/replica-entrypoint.sh (volumes %+v)", replica.Volumes)
	}
	if got := strings.Join(replica.Entrypoint, " "); !strings.HasSuffix(got, "/usr/local/bin/replica-entrypoint.sh") {
		t.Errorf("postgres-replica entrypoint %q does not run replica-entrypoint.sh", got)
	}
	src, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"pg_basebackup", "--write-recovery-conf", "--wal-method=stream", "exec docker-entrypoint.sh"} {
		if !strings.Contains(string(src), want) {
			t.Errorf("replica-entrypoint.sh does not contain %q", want)
		}
	}
	penv, renv := composeEnv(primary), composeEnv(replica)
	if renv["PRIMARY_HOST"] != "postgres" {
		t.Errorf("postgres-replica clones %q, want the postgres service", renv["PRIMARY_HOST"])
	}
	for _, k := range []string{"REPLICATION_USER", "REPLICATION_PASSWORD", "REPLICATION_SLOT"} {
		if penv[k] == "" || penv[k] != renv[k] {
			t.Errorf("%s: primary %q, replica %q; want the same, set", k, penv[k], renv[k])
		}
	}
	if renv["REPLICATION_PASSWORD"] != composeSecrets["POSTGRES_REPLICATION_PASSWORD"] {
		t.Errorf("REPLICATION_PASSWORD does not come from POSTGRES_REPLICATION_PASSWORD")
	}
	if cmd := strings.Join(replica.Command, " "); !strings.Contains(cmd, "hot_standby=on") {
		t.Errorf("postgres-replica command %q does not enable hot_standby", cmd)
	}
	if cmd := strings.Join(primary.Command, " "); !strings.Contains(cmd, "wal_level=replica") || !strings.Contains(cmd, "max_wal_senders=") {
		t.Errorf("postgres command %q does not configure replication", cmd)
	}
}

// hasBind reports whether s bind-mounts source at target (a directory
// target ends in /).
func hasBind(s types.ServiceConfig, source, target string) bool {
	for _, v := range s.Volumes {
		if v.Type != types.VolumeTypeBind || v.Source != source {
			continue
		}
		if v.Target == target || (strings.HasSuffix(target, "/") && strings.HasPrefix(v.Target, target)) {
			return true
		}
	}
	return false
}

// TestComposeSecretsAreRequired keeps shared, guessable defaults for
// secrets out of the compose file: loading without any one of them fails,
// naming it.
func TestComposeSecretsAreRequired(t *testing.T) {
	for name := range composeSecrets {
		var env []string
		for _, kv := range defaultComposeEnv() {
			if !strings.HasPrefix(kv, name+"=") {
				env = append(env, kv)
			}
		}
		_, err := loadComposeErr(env...)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("loading without %s: err = %v, want one naming it", name, err)
		}
	}
}

var (
	// composeSecretKeyRe matches the names of variables that hold secrets.
	composeSecretKeyRe = regexp.MustCompile(`(?:^|_)(?:PASSWORD|PASSWD|PWD|SECRET|TOKEN|KEY)$`)
	// composeFromEnvRe is a value taken from the environment with no
	// default, or with an empty one.
	composeFromEnvRe = regexp.MustCompile(`^\$\{[A-Z][A-Z0-9_]*(?:(?::?\?[^}]*)|:?-)?\}$`)
	// composeURLPasswordRe finds the password of a URL with credentials.
	composeURLPasswordRe = regexp.MustCompile(`://[^:/@\s]+:([^@\s]*)@`)
	// composeLiteralSecretRe finds secrets written into commands.
	composeLiteralSecretRe = regexp.MustCompile(`(?i)(?:password|passwd|pgpassword|secret|token)\s*[=:]\s*['"]?[^\s$'"]`)
)

// TestComposeNoSecretValues reads the compose file before interpolation:
// every variable that holds a secret, and every password in a URL, must be
// a ${VARIABLE} from the environment without a default value, and no
// command may carry one.
func TestComposeNoSecretValues(t *testing.T) {
	p, err := loadComposeOpts(cli.WithInterpolation(false), cli.WithEnv(nil))
	if err != nil {
		t.Fatalf("load docker-compose.yml without interpolation: %v", err)
	}
	for name, s := range p.Services {
		for k, v := range s.Environment {
			if v == nil {
				continue
			}
			if composeSecretKeyRe.MatchString(k) && !composeFromEnvRe.MatchString(*v) {
				t.Errorf("%s: %s = %q is not taken from the environment (want ${VAR}, ${VAR:?…} or ${VAR:-})", name, k, *v)
			}
			for _, m := range composeURLPasswordRe.FindAllStringSubmatch(*v, -1) {
				if !composeFromEnvRe.MatchString(m[1]) {
					t.Errorf("%s: %s has the URL password %q; want ${VAR} or ${VAR:?…}", name, k, m[1])
				}
			}
		}
		var cmds []string
		cmds = append(cmds, s.Command...)
		cmds = append(cmds, s.Entrypoint...)
		if s.HealthCheck != nil {
			cmds = append(cmds, s.HealthCheck.Test...)
		}
		for _, c := range cmds {
			if m := composeLiteralSecretRe.FindString(c); m != "" {
				t.Errorf("%s: a command carries a secret (%q…): pass it through the environment", name, m)
			}
		}
	}
}

// TestComposeBlobVolumeIsShared checks that every API replica and worker
// mounts one named volume where GROUNDWORK_BLOB_URL points, so either API
// can serve the files any worker writes.
func TestComposeBlobVolumeIsShared(t *testing.T) {
	p := loadCompose(t, defaultComposeEnv()...)
	for _, name := range composeGroundwk {
		s := composeService(t, p, name)
		dir := strings.TrimPrefix(composeEnv(s)["GROUNDWORK_BLOB_URL"], "file://")
		found := false
		for _, v := range s.Volumes {
			if v.Type == types.VolumeTypeVolume && v.Source == "blobs" && v.Target == dir {
				found = true
			}
		}
		if !found {
			t.Errorf("%s does not mount the blobs volume at GROUNDWORK_BLOB_URL's directory %q (volumes %+v)", name, dir, s.Volumes)
		}
	}
	if _, ok := p.Volumes["blobs"]; !ok {
		t.Error("the blobs volume is not declared")
	}
}

// TestComposeEnvNamesAreRead checks that every variable the compose file
// sets on a Groundwork service is one the code reads: internal/config for
// Groundwork's own, the SDK's envconfig for TEMPORAL_*, internal/config or
// the OpenTelemetry SDK's resource detection for OTEL_*. A typo would
// otherwise be silently ignored.
func TestComposeEnvNamesAreRead(t *testing.T) {
	p := loadCompose(t, defaultComposeEnv()...)
	root := testenv.RepoRoot()
	configSrc := readGoSources(t, filepath.Join(root, "internal", "config"))
	envconfigSrc := readGoSources(t, moduleDir(t, "go.temporal.io/sdk/contrib/envconfig"))
	otelResourceSrc := readGoSources(t, filepath.Join(moduleDir(t, "go.opentelemetry.io/otel/sdk"), "resource"))
	for _, name := range composeBuilt {
		for k := range composeService(t, p, name).Environment {
			src, where := configSrc, "internal/config"
			switch {
			case strings.HasPrefix(k, "TEMPORAL_"):
				src, where = envconfigSrc, "the Temporal SDK's envconfig"
			case strings.HasPrefix(k, "OTEL_"):
				src, where = configSrc+otelResourceSrc, "internal/config or the OpenTelemetry SDK's resource detection"
			}
			if !strings.Contains(src, `"`+k+`"`) {
				t.Errorf("%s sets %s, which %s does not read", name, k, where)
			}
		}
	}
}

// moduleDir is the directory of a module of the build list.
func moduleDir(t *testing.T, module string) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", module).Output()
	if err != nil {
		t.Fatalf("locate the module %s: %v", module, err)
	}
	return strings.TrimSpace(string(out))
}

// readGoSources concatenates the non-test Go files of one directory.
func readGoSources(t *testing.T, dir string) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go sources in %s: %v", dir, err)
	}
	var b strings.Builder
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("read %s: %v", f, err)
		}
		b.Write(src)
	}
	return b.String()
}

// TestComposeCommandsExist checks that each built service's command is a
// subcommand the binary dispatches, so a renamed command cannot leave the
// stack starting a usage message.
func TestComposeCommandsExist(t *testing.T) {
	p := loadCompose(t, defaultComposeEnv()...)
	mainSrc, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "cmd", "groundwork", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	check := func(service, sub string) {
		if !strings.Contains(string(mainSrc), `case "`+sub+`"`) {
			t.Errorf("%s runs `groundwork %s`, which cmd/groundwork/main.go does not dispatch", service, sub)
		}
	}
	for _, name := range composeBuilt {
		s := composeService(t, p, name)
		if len(s.Command) == 0 {
			t.Errorf("%s has no command; the image's default only prints usage", name)
			continue
		}
		check(name, s.Command[0])
		if hc := s.HealthCheck; hc != nil && len(hc.Test) > 2 && hc.Test[1] == "/groundwork" {
			check(name+" healthcheck", hc.Test[2])
		}
	}
	for _, name := range composeAPIs {
		if c := composeService(t, p, name).Command; len(c) != 1 || c[0] != "api" {
			t.Errorf("%s command %q, want [api]", name, c)
		}
	}
	for _, name := range composeWorkers {
		if c := composeService(t, p, name).Command; len(c) != 1 || c[0] != "worker" {
			t.Errorf("%s command %q, want [worker]", name, c)
		}
	}
}

// TestComposeTemporalSchema checks the one-shot that replaces auto-setup:
// admin-tools of the server's release creates both databases and brings
// their schema up to date from the image's versioned directories.
func TestComposeTemporalSchema(t *testing.T) {
	p := loadCompose(t, defaultComposeEnv()...)
	server := composeService(t, p, "temporal")
	if !strings.HasPrefix(server.Image, "temporalio/server:") {
		t.Errorf("temporal runs %q, want temporalio/server (auto-setup is deprecated)", server.Image)
	}
	s := composeService(t, p, "temporal-schema")
	version := imageTag(server.Image)
	for _, name := range []string{"temporal-schema", "temporal-setup"} {
		img := composeService(t, p, name).Image
		if !strings.HasPrefix(img, "temporalio/admin-tools:") || !strings.HasPrefix(imageTag(img), version+"-") {
			t.Errorf("%s runs %q, want temporalio/admin-tools of the server's release %s", name, img, version)
		}
	}
	script := strings.Join(append(slices.Clone([]string(s.Entrypoint)), s.Command...), " ")
	senv, tenv := composeEnv(s), composeEnv(server)
	for _, c := range []struct{ db, dir string }{
		{tenv["DBNAME"], "temporal/versioned"},
		{tenv["VISIBILITY_DBNAME"], "visibility/versioned"},
	} {
		if c.db == "" {
			t.Errorf("temporal does not name its databases (DBNAME, VISIBILITY_DBNAME)")
			continue
		}
		for _, step := range []string{"--db " + c.db + " create", "--db " + c.db + " setup-schema -v 0.0", "--db " + c.db + " update-schema -d"} {
			if !strings.Contains(script, step) {
				t.Errorf("temporal-schema does not run `temporal-sql-tool %s`", step)
			}
		}
		if !strings.Contains(script, c.dir) {
			t.Errorf("temporal-schema does not apply the schema directory %s", c.dir)
		}
	}
	if !strings.Contains(script, "/etc/temporal/schema/postgresql/v12") {
		t.Errorf("temporal-schema does not use the PostgreSQL v12 schema of admin-tools")
	}
	if senv["SQL_PLUGIN"] != tenv["DB"] || senv["SQL_HOST"] != tenv["POSTGRES_SEEDS"] ||
		senv["SQL_USER"] != tenv["POSTGRES_USER"] || senv["SQL_PASSWORD"] != tenv["POSTGRES_PWD"] {
		t.Errorf("temporal-schema connects as %s@%s (%s), the server as %s@%s (%s)",
			senv["SQL_USER"], senv["SQL_HOST"], senv["SQL_PLUGIN"], tenv["POSTGRES_USER"], tenv["POSTGRES_SEEDS"], tenv["DB"])
	}
}

// TestComposeRegistersSearchAttributes checks that the setup service
// creates the namespace and registers the attributes the workflows set,
// one create call each (the CLI pairs --type with only the first --name
// of a call).
func TestComposeRegistersSearchAttributes(t *testing.T) {
	p := loadCompose(t, defaultComposeEnv()...)
	s := composeService(t, p, "temporal-setup")
	script := strings.Join(append(slices.Clone([]string(s.Entrypoint)), s.Command...), " ")
	if !strings.Contains(script, "namespace create --namespace default") {
		t.Errorf("temporal-setup does not create the default namespace: %q", script)
	}
	if !strings.Contains(script, "search-attribute create") {
		t.Fatalf("temporal-setup does not create search attributes: %q", script)
	}
	for _, name := range []string{groundwork.SearchAttrOwnerName, groundwork.SearchAttrKindName} {
		if !regexp.MustCompile(`(?m)^\s*ensure ` + name + `$`).MatchString(script) {
			t.Errorf("temporal-setup does not register %s", name)
		}
	}
	if env := composeEnv(s); env["TEMPORAL_ADDRESS"] != "temporal:7233" {
		t.Errorf("temporal-setup TEMPORAL_ADDRESS %q, want temporal:7233", env["TEMPORAL_ADDRESS"])
	}
}

// TestComposeLoadBalancer checks nginx against the API replicas: its
// configuration is mounted, names every replica on the port the API
// listens on, retries only what is safe to retry, and its fixed address is
// the one the APIs trust.
func TestComposeLoadBalancer(t *testing.T) {
	p := loadCompose(t, defaultComposeEnv()...)
	root := testenv.RepoRoot()
	s := composeService(t, p, "nginx")
	conf := filepath.Join(root, "deploy", "nginx", "nginx.conf")
	if !hasBind(s, conf, "/etc/nginx/nginx.conf") {
		t.Errorf("nginx does not mount deploy/nginx/nginx.conf (volumes %+v)", s.Volumes)
	}
	if n := s.Networks["default"]; n == nil || n.Ipv4Address != composeLBAddress {
		t.Errorf("nginx's address is not fixed at %s (networks %+v)", composeLBAddress, s.Networks)
	}
	if nw := p.Networks["default"]; len(nw.Ipam.Config) != 1 || !netip.MustParsePrefix(nw.Ipam.Config[0].Subnet).Contains(netip.MustParseAddr(composeLBAddress)) {
		t.Errorf("the default network's subnet %+v does not hold %s", nw.Ipam.Config, composeLBAddress)
	}
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	src := stripNginxComments(string(b))
	for _, name := range composeAPIs {
		// GROUNDWORK_HTTP_ADDR is left at its default, :8080.
		if v, ok := composeEnv(composeService(t, p, name))["GROUNDWORK_HTTP_ADDR"]; ok && v != ":8080" {
			t.Errorf("%s listens on %q, nginx.conf expects :8080", name, v)
		}
		if !regexp.MustCompile(`(?m)^\s*server\s+` + regexp.QuoteMeta(name) + `:8080\s[^;]*max_fails=`).MatchString(src) {
			t.Errorf("nginx.conf has no upstream server %s:8080 with max_fails (passive health check)", name)
		}
	}
	next := regexp.MustCompile(`(?m)^\s*proxy_next_upstream\s+([^;]*);`).FindStringSubmatch(src)
	if next == nil {
		t.Error("nginx.conf does not retry the other replica (proxy_next_upstream)")
	} else if strings.Contains(next[1], "non_idempotent") {
		t.Errorf("nginx.conf retries non-idempotent requests (%s): a POST could start a run twice", next[1])
	}
	if !strings.Contains(src, "proxy_set_header X-Forwarded-For $remote_addr;") {
		t.Error("nginx.conf does not set X-Forwarded-For to the client's address (the APIs trust it)")
	}
}

// stripNginxComments drops # comments from an nginx configuration.
func stripNginxComments(src string) string {
	var b strings.Builder
	for _, line := range strings.Split(src, "\n") {
		line, _, _ = strings.Cut(line, "#")
		b.WriteString(line + "\n")
	}
	return b.String()
}

// TestComposeObservability checks the wiring of Prometheus, Grafana, the
// collector and Jaeger: mounted configurations, every Groundwork process
// scraped where it serves /metrics, traces sent to the collector and on to
// Jaeger.
func TestComposeObservability(t *testing.T) {
	p := loadCompose(t, defaultComposeEnv()...)
	root := testenv.RepoRoot()
	deploy := func(parts ...string) string { return filepath.Join(append([]string{root, "deploy"}, parts...)...) }

	prom := composeService(t, p, "prometheus")
	if !hasBind(prom, deploy("prometheus"), "/etc/prometheus") {
		t.Errorf("prometheus does not mount deploy/prometheus at /etc/prometheus (volumes %+v)", prom.Volumes)
	}
	if cmd := strings.Join(prom.Command, " "); !strings.Contains(cmd, "--config.file=/etc/prometheus/prometheus.yml") {
		t.Errorf("prometheus command %q does not load /etc/prometheus/prometheus.yml", cmd)
	}
	promConf, err := os.ReadFile(deploy("prometheus", "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		job      string
		services []string
	}{{"groundwork-api", composeAPIs}, {"groundwork-worker", composeWorkers}} {
		job := regexp.MustCompile(`(?s)job_name:\s*` + c.job + `\b.*?targets:\s*\[([^\]]*)\]`).FindStringSubmatch(string(promConf))
		if job == nil {
			t.Errorf("prometheus.yml has no job %s with static targets", c.job)
			continue
		}
		for _, name := range c.services {
			if !strings.Contains(job[1], `"`+name+`:9464"`) {
				t.Errorf("prometheus.yml job %s does not scrape %s:9464 (targets %s)", c.job, name, job[1])
			}
		}
	}

	graf := composeService(t, p, "grafana")
	if !hasBind(graf, deploy("grafana", "provisioning"), "/etc/grafana/provisioning") {
		t.Errorf("grafana does not mount deploy/grafana/provisioning (volumes %+v)", graf.Volumes)
	}
	prov, err := os.ReadFile(deploy("grafana", "provisioning", "dashboards", "dashboards.yml"))
	if err != nil {
		t.Fatal(err)
	}
	dashPath := regexp.MustCompile(`(?m)^\s*path:\s*(\S+)`).FindSubmatch(prov)
	if dashPath == nil || !hasBind(graf, deploy("grafana", "dashboards"), string(dashPath[1])) {
		t.Errorf("grafana does not mount deploy/grafana/dashboards where dashboards.yml reads them (%s)", dashPath)
	}
	ds, err := os.ReadFile(deploy("grafana", "provisioning", "datasources", "datasources.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ds), "url: http://prometheus:9090") || !strings.Contains(string(ds), "url: http://jaeger:16686") {
		t.Error("datasources.yml does not point at the prometheus and jaeger services")
	}

	col := composeService(t, p, "otel-collector")
	if !hasBind(col, deploy("otel", "config.yaml"), "/etc/otelcol-contrib/config.yaml") {
		t.Errorf("otel-collector does not mount deploy/otel/config.yaml (volumes %+v)", col.Volumes)
	}
	colConf, err := os.ReadFile(deploy("otel", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"endpoint: 0.0.0.0:4318", "endpoint: jaeger:4317"} {
		if !strings.Contains(string(colConf), want) {
			t.Errorf("deploy/otel/config.yaml lacks %q (OTLP/HTTP in, Jaeger out)", want)
		}
	}
	for _, name := range composeGroundwk {
		env := composeEnv(composeService(t, p, name))
		if env["OTEL_EXPORTER_OTLP_ENDPOINT"] != "http://otel-collector:4318" {
			t.Errorf("%s sends traces to %q, want the collector http://otel-collector:4318", name, env["OTEL_EXPORTER_OTLP_ENDPOINT"])
		}
	}
}

// composeEnvLookup serves envconfig from a fixed map instead of the
// process environment.
type composeEnvLookup map[string]string

func (e composeEnvLookup) Environ() []string {
	out := make([]string, 0, len(e))
	for k, v := range e {
		out = append(out, k+"="+v)
	}
	return out
}

func (e composeEnvLookup) LookupEnv(k string) (string, bool) {
	v, ok := e[k]
	return v, ok
}

// dockerfileInstruction is one instruction of a Dockerfile, continuation
// lines joined.
type dockerfileInstruction struct {
	cmd  string // upper-cased, e.g. FROM
	args string
}

func parseDockerfile(t *testing.T, path string) []dockerfileInstruction {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open Dockerfile: %v", err)
	}
	defer f.Close()
	var out []dockerfileInstruction
	var cur strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if strings.HasPrefix(line, "#") {
			continue // comment inside a continued instruction
		}
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(cont + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, dockerfileInstruction{strings.ToUpper(cmd), strings.TrimSpace(args)})
		cur.Reset()
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read Dockerfile: %v", err)
	}
	return out
}

func TestComposeDockerfile(t *testing.T) {
	ins := parseDockerfile(t, filepath.Join(testenv.RepoRoot(), "Dockerfile"))
	last := -1
	froms := 0
	for i, in := range ins {
		if in.cmd == "FROM" {
			last, froms = i, froms+1
		}
	}
	if froms < 2 {
		t.Fatalf("Dockerfile has %d stages, want a build stage and a runtime stage", froms)
	}
	build := ins[:last]
	final := ins[last:]
	buildCmd := ""
	for _, in := range build {
		if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
			buildCmd = in.args
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "./cmd/groundwork"} {
		if !strings.Contains(buildCmd, want) {
			t.Errorf("build stage's go build %q lacks %s", buildCmd, want)
		}
	}
	var entrypoint, user string
	exposes := false
	for _, in := range final {
		switch in.cmd {
		case "ENTRYPOINT":
			entrypoint = in.args
		case "USER":
			user = in.args
		case "EXPOSE":
			exposes = exposes || slices.Contains(strings.Fields(in.args), "8080")
		}
	}
	if !strings.Contains(final[0].args, "distroless") {
		t.Errorf("runtime stage is %q, want a distroless image", final[0].args)
	}
	if entrypoint != `["/groundwork"]` {
		t.Errorf("runtime ENTRYPOINT %q, want [\"/groundwork\"]", entrypoint)
	}
	if uid, _, _ := strings.Cut(user, ":"); uid == "" || uid == "0" || uid == "root" {
		t.Errorf("runtime stage runs as %q, want a non-root user", user)
	}
	if !exposes {
		t.Error("runtime stage does not EXPOSE 8080")
	}
}
