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

	benchcluster "github.com/groundwork-dev/groundwork/bench/internal/cluster"
	"github.com/groundwork-dev/groundwork/internal/devstack"
)

// cluster is the dev-cluster this tool started (bench/internal/cluster).
type cluster = benchcluster.Cluster

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
