// Package devstack starts the local dependencies of `groundwork dev` and of
// the tests: a throwaway Postgres cluster from the machine's initdb/pg_ctl
// and a Temporal dev server from the pinned CLI in bin/.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Postgres is a cluster this process started.
type Postgres struct {
	// Dir is the data directory.
	Dir string
	// Port is the TCP port on 127.0.0.1.
	Port int
	// URL is a DATABASE_URL for the "groundwork" database.
	URL string

	bin  string
	cred *syscall.Credential
}

// PostgresOptions tunes a cluster.
type PostgresOptions struct {
	// Port to listen on; 0 picks a free one.
	Port int
	// Fast turns off fsync and friends: for tests, whose data is thrown away.
	Fast bool
}

// FindPostgresBin finds the directory holding initdb and pg_ctl: on PATH,
// else the newest /usr/lib/postgresql/*/bin.
func FindPostgresBin() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if _, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgMajor(dirs[i]) > pgMajor(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("initdb/pg_ctl not found on PATH or in /usr/lib/postgresql/*/bin: " +
		"install the PostgreSQL server (Debian: apt-get install postgresql), or set DATABASE_URL to an existing database")
}

func pgMajor(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// StartPostgres initialises dir when it holds no cluster yet, starts the
// server on 127.0.0.1 and creates the "groundwork" database. PostgreSQL
// refuses to run as root, so as root it runs as the "postgres" user.
func StartPostgres(ctx context.Context, dir string, o PostgresOptions) (*Postgres, error) {
	bin, err := FindPostgresBin()
	if err != nil {
		return nil, err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	p := &Postgres{Dir: dir, bin: bin, Port: o.Port}
	if p.cred, err = serverCredential(); err != nil {
		return nil, err
	}
	if p.Port == 0 {
		if p.Port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	if p.cred != nil {
		if err := os.Chown(dir, int(p.cred.Uid), int(p.cred.Gid)); err != nil {
			return nil, fmt.Errorf("chown %s: %w", dir, err)
		}
		// initdb would only say "Permission denied": say which and why.
		if err := exec.CommandContext(ctx, "test", "-x", dir).Run(); err == nil {
			probe := exec.CommandContext(ctx, "test", "-w", dir)
			probe.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
			if probe.Run() != nil {
				return nil, fmt.Errorf("the postgres user (PostgreSQL refuses to run as root, so it runs as postgres) cannot reach %s: "+
					"a directory above it is private (/root is 0700). Clone the repository elsewhere (for example under /srv), "+
					"or keep the state elsewhere: make dev DEV_FLAGS=\"--data /var/tmp/groundwork\"", dir)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		args := []string{"-D", dir, "-U", "groundwork", "--auth=trust", "-E", "UTF8", "--locale=C"}
		if o.Fast {
			args = append(args, "--no-sync")
		}
		if out, err := p.command(ctx, "initdb", args...).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("initdb: %w\n%s", err, out)
		}
	}
	if err := p.start(ctx, o, ""); err != nil {
		return nil, err
	}
	base := fmt.Sprintf("postgres://groundwork@127.0.0.1:%d", p.Port)
	if err := createDatabase(ctx, base+"/postgres?sslmode=disable", "groundwork"); err != nil {
		_ = p.Stop()
		return nil, err
	}
	p.URL = base + "/groundwork?sslmode=disable"
	return p, nil
}

// serverCredential is the "postgres" user's when we run as root (PostgreSQL
// refuses root), nil otherwise.
func serverCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, errors.New("PostgreSQL refuses to run as root and there is no 'postgres' user: create one (useradd -r postgres) or run as another user")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// start runs pg_ctl start on p.Dir, listening on 127.0.0.1:p.Port only;
// extra adds server options (-c name=value …).
func (p *Postgres) start(ctx context.Context, o PostgresOptions, extra string) error {
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200", p.Port)
	if o.Fast {
		opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	}
	if extra != "" {
		opts += " " + extra
	}
	logFile := filepath.Join(p.Dir, "server.log")
	if out, err := p.command(ctx, "pg_ctl", "-D", p.Dir, "-o", opts, "-l", logFile, "-w", "-t", "60", "start").CombinedOutput(); err != nil {
		log, _ := os.ReadFile(logFile)
		return fmt.Errorf("pg_ctl start: %w\n%s\n%s", err, out, tail(string(log), 2000))
	}
	return nil
}

// Stop shuts the server down (fast mode: open sessions are cut).
func (p *Postgres) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if out, err := p.command(ctx, "pg_ctl", "-D", p.Dir, "-m", "fast", "-w", "stop").CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl stop: %w\n%s", err, out)
	}
	return nil
}

func (p *Postgres) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, p.tool(name), args...)
	cmd.Dir = "/"
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if p.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	}
	return cmd
}

// tool finds a PostgreSQL program: beside pg_ctl, else beside the file
// pg_ctl links to (a PATH may hold links to only some of them), else on PATH.
func (p *Postgres) tool(name string) string {
	path := filepath.Join(p.bin, name)
	if _, err := os.Stat(path); err == nil {
		return path
	}
	if real, err := filepath.EvalSymlinks(filepath.Join(p.bin, "pg_ctl")); err == nil {
		if alt := filepath.Join(filepath.Dir(real), name); alt != path {
			if _, err := os.Stat(alt); err == nil {
				return alt
			}
		}
	}
	if lp, err := exec.LookPath(name); err == nil {
		return lp
	}
	return path
}

func createDatabase(ctx context.Context, adminURL, name string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect to new cluster: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("check database: %w", err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// FreePort asks the kernel for a free TCP port on 127.0.0.1.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
