// Package app wires Groundwork's processes from a Config: the Postgres pool,
// the Temporal client (with SDK metrics on the Prometheus registry), the
// blob bucket, the API server and the worker. cmd/groundwork and the
// end-to-end tests build the same App.
package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/opentelemetry"
	sdklog "go.temporal.io/sdk/log"
	"gocloud.dev/blob"

	"github.com/groundwork-dev/groundwork/api"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/blobstore"
	"github.com/groundwork-dev/groundwork/internal/config"
	"github.com/groundwork-dev/groundwork/internal/metrics"
	"github.com/groundwork-dev/groundwork/internal/secretbox"
	"github.com/groundwork-dev/groundwork/internal/session"
	"github.com/groundwork-dev/groundwork/internal/signedurl"
	"github.com/groundwork-dev/groundwork/internal/ssrf"
	"github.com/groundwork-dev/groundwork/internal/tracing"
	"github.com/groundwork-dev/groundwork/worker"
)

// App holds the dependencies of one process.
type App struct {
	Cfg  config.Config
	Log  *slog.Logger
	Pool *pgxpool.Pool
	// ReadPool is the replica of DATABASE_READ_URL, or Pool without one.
	ReadPool *pgxpool.Pool
	Temporal client.Client
	Bucket   *blob.Bucket
	Registry *prometheus.Registry
	// Traces exports spans when OTEL_EXPORTER_OTLP_* names a collector.
	Traces *tracing.Provider

	meters *sdkmetric.MeterProvider
	jwks   keyfunc.Keyfunc
}

// NewLogger returns the process logger: JSON (or text) on stderr.
func NewLogger(cfg config.Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if strings.EqualFold(cfg.LogFormat, "text") {
		return slog.New(tracing.LogHandler(slog.NewTextHandler(os.Stderr, opts)))
	}
	return slog.New(tracing.LogHandler(slog.NewJSONHandler(os.Stderr, opts)))
}

// Open connects to Postgres, Temporal and the blob store. temporalOpts
// carries the connection settings (from the SDK's envconfig in production);
// logger and metrics are filled in here.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger, temporalOpts client.Options) (*App, error) {
	a := &App{Cfg: cfg, Log: log, Registry: prometheus.NewRegistry()}
	a.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if err := metrics.Register(a.Registry); err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()

	traces, err := tracing.New(ctx, tracing.Options{Endpoint: cfg.TracesEndpoint, Service: "groundwork", BatchTimeout: cfg.TracesBatchTimeout})
	if err != nil {
		return nil, err
	}
	a.Traces = traces
	var queryTracer pgx.QueryTracer
	if traces.Enabled() {
		queryTracer = otelpgx.NewTracer(otelpgx.WithTracerProvider(traces))
	}
	pool, err := db.Open(ctx, cfg.DatabaseURL, db.PoolConfig{MinConns: cfg.DBMinConns, MaxConns: cfg.DBMaxConns, Tracer: queryTracer})
	if err != nil {
		return nil, err
	}
	a.Pool, a.ReadPool = pool, pool
	if cfg.DatabaseReadURL != "" {
		if a.ReadPool, err = db.Open(ctx, cfg.DatabaseReadURL, db.PoolConfig{MinConns: 1, MaxConns: cfg.DBMaxConns, Tracer: queryTracer}); err != nil {
			return nil, fmt.Errorf("DATABASE_READ_URL: %w", err)
		}
		a.Registry.MustRegister(replicaLag(a.ReadPool))
	}

	exporter, err := otelprom.New(otelprom.WithRegisterer(a.Registry))
	if err != nil {
		return nil, fmt.Errorf("temporal metrics exporter: %w", err)
	}
	// Timers in seconds get buckets that tell 20 ms from 2 s (the SDK's
	// default bounds start at 5 s); counters are counters (…_total).
	a.meters = sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter), sdkmetric.WithView(sdkmetric.NewView(
		sdkmetric.Instrument{Kind: sdkmetric.InstrumentKindHistogram, Unit: "s"},
		sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{
			Boundaries: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600}}},
	)))
	temporalOpts.MetricsHandler = opentelemetry.NewMetricsHandler(opentelemetry.MetricsHandlerOptions{
		Meter: a.meters.Meter("temporal-sdk"), UseMonotonicCounters: true,
	})
	temporalOpts.Logger = sdklog.NewStructuredLogger(log)
	if traces.Enabled() {
		// One trace from the request through StartWorkflow into the
		// workflow and each activity, carried in Temporal's headers.
		ti, err := opentelemetry.NewTracingInterceptor(opentelemetry.TracerOptions{
			Tracer: traces.Tracer("temporal-sdk-go"), TextMapPropagator: tracing.Propagator})
		if err != nil {
			return nil, fmt.Errorf("temporal tracing: %w", err)
		}
		temporalOpts.Interceptors = append(temporalOpts.Interceptors, ti)
	}
	tc, err := client.DialContext(ctx, temporalOpts)
	if err != nil {
		return nil, fmt.Errorf("connect to temporal at %s: %w", temporalOpts.HostPort, err)
	}
	a.Temporal = tc

	bucket, err := blobstore.Open(ctx, cfg.BlobURL)
	if err != nil {
		return nil, err
	}
	a.Bucket = bucket

	if cfg.JWKSURL != "" {
		jwks, err := keyfunc.NewDefaultCtx(ctx, []string{cfg.JWKSURL})
		if err != nil {
			return nil, fmt.Errorf("load JWKS from GROUNDWORK_JWKS_URL: %w", err)
		}
		a.jwks = jwks
		if cfg.JWTAcceptAnyAudience && (cfg.JWTIssuer == "" || cfg.JWTAudience == "") {
			log.Warn("GROUNDWORK_JWT_ACCEPT_ANY_AUDIENCE=true: JWTs of any issuer or audience the JWKS signs for are accepted")
		}
	}
	if len(cfg.LLM.Providers) > 0 && cfg.LLM.MonthlyTokenBudget == 0 {
		log.Warn("GROUNDWORK_LLM_MONTHLY_TOKEN_BUDGET=0: each user's LLM spend is unlimited")
	}
	ok = true
	return a, nil
}

