// Package api is Groundwork's HTTP API: a chi router with huma operations
// (typed handlers, validation, RFC 9457 errors, an OpenAPI 3.1 document
// generated from the Go types), authentication, per-user rate limits,
// health and metrics. It never runs work itself: it starts, queries and
// cancels workflows and reads what they recorded in Postgres.
package api

import (
	"cmp"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/netip"
	"reflect"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/cors"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
	"gocloud.dev/blob"
	"golang.org/x/sync/singleflight"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/config"
	"github.com/groundwork-dev/groundwork/internal/document"
	"github.com/groundwork-dev/groundwork/internal/secretbox"
	"github.com/groundwork-dev/groundwork/internal/signedurl"
	"github.com/groundwork-dev/groundwork/internal/ssrf"
	"github.com/groundwork-dev/groundwork/internal/tracing"
)

// Deps are what the API needs to serve.
type Deps struct {
	// Traces makes each request a span (nil or off: none).
	Traces   *tracing.Provider
	Pool     *pgxpool.Pool
	Temporal client.Client
	Bucket   *blob.Bucket
	Signer   *signedurl.Signer
	Auth     *Authenticator
	Log      *slog.Logger
	// Registry receives the HTTP metrics; the process serves them on its
	// metrics listener (GROUNDWORK_METRICS_ADDR), not on the API's port.
	Registry prometheus.Registerer
	// PublicURL is the API's external base URL, used in download links.
	PublicURL     string
	CORSOrigins   []string
	RatePerSecond int
	RatePerMinute int
	// EagerStart asks Temporal to hand the first workflow task to a worker
	// in this process (only useful in `groundwork dev`).
	EagerStart bool
	// QuotaBytes caps each user's unexpired exports (0: no quota).
	QuotaBytes int64
	// LLMProviders names the configured LLM providers; none turns
	// generation off (503 no_llm_provider).
	LLMProviders []groundwork.LLMProvider
	// MaxStreamsPerUser caps a user's open event streams on this process
	// (0: config.DefaultMaxStreamsPerUser).
	MaxStreamsPerUser int
	// MaxOpenRuns caps a user's unfinished runs (0: config.DefaultMaxOpenRuns).
	MaxOpenRuns int
	// SignedRatePerSecond and SignedRatePerMinute limit each signed link.
	SignedRatePerSecond, SignedRatePerMinute int
	// IPRatePerSecond is the cheap per-process limit by client IP before
	// authentication (0: none).
	IPRatePerSecond int
	// AuthFailuresPerMinute failed authentications from one IP make it
	// refused (429) until the minute ends (0: no limit).
	AuthFailuresPerMinute int
	// TrustedProxies are the proxies whose X-Forwarded-For names the client.
	TrustedProxies []netip.Prefix
	// MonthlyTokenBudget is each user's LLM tokens per UTC month (0: none).
	MonthlyTokenBudget int64
	// ResearchPolicy decides which research URLs are refused at the edge.
	ResearchPolicy ssrf.Policy
	// AirtableTables are the tables the operator opened for syncing in
	// the configuration (GROUNDWORK_AIRTABLE_TABLES).
	AirtableTables []groundwork.SyncTable
	// AirtableBases are the bases the worker's AIRTABLE_TOKEN may be used
	// for (GROUNDWORK_AIRTABLE_BASES).
	AirtableBases []string
	// Secrets seals mappings' own Airtable tokens.
	Secrets *secretbox.Box
	// ReadPool serves analytics reads: a replica (DATABASE_READ_URL), or
	// Pool when nil.
	ReadPool *pgxpool.Pool
	// EventRetention is how long tracked events are kept; older ones are
	// refused (0: config.DefaultEventRetention).
	EventRetention time.Duration
	// StalledAfter is how long without an event makes a customer stalled
	// (0: config.DefaultStalledAfter).
	StalledAfter time.Duration
	// AnalyticsStreamEvery is the least time between two overviews pushed
	// on the analytics stream (0: config.DefaultAnalyticsStreamEvery).
	AnalyticsStreamEvery time.Duration
	// TemporalUIURL and TemporalNamespace build dead letters' links to the
	// Temporal Web UI.
	TemporalUIURL, TemporalNamespace string
	// ProgressPoll is how often an SSE stream re-reads an open run.
	ProgressPoll time.Duration
	// Now is the clock; tests replace it.
	Now func() time.Time
}

