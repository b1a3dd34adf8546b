package test

// These tests check docker-compose.yml and the Dockerfile without a Docker
// engine: the compose file is loaded the way `docker compose` loads it
// (compose-go: schema validation, interpolation, YAML anchors, consistency
// checks), then its wiring is checked against what the binary really reads.

import (
	"bufio"
	"context"
	"maps"
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

// composeSigningKey stands in for the signing key docker-compose.yml
// requires; 32 bytes as hex, the shape config.Load accepts.
var composeSigningKey = strings.Repeat("5a", 32)

// composeServices are the services the stack needs, by role.
var (
	composeLongRunning = []string{"postgres", "temporal", "temporal-ui", "api", "worker"}
	composeOneShots    = []string{"migrate", "temporal-setup"}
	composeBuilt       = []string{"migrate", "api", "worker"}
)

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
	root := testenv.RepoRoot()
	opts, err := cli.NewProjectOptions(
		[]string{filepath.Join(root, "docker-compose.yml")},
		cli.WithWorkingDirectory(root),
		cli.WithEnv(env),
		cli.WithName("groundwork"),
	)
	if err != nil {
		return nil, err
	}
	return opts.LoadProject(context.Background())
}

// defaultComposeEnv is what a developer must set: the signing key only.
func defaultComposeEnv() []string {
	return []string{"GROUNDWORK_SIGNING_KEY=" + composeSigningKey}
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

func TestComposeServicesAndImages(t *testing.T) {
	p := loadCompose(t, defaultComposeEnv()...)
	want := append(slices.Clone(composeLongRunning), composeOneShots...)
	for _, name := range want {
		composeService(t, p, name)
	}
	for name, s := range p.Services {
		if s.Image == "" && s.Build == nil {
			t.Errorf("service %s has neither image nor build", name)
		}
		if s.Build != nil {
			continue
		}
		// Third-party images are pinned, so `docker compose up` next month
		// runs what was tested.
		_, tag, ok := strings.Cut(s.Image, ":")
		if !ok || tag == "" || tag == "latest" {
			t.Errorf("service %s: image %q is not pinned to a version tag", name, s.Image)
		}
	}
	for _, name := range composeBuilt {
		s := composeService(t, p, name)
		if s.Build == nil {
			t.Errorf("service %s is not built from the repository's Dockerfile", name)
			continue
		}
		if s.Build.Context != testenv.RepoRoot() {
			t.Errorf("service %s: build context %q, want the repository root", name, s.Build.Context)
		}
		if s.Build.Dockerfile != "Dockerfile" {
			t.Errorf("service %s: dockerfile %q, want Dockerfile", name, s.Build.Dockerfile)
		}
	}
}

func TestComposeHealthchecksAndRestarts(t *testing.T) {
	p := loadCompose(t, defaultComposeEnv()...)
	for _, name := range composeLongRunning {
		s := composeService(t, p, name)
		if s.HealthCheck == nil || s.HealthCheck.Disable || len(s.HealthCheck.Test) < 2 {
			t.Errorf("long-running service %s has no healthcheck", name)
		}
		if s.Restart == "" || s.Restart == "no" {
			t.Errorf("long-running service %s: restart %q, want a restart policy", name, s.Restart)
		}
	}
	// A one-shot restarted after exiting 0 would never count as completed,
	// and everything waiting on service_completed_successfully would hang.
	for _, name := range composeOneShots {
		if s := composeService(t, p, name); s.Restart == "always" || s.Restart == "unless-stopped" {
			t.Errorf("one-shot service %s: restart %q would rerun it after it succeeds", name, s.Restart)
		}
	}
	api := composeService(t, p, "api")
	if got, want := []string(api.HealthCheck.Test), []string{"CMD", "/groundwork", "healthcheck"}; !slices.Equal(got, want) {
		t.Errorf("api healthcheck %q, want %q", got, want)
	}
	worker := composeService(t, p, "worker")
	if got, want := []string(worker.HealthCheck.Test), []string{"CMD", "/groundwork", "healthcheck", "--temporal"}; !slices.Equal(got, want) {
		t.Errorf("worker healthcheck %q, want %q", got, want)
	}
}

func TestComposePorts(t *testing.T) {
	p := loadCompose(t, defaultComposeEnv()...)
	for _, c := range []struct {
		service   string
		published string
		target    uint32
	}{
		{"api", "8080", 8080},
		{"temporal-ui", "8233", 8080},
		{"temporal", "7233", 7233},
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
}

func TestComposeDependencies(t *testing.T) {
	p := loadCompose(t, defaultComposeEnv()...)
	want := map[string]map[string]string{
		"temporal":       {"postgres": types.ServiceConditionHealthy},
		"temporal-setup": {"temporal": types.ServiceConditionHealthy},
		"temporal-ui":    {"temporal": types.ServiceConditionHealthy},
		"migrate":        {"postgres": types.ServiceConditionHealthy},
		"api": {
			"migrate":        types.ServiceConditionCompletedSuccessfully,
			"temporal-setup": types.ServiceConditionCompletedSuccessfully,
		},
		"worker": {
			"migrate":        types.ServiceConditionCompletedSuccessfully,
			"temporal-setup": types.ServiceConditionCompletedSuccessfully,
		},
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
	// Waiting for health of a service without a healthcheck fails at
	// `docker compose up`, not at load time, so check it here.
	for name, s := range p.Services {
		for dep, d := range s.DependsOn {
			if d.Condition != types.ServiceConditionHealthy {
				continue
			}
			if hc := p.Services[dep].HealthCheck; hc == nil || hc.Disable {
				t.Errorf("%s waits for %s to be healthy, but %s has no healthcheck", name, dep, dep)
			}
		}
	}
}

// TestComposeEnvLoadsConfig feeds each Groundwork service's environment to
// the same loaders the binary uses, so a misspelt or malformed setting
// fails here rather than in a container.
func TestComposeEnvLoadsConfig(t *testing.T) {
	p := loadCompose(t, defaultComposeEnv()...)
	for _, c := range []struct {
		service string
		role    config.Role
	}{
		{"api", config.RoleAPI},
		{"worker", config.RoleWorker},
		{"migrate", config.RoleDB},
	} {
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

// TestComposeBlobVolumeIsShared checks that api and worker mount one named
// volume where GROUNDWORK_BLOB_URL points, so the API can serve the files
// the worker writes.
func TestComposeBlobVolumeIsShared(t *testing.T) {
	p := loadCompose(t, defaultComposeEnv()...)
	for _, name := range []string{"api", "worker"} {
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

// TestComposeSigningKeyIsRequired keeps a shared, forgeable default signing
// key out of the compose file.
func TestComposeSigningKeyIsRequired(t *testing.T) {
	_, err := loadComposeErr()
	if err == nil || !strings.Contains(err.Error(), "GROUNDWORK_SIGNING_KEY") {
		t.Fatalf("loading without GROUNDWORK_SIGNING_KEY: err = %v, want one naming it", err)
	}
}

// TestComposeEnvNamesAreRead checks that every variable the compose file
// sets on a Groundwork service is one the code reads: internal/config for
// Groundwork's own, the SDK's envconfig for TEMPORAL_*. A typo would
// otherwise be silently ignored.
func TestComposeEnvNamesAreRead(t *testing.T) {
	p := loadCompose(t, defaultComposeEnv()...)
	root := testenv.RepoRoot()
	configSrc := readGoSources(t, filepath.Join(root, "internal", "config"))
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "go.temporal.io/sdk/contrib/envconfig").Output()
	if err != nil {
		t.Fatalf("locate the envconfig module: %v", err)
	}
	envconfigSrc := readGoSources(t, strings.TrimSpace(string(out)))
	for _, name := range composeBuilt {
		for k := range composeService(t, p, name).Environment {
			src, where := configSrc, "internal/config"
			if strings.HasPrefix(k, "TEMPORAL_") {
				src, where = envconfigSrc, "the Temporal SDK's envconfig"
			}
			if !strings.Contains(src, `"`+k+`"`) {
				t.Errorf("%s sets %s, which %s does not read", name, k, where)
			}
		}
	}
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
}

// TestComposeRegistersSearchAttributes checks that the setup service
// registers the attributes the workflows set, one create call each (the
// CLI pairs --type with only the first --name of a call).
func TestComposeRegistersSearchAttributes(t *testing.T) {
	p := loadCompose(t, defaultComposeEnv()...)
	s := composeService(t, p, "temporal-setup")
	script := strings.Join(append(slices.Clone([]string(s.Entrypoint)), s.Command...), " ")
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