// Close releases everything Open acquired.
func (a *App) Close() {
	if a.Temporal != nil {
		a.Temporal.Close()
	}
	if a.Traces != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = a.Traces.Shutdown(sctx)
		cancel()
	}
	if a.Bucket != nil {
		_ = a.Bucket.Close()
	}
	if a.ReadPool != nil && a.ReadPool != a.Pool {
		a.ReadPool.Close()
	}
	if a.Pool != nil {
		a.Pool.Close()
	}
	if a.meters != nil {
		_ = a.meters.Shutdown(context.Background())
	}
}

// APIServer builds the HTTP API.
func (a *App) APIServer() (*api.Server, error) {
	signer, err := signedurl.New(a.Cfg.SigningKey)
	if err != nil {
		return nil, fmt.Errorf("GROUNDWORK_SIGNING_KEY: %w", err)
	}
	secrets, err := secretbox.New(a.Cfg.Airtable.EncryptionKey)
	if err != nil {
		return nil, fmt.Errorf("GROUNDWORK_ENCRYPTION_KEY: %w", err)
	}
	auth := api.NewAuthenticator(sqlc.New(a.Pool), api.AuthConfig{
		Secret:   a.Cfg.JWTSecret,
		JWKS:     a.jwks,
		Issuer:   a.Cfg.JWTIssuer,
		Audience: a.Cfg.JWTAudience,
		MaxAge:   a.Cfg.JWTMaxAge,

		WorkspaceClaim: a.Cfg.JWTWorkspaceClaim,
		RoleClaim:      a.Cfg.JWTRoleClaim,
		SessionClaim:   a.Cfg.SessionClaim,
		Sessions: &session.Store{
			Pool: a.Pool, Idle: cmp.Or(a.Cfg.SessionIdle, config.DefaultSessionIdle),
			PerUser: cmp.Or(a.Cfg.SessionsPerUser, config.DefaultSessionsPerUser),
		},
	})
	return api.New(api.Deps{
		Traces:            a.Traces,
		Pool:              a.Pool,
		Temporal:          a.Temporal,
		Bucket:            a.Bucket,
		Signer:            signer,
		Auth:              auth,
		Log:               a.Log,
		Registry:          a.Registry,
		PublicURL:         a.Cfg.PublicURL,
		CORSOrigins:       a.Cfg.CORSOrigins,
		RatePerSecond:     a.Cfg.RatePerSec,
		RatePerMinute:     a.Cfg.RatePerMin,
		EagerStart:        a.Cfg.EagerStart,
		QuotaBytes:        a.Cfg.QuotaBytes,
		LLMProviders:      a.Cfg.LLM.Allowed(),
		MaxStreamsPerUser: a.Cfg.MaxStreamsPerUser,
		MaxOpenRuns:       a.Cfg.MaxOpenRuns,

		SignedRatePerSecond:   a.Cfg.SignedRatePerSec,
		SignedRatePerMinute:   a.Cfg.SignedRatePerMin,
		IPRatePerSecond:       a.Cfg.IPRatePerSec,
		AuthFailuresPerMinute: a.Cfg.AuthFailuresPerMin,
		TrustedProxies:        a.Cfg.TrustedProxies,
		MonthlyTokenBudget:    a.Cfg.LLM.MonthlyTokenBudget,
		ResearchPolicy:        ssrf.Policy{Allow: a.Cfg.Research.Allow, Ports: a.Cfg.Research.Ports},
		AirtableTables:        a.Cfg.Airtable.Tables,
		AirtableBases:         a.Cfg.Airtable.Bases,
		Secrets:               secrets,
		ReadPool:              a.ReadPool,
		EventRetention:        a.Cfg.EventRetention,
		StalledAfter:          a.Cfg.StalledAfter,
		TemporalUIURL:         a.Cfg.TemporalUIURL,
		TemporalNamespace:     a.Cfg.TemporalNamespace,
	}), nil
}

