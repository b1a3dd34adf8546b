package devstack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// ReplicationUser is the role a streaming replica connects to its primary as.
const ReplicationUser = "groundwork_replicator"

// replicaHBA is the pg_hba.conf line EnableReplication adds to the primary.
const replicaHBA = "host    replication     " + ReplicationUser + "     127.0.0.1/32    trust"

// EnableReplication readies a primary this process started for a streaming
// replica on this machine: the ReplicationUser role (LOGIN REPLICATION),
// a pg_hba.conf entry letting it connect for replication from 127.0.0.1,
// and a configuration reload. It checks that wal_level and max_wal_senders
// allow streaming. Calling it again changes nothing.
func (p *Postgres) EnableReplication(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, p.adminURL("postgres"))
	if err != nil {
		return fmt.Errorf("connect to primary: %w", err)
	}
	defer conn.Close(ctx)
	var walLevel string
	var senders int
	if err := conn.QueryRow(ctx, "SELECT current_setting('wal_level'), current_setting('max_wal_senders')::int").Scan(&walLevel, &senders); err != nil {
		return fmt.Errorf("read replication settings: %w", err)
	}
	if walLevel == "minimal" || senders == 0 {
		return fmt.Errorf("primary in %s cannot stream (wal_level=%s, max_wal_senders=%d): set wal_level=replica and max_wal_senders>0", p.Dir, walLevel, senders)
	}
	// CREATE ROLE has no IF NOT EXISTS.
	if _, err := conn.Exec(ctx, `DO $$ BEGIN
		IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '`+ReplicationUser+`') THEN
			CREATE ROLE `+ReplicationUser+` LOGIN REPLICATION;
		END IF; END $$`); err != nil {
		return fmt.Errorf("create role %s: %w", ReplicationUser, err)
	}
	hba := filepath.Join(p.Dir, "pg_hba.conf")
	b, err := os.ReadFile(hba)
	if err != nil {
		return fmt.Errorf("read %s: %w", hba, err)
	}
	if !strings.Contains(string(b), replicaHBA) {
		// Appending keeps the file's owner (the postgres user when we are root).
		f, err := os.OpenFile(hba, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return fmt.Errorf("open %s: %w", hba, err)
		}
		_, werr := fmt.Fprintf(f, "\n# groundwork dev-cluster: the streaming replica connects from this machine\n%s\n", replicaHBA)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return fmt.Errorf("append to %s: %w", hba, werr)
		}
	}
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT pg_reload_conf()").Scan(&ok); err != nil {
		return fmt.Errorf("reload primary configuration: %w", err)
	}
	if !ok {
		return errors.New("reload primary configuration: pg_reload_conf() failed (see its server.log)")
	}
	return nil
}

// StartReplica starts a hot-standby streaming replica of primary from dir
// on 127.0.0.1:o.Port (0: a free port). When dir is not already a standby
// of this primary that catches up, it is made one afresh with
// `pg_basebackup -R -X stream` (a fast checkpoint: seconds for a dev
// database). The primary must have had EnableReplication called. Like the
// primary, it runs as the postgres user when we are root. Stop it before
// the primary.
func StartReplica(ctx context.Context, primary *Postgres, dir string, o PostgresOptions) (*Postgres, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	r := &Postgres{Dir: dir, Port: o.Port, bin: primary.bin, cred: primary.cred}
	if r.Port == 0 {
		if r.Port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	r.URL = fmt.Sprintf("postgres://groundwork@127.0.0.1:%d/groundwork?sslmode=disable", r.Port)
	// The conninfo on the command line wins over the one pg_basebackup -R
	// wrote, so a primary started on another port is still found.
	conninfo := fmt.Sprintf("host=127.0.0.1 port=%d user=%s application_name=groundwork_replica", primary.Port, ReplicationUser)
	extra := fmt.Sprintf("-c hot_standby=on -c primary_conninfo='%s'", conninfo)

	if _, err := os.Stat(filepath.Join(dir, "standby.signal")); err == nil {
		err := r.start(ctx, o, extra)
		if err == nil {
			err = r.waitStreaming(ctx, primary, 20*time.Second)
		}
		if err == nil {
			return r, nil
		}
		// A replica of an older primary, or one too far behind (the primary
		// ran without it and recycled the WAL it needs): make a new one.
		fmt.Fprintf(os.Stderr, "the replica in %s cannot follow the primary: %v; making a new base backup\n", dir, firstLine(err))
		_ = r.Stop()
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("remove old replica %s: %w", dir, err)
	}
	// pg_basebackup runs as the server's user, which cannot create dir in a
	// directory we own: make it here, empty, theirs and private.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	if r.cred != nil {
		if err := os.Chown(dir, int(r.cred.Uid), int(r.cred.Gid)); err != nil {
			return nil, fmt.Errorf("chown %s: %w", dir, err)
		}
	}
	args := []string{"-h", "127.0.0.1", "-p", fmt.Sprint(primary.Port), "-U", ReplicationUser, "--no-password",
		"-D", dir, "-R", "-X", "stream", "-c", "fast"}
	if o.Fast {
		args = append(args, "--no-sync")
	}
	if out, err := r.command(ctx, "pg_basebackup", args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pg_basebackup from 127.0.0.1:%d: %w\n%s", primary.Port, err, out)
	}
	// The copy holds the primary's log; the replica starts its own.
	_ = os.Remove(filepath.Join(dir, "server.log"))
	if err := r.start(ctx, o, extra); err != nil {
		return nil, fmt.Errorf("start replica: %w", err)
	}
	if err := r.waitStreaming(ctx, primary, 30*time.Second); err != nil {
		_ = r.Stop()
		return nil, fmt.Errorf("new replica on port %d: %w", r.Port, err)
	}
	return r, nil
}

// waitStreaming waits until r is in recovery, is a copy of primary's
// cluster and its WAL receiver streams from it.
func (r *Postgres) waitStreaming(ctx context.Context, primary *Postgres, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var want int64
	if err := queryOne(ctx, primary.adminURL("postgres"), "SELECT system_identifier FROM pg_control_system()", &want); err != nil {
		return fmt.Errorf("primary's system identifier: %w", err)
	}
	var last error
	for {
		var id int64
		var recovering bool
		var status string
		err := queryOne(ctx, r.adminURL("postgres"), `SELECT (SELECT system_identifier FROM pg_control_system()), pg_is_in_recovery(),
			coalesce((SELECT status FROM pg_stat_wal_receiver), 'not started')`, &id, &recovering, &status)
		switch {
		case err != nil:
			last = err
		case id != want:
			return fmt.Errorf("it is a copy of another cluster (system identifier %d, the primary's is %d)", id, want)
		case !recovering:
			return errors.New("it is no longer a standby (it was promoted)")
		case status == "streaming":
			return nil
		default:
			last = fmt.Errorf("WAL receiver is %s", status)
		}
		select {
		case <-ctx.Done():
			log, _ := os.ReadFile(filepath.Join(r.Dir, "server.log"))
			return fmt.Errorf("it is not streaming from the primary within %v (%v)\n%s", timeout, last, tail(string(log), 1500))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (p *Postgres) adminURL(db string) string {
	return fmt.Sprintf("postgres://groundwork@127.0.0.1:%d/%s?sslmode=disable&connect_timeout=5", p.Port, db)
}

func queryOne(ctx context.Context, url, sql string, dest ...any) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return conn.QueryRow(ctx, sql).Scan(dest...)
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
