package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/groundwork-dev/groundwork/cmd/groundwork/app"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/apikey"
	"github.com/groundwork-dev/groundwork/internal/config"
	"github.com/groundwork-dev/groundwork/internal/devstack"
)

// devCmd is what `make dev` runs: it brings up whatever the environment
// does not point at (Postgres, Temporal) under .data/, migrates, and serves
// the API and the worker in one process. Ctrl-C stops everything it started;
// the next run reuses .data/.
func devCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	dataDir := fs.String("data", ".data", "directory for local state")
	pgPort := fs.Int("pg-port", 55432, "port of the local Postgres (when DATABASE_URL is unset)")
	tPort := fs.Int("temporal-port", 7233, "port of the local Temporal frontend (when TEMPORAL_ADDRESS is unset)")
	uiPort := fs.Int("ui-port", 8233, "port of the Temporal Web UI")
	cli := fs.String("temporal-cli", "", "temporal CLI binary (default: bin/temporal)")
	mailpit := fs.Bool("mailpit", true, "catch e-mail in a local Mailpit (when GROUNDWORK_SMTP_URL is unset)")
	mailPort := fs.Int("mail-port", 1025, "SMTP port of the local Mailpit")
	mailUIPort := fs.Int("mail-ui-port", 8025, "web UI port of the local Mailpit")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := os.MkdirAll(*dataDir, 0o755); err != nil {
		return err
	}
	abs, err := filepath.Abs(*dataDir)
	if err != nil {
		return err
	}
	// The postgres user must be able to reach .data/pg when we run as root.
	_ = os.Chmod(abs, 0o755)

	if os.Getenv("DATABASE_URL") == "" {
		fmt.Fprintf(os.Stderr, "starting Postgres in %s/pg on 127.0.0.1:%d…\n", abs, *pgPort)
		pg, err := devstack.StartPostgres(ctx, filepath.Join(abs, "pg"), devstack.PostgresOptions{Port: *pgPort})
		if err != nil {
			return fmt.Errorf("local postgres: %w", err)
		}
		defer func() {
			fmt.Fprintln(os.Stderr, "stopping Postgres…")
			_ = pg.Stop()
		}()
		_ = os.Setenv("DATABASE_URL", pg.URL)
	}
	uiURL := "(see your Temporal deployment)"
	if os.Getenv("TEMPORAL_ADDRESS") == "" {
		path := *cli
		if path == "" {
			path = filepath.Join("bin", "temporal")
		}
		fmt.Fprintf(os.Stderr, "starting Temporal dev server (%s) on 127.0.0.1:%d…\n", path, *tPort)
		logf, err := os.OpenFile(filepath.Join(abs, "temporal.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer logf.Close()
		t, err := devstack.StartTemporal(ctx, devstack.TemporalOptions{
			CLI: path, DBFile: filepath.Join(abs, "temporal.db"), Port: *tPort, UIPort: *uiPort, Log: logf,
		})
		if err != nil {
			return fmt.Errorf("local temporal: %w", err)
		}
		defer func() {
			fmt.Fprintln(os.Stderr, "stopping Temporal…")
			_ = t.Stop()
		}()
		_ = os.Setenv("TEMPORAL_ADDRESS", t.Address)
		uiURL = t.UIURL
	}
	mailURL := "(off: GROUNDWORK_SMTP_URL is yours)"
	if os.Getenv("GROUNDWORK_SMTP_URL") == "" && *mailpit {
		path := cmp.Or(os.Getenv("GROUNDWORK_MAILPIT"), filepath.Join("bin", "mailpit"))
		logf, err := os.OpenFile(filepath.Join(abs, "mailpit.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer logf.Close()
		fmt.Fprintf(os.Stderr, "starting Mailpit (%s) on 127.0.0.1:%d…\n", path, *mailPort)
		m, err := devstack.StartMailpit(ctx, devstack.MailpitOptions{Binary: path, DBFile: filepath.Join(abs, "mailpit.db"),
			SMTPPort: *mailPort, UIPort: *mailUIPort, Log: logf})
		if err != nil {
			// E-mail is optional: without a server it is recorded as suppressed.
			fmt.Fprintf(os.Stderr, "no local mail catcher, e-mail is off: %v\n", err)
			mailURL = "(off)"
		} else {
			defer func() {
				fmt.Fprintln(os.Stderr, "stopping Mailpit…")
				_ = m.Stop()
			}()
			_ = os.Setenv("GROUNDWORK_SMTP_URL", m.SMTPURL)
			mailURL = m.UIURL + "   (every e-mail sent is caught here; " + m.UIURL + "/view/latest.html shows the last)"
		}
	}
	if os.Getenv("GROUNDWORK_SIGNING_KEY") == "" {
		key, err := persistentSecret(filepath.Join(abs, "signing.key"))
		if err != nil {
			return err
		}
		_ = os.Setenv("GROUNDWORK_SIGNING_KEY", key)
	}
	if os.Getenv("GROUNDWORK_ENCRYPTION_KEY") == "" {
		// Seals Airtable tokens and webhook secrets kept in Postgres.
		key, err := persistentSecret(filepath.Join(abs, "encryption.key"))
		if err != nil {
			return err
		}
		_ = os.Setenv("GROUNDWORK_ENCRYPTION_KEY", key)
	}
	if os.Getenv("GROUNDWORK_BLOB_URL") == "" {
		_ = os.Setenv("GROUNDWORK_BLOB_URL", "file://"+filepath.Join(abs, "blobs"))
	}

	a, err := openApp(ctx, config.RoleAPI|config.RoleWorker|config.RoleDev)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := db.Migrate(ctx, a.Pool, a.Log); err != nil {
		return err
	}
	key, err := devAPIKey(ctx, a, filepath.Join(abs, "dev-api-key"))
	if err != nil {
		return err
	}
	apiURL := a.Cfg.PublicURL
	fmt.Fprintf(os.Stderr, `
Groundwork is up.
  API           %s   (OpenAPI: %s/openapi.json)
  Temporal UI   %s
  Mail          %s
  DATABASE_URL  %s
  API key       %s   (user "dev")

  export GROUNDWORK_TOKEN=%s
  curl -s -H "Authorization: Bearer $GROUNDWORK_TOKEN" %s/v1/runs

Ctrl-C stops everything started here.
`, apiURL, apiURL, uiURL, mailURL, os.Getenv("DATABASE_URL"), key, key, apiURL)
	return serveBoth(ctx, a)
}

// persistentSecret returns the hex secret in path, creating it once.
func persistentSecret(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	s := hex.EncodeToString(b)
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return s, nil
}

// devAPIKey returns the dev user's key kept in path, making a new one when
// the file is missing or the database no longer knows the key.
func devAPIKey(ctx context.Context, a *app.App, path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		key := strings.TrimSpace(string(b))
		_, err := sqlc.New(a.Pool).APIKeyGetByHash(ctx, apikey.Hash(key))
		if err == nil {
			return key, nil
		}
		if !db.IsNotFound(err) {
			return "", err
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	_, key, err := apikey.Create(ctx, a.Pool, apikey.Spec{User: "dev", Name: "make dev"})
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return key, nil
}