// ServeMetrics serves /metrics (the process's Prometheus registry: HTTP,
// Temporal SDK, Go runtime) and /healthz on l until ctx is done. It is a
// listener of its own, on loopback by default (GROUNDWORK_METRICS_ADDR),
// so the API's public port never shows internal series.
func (a *App) ServeMetrics(ctx context.Context, l net.Listener) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(l) }()
	a.Log.Info("metrics listening", "addr", l.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("serve metrics: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = hs.Shutdown(sctx)
	return nil
}

// ServeAPI serves the API on l until ctx is done, then drains in-flight
// requests for up to 20 s.
func (a *App) ServeAPI(ctx context.Context, l net.Listener) error {
	srv, err := a.APIServer()
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(l) }()
	a.Log.Info("api listening", "addr", l.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a.Log.Info("api draining")
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("drain http: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// RunWorker polls every task queue until ctx is done.
func (a *App) RunWorker(ctx context.Context) error {
	return worker.Run(ctx, a.WorkerDeps())
}

// linkSigner signs the links in e-mails; a worker without
// GROUNDWORK_SIGNING_KEY sends e-mails without links.
func (a *App) linkSigner() *signedurl.Signer {
	s, err := signedurl.New(a.Cfg.SigningKey)
	if err != nil {
		return nil
	}
	return s
}

// WorkerDeps are the worker's dependencies.
func (a *App) WorkerDeps() worker.Deps {
	return worker.Deps{
		Client:            a.Temporal,
		Pool:              a.Pool,
		Bucket:            a.Bucket,
		Log:               a.Log,
		Pollers:           a.Cfg.Pollers,
		RenderConcurrency: a.Cfg.RenderConcurrency,
		ExportTTL:         a.Cfg.ExportTTL,
		MaxFileBytes:      a.Cfg.MaxFileBytes,
		QuotaBytes:        a.Cfg.QuotaBytes,
		Schedules: worker.Schedules{CleanupEvery: a.Cfg.CleanupEvery,
			RollupHourlyEvery: a.Cfg.RollupHourlyEvery, RollupDailyEvery: a.Cfg.RollupDailyEvery},
		EventRetention: a.Cfg.EventRetention,
		StalledAfter:   a.Cfg.StalledAfter,
		Traces:         a.Traces,
		SMTP:           a.Cfg.SMTP,
		Signer:         a.linkSigner(),
		PublicURL:      a.Cfg.PublicURL,
		LLM:            a.Cfg.LLM,
		Research:       a.Cfg.Research,
		Airtable:       a.Cfg.Airtable,
	}
}

// replicaLag reports how far the read replica's replay is behind: 0 when
// it has replayed all it received (an idle primary sends nothing, and
// the time since the last replayed transaction is no lag), -1 when it
// cannot be asked or is not streaming from the primary.
func replicaLag(pool *pgxpool.Pool) prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "groundwork_db_replica_lag_seconds",
		Help: "Replay lag of the DATABASE_READ_URL replica (-1: unreachable)."}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		var lag float64
		// A replica whose WAL receiver is not streaming is as bad as an
		// unreachable one: its replay would look caught up.
		err := pool.QueryRow(ctx, `SELECT CASE
			WHEN pg_is_in_recovery() AND NOT EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') THEN -1
			WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
			ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0) END::float8`).Scan(&lag)
		if err != nil {
			return -1
		}
		return lag
	})
}