// Server is the HTTP API.
type Server struct {
	d      Deps
	q      *sqlc.Queries
	router chi.Router
	// handler is the router inside the tracing middleware.
	handler http.Handler
	// inboundStarts bounds the inbound actions started after answering.
	inboundStarts chan struct{}
	api           huma.API
	live1         singleflight.Group
	metrics       *httpMetrics
	// pre limits by client IP before authentication.
	pre *preLimit
	// watch follows the runs event streams are open on.
	watch watches
	// streams counts each user's open event streams.
	streamsMu sync.Mutex
	streams   map[string]int
}

var setHumaErrorOnce sync.Once

// New builds the router and registers every route.
func New(d Deps) *Server {
	if d.Now == nil {
		d.Now = time.Now
	}
	d.MaxStreamsPerUser = cmp.Or(max(d.MaxStreamsPerUser, 0), config.DefaultMaxStreamsPerUser)
	d.MaxOpenRuns = cmp.Or(max(d.MaxOpenRuns, 0), config.DefaultMaxOpenRuns)
	d.EventRetention = cmp.Or(max(d.EventRetention, 0), config.DefaultEventRetention)
	d.StalledAfter = cmp.Or(max(d.StalledAfter, 0), config.DefaultStalledAfter)
	d.AnalyticsStreamEvery = cmp.Or(max(d.AnalyticsStreamEvery, 0), config.DefaultAnalyticsStreamEvery)
	d.TemporalUIURL = cmp.Or(d.TemporalUIURL, config.DefaultTemporalUIURL)
	d.TemporalNamespace = cmp.Or(d.TemporalNamespace, "default")
	if d.ReadPool == nil {
		d.ReadPool = d.Pool
	}
	if d.ProgressPoll <= 0 {
		d.ProgressPoll = config.DefaultProgressPoll
	}
	if d.Registry == nil {
		reg := prometheus.NewRegistry()
		d.Registry = reg
	}
	setHumaErrorOnce.Do(func() {
		// Lists are sent as [] when empty, never null: say so, or every
		// generated client must null-check every array.
		huma.DefaultArrayNullable = false
		huma.NewError = newHumaError
		huma.NewErrorWithContext = newHumaErrorWithContext
	})
	if d.Log == nil {
		d.Log = slog.Default()
	}
	d.Log = slog.New(withRequestID{d.Log.Handler()})

	s := &Server{d: d, q: sqlc.New(d.Pool), metrics: newHTTPMetrics(d.Registry), inboundStarts: make(chan struct{}, inboundStartsAtOnce)}
	s.pre = newPreLimit(d.IPRatePerSecond, d.AuthFailuresPerMinute, s.clientKey, func(w http.ResponseWriter, _ *http.Request) {
		s.metrics.rateLimited.Inc()
		writeProblem(w, problem(http.StatusTooManyRequests, groundwork.SlugRateLimited,
			"too many requests from your address; retry after the number of seconds in Retry-After"))
	})
	r := chi.NewRouter()
	// No RealIP: trusting X-Forwarded-For would let a caller pick the IP
	// its anonymous rate limit is counted against.
	r.Use(requestID, s.recoverer, s.observe)
	if len(d.CORSOrigins) > 0 {
		r.Use(cors.Handler(cors.Options{
			AllowedOrigins: d.CORSOrigins,
			// Every method the API serves, so the frontend can replace and
			// delete mappings, keys and sessions.
			AllowedMethods: []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions},
			AllowedHeaders: []string{"Authorization", "Content-Type", "Idempotency-Key", "Last-Event-ID", "If-None-Match", "Range"},
			// What a script needs to read: downloads' name and validator,
			// a new run's location, and when to retry.
			ExposedHeaders: []string{"Content-Disposition", "ETag", "Location", "Retry-After", "X-Request-ID",
				"RateLimit", "RateLimit-Policy", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"},
			AllowCredentials: false,
			MaxAge:           600,
		}))
	}
	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)

	cfg := huma.DefaultConfig("Groundwork API", "1.0.0")
	cfg.Info.Description = "Durable jobs for the sales-enablement platform: start runs, follow their progress, download their files."
	cfg.OpenAPIPath, cfg.DocsPath, cfg.SchemasPath = "", "", ""
	// No "$schema" links in responses: the contract in API.md has none.
	cfg.CreateHooks = nil
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer", Description: "An API key (gw_…) or a JWT from the platform's auth provider."},
	}
	cfg.Security = []map[string][]string{{"bearer": {}}}
	// A cell is any JSON scalar; document.Export.Validate names the bad
	// ones more clearly than a oneOf schema error would.
	cfg.Components.Schemas.RegisterTypeAlias(reflect.TypeFor[document.Cell](), reflect.TypeFor[any]())
	// A list item is a string, a kv item a {key, value} object: one Go type,
	// checked by Document.Validate.
	cfg.Components.Schemas.RegisterTypeAlias(reflect.TypeFor[document.Item](), reflect.TypeFor[any]())

	r.Group(func(g chi.Router) {
		g.Use(s.preLimitIP, s.authenticate, s.rateLimit(), s.requireAuth, guardBody, etag)
		s.api = humachi.New(g, cfg)
		s.registerRuns()
		s.registerExports()
		s.registerGenerations()
		s.registerUsage()
		s.registerResearch()
		s.registerAirtable()
		s.registerAPIKeys()
		s.registerSessions()
		s.registerCustomers()
		s.registerTracking()
		s.registerMilestones()
		s.registerProgress()
		s.registerAssessments()
		s.registerAnalytics()
		s.registerWebhooks()
		s.registerWebhookSources()
		s.registerDeadLetters()
		s.registerNotifications()
		documentContract(s.api.OpenAPI())
	})
	r.Get("/openapi.json", s.openAPI)
	// Public: a static page; everything it shows comes from the API with
	// the key its user types in.
	con, err := newConsole(d.TemporalUIURL, d.TemporalNamespace)
	if err != nil {
		panic(err) // the page is embedded: only a broken build gets here
	}
	r.With(s.preLimitIP).Group(con.routes)
	// Public: a message is taken only when signed by the source's secret.
	r.With(s.preLimitIP).Post("/hooks/{source_id}", s.receiveHook)
	// Public: only with the signature of an e-mail's link.
	r.With(s.preLimitIP).Get("/unsubscribe/{user}", s.unsubscribe)
	r.With(s.preLimitIP).Post("/unsubscribe/{user}", s.unsubscribe)
	r.With(s.preLimitIP).Get("/notifications/confirm/{user}/{email}", s.confirmAddress)
	r.With(s.preLimitIP).Post("/notifications/confirm/{user}/{email}", s.confirmAddress)
	r.NotFound(func(w http.ResponseWriter, _ *http.Request) {
		writeProblem(w, problem(http.StatusNotFound, groundwork.SlugNotFound, "no such route"))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, _ *http.Request) {
		writeProblem(w, problem(http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed on this route"))
	})
	s.router = r
	s.handler = d.Traces.Handler(r, "groundwork-api")
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Router exposes the chi router, so tests can walk its routes.
func (s *Server) Router() chi.Router { return s.router }

// OpenAPI is the generated OpenAPI 3.1 document.
func (s *Server) OpenAPI() *huma.OpenAPI { return s.api.OpenAPI() }

func (s *Server) openAPI(w http.ResponseWriter, _ *http.Request) {
	b, err := json.Marshal(s.api.OpenAPI())
	if err != nil {
		writeProblem(w, problem(http.StatusInternalServerError, groundwork.SlugInternal, "cannot render the OpenAPI document"))
		return
	}
	w.Header().Set("Content-Type", "application/vnd.oai.openapi+json;version=3.1")
	_, _ = w.Write(b)
}
