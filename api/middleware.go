package api

import (
	"go.opentelemetry.io/otel/trace"

	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/internal/session"
)

// downloadRoute is the route of an export's file.
const downloadRoute = "/v1/exports/{id}/download"

// signedRoutes are the /v1 routes a signed link may open without a token;
// the signature covers the whole path, so a link opens only its own file.
var signedRoutes = map[string]bool{downloadRoute: true, screenshotRoute: true}

type signedExportKey struct{}

// signedExportID returns the export a valid signed link in the request
// grants, or "".
func signedExportID(ctx context.Context) string {
	id, _ := ctx.Value(signedExportKey{}).(string)
	return id
}

// authenticate resolves the bearer token (or a signed download link) to a
// principal. It does not reject: rateLimit must see anonymous callers first,
// keyed by IP, before requireAuth answers 401.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if token := bearerToken(r); token != "" {
			ip := s.clientKey(r)
			// An address that keeps failing is refused before any key
			// lookup or signature check.
			if blocked, retry := s.pre.blocked(ip, time.Now()); blocked && !s.pre.knownGood(token, time.Now()) {
				s.metrics.rateLimited.Inc()
				w.Header().Set("Retry-After", strconv.Itoa(retry))
				writeProblem(w, problem(http.StatusTooManyRequests, groundwork.SlugRateLimited,
					"too many failed authentications from your address; retry after the number of seconds in Retry-After"))
				return
			}
			s.metrics.authChecks.Inc()
			p, err := s.d.Auth.Authenticate(ctx, token, Client{UserAgent: r.UserAgent(), IP: s.clientIP(r)})
			if err == errUnauthenticated {
				s.pre.failed(ip, time.Now())
			} else if err == nil {
				s.pre.succeeded(token, time.Now())
			}
			var claimErr *claimError
			switch {
			case err == nil:
				ctx = withPrincipal(ctx, p)
			case errors.Is(err, session.ErrExpired):
				w.Header().Set("WWW-Authenticate", `Bearer realm="groundwork", error="invalid_token"`)
				writeProblem(w, problem(http.StatusUnauthorized, groundwork.SlugSessionExpired, err.Error()))
				return
			case errors.Is(err, session.ErrRevoked):
				w.Header().Set("WWW-Authenticate", `Bearer realm="groundwork", error="invalid_token"`)
				writeProblem(w, problem(http.StatusUnauthorized, groundwork.SlugSessionRevoked, err.Error()))
				return
			case errors.As(err, &claimErr):
				w.Header().Set("WWW-Authenticate", `Bearer realm="groundwork"`)
				writeProblem(w, problem(http.StatusUnauthorized, groundwork.SlugUnauthorized, claimErr.msg))
				return
			case err != errUnauthenticated:
				s.d.Log.ErrorContext(ctx, "authenticate", "error", err)
				writeProblem(w, dependencyError("postgres", err))
				return
			}
		} else if q := r.URL.Query(); q.Has("signature") && signedRoutes[chi.RouteContext(ctx).RoutePattern()] {
			if err := s.d.Signer.Verify(r.URL.Path, q, s.d.Now()); err == nil {
				ctx = context.WithValue(ctx, signedExportKey{}, chi.URLParam(r, "id"))
			} else {
				writeProblem(w, problem(http.StatusUnauthorized, groundwork.SlugLinkExpired,
					"the download link is expired or invalid; fetch the run again for a fresh one"))
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// requireAuth answers 401 for callers without a principal or signed link.
func (s *Server) requireAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := PrincipalFrom(r.Context()); !ok && signedExportID(r.Context()) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="groundwork"`)
			writeProblem(w, problem(http.StatusUnauthorized, groundwork.SlugUnauthorized, errUnauthenticated.Error()))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// recoverer turns a panic into a logged 500 problem instead of a dropped
// connection.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.d.Log.ErrorContext(r.Context(), "panic", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				writeProblem(w, internalProblem(r.Context()))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// httpMetrics are the Prometheus series of the API.
type httpMetrics struct {
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	rateLimited prometheus.Counter
	// authChecks counts tokens checked (a key lookup or a signature).
	authChecks prometheus.Counter
	// progressQueries counts workflow queries actually sent; with many
	// pollers per open run it stays far below the request count.
	progressQueries *prometheus.CounterVec
	// hookRejected counts inbound webhook messages refused, by reason;
	// nothing else of them is kept.
	hookRejected *prometheus.CounterVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	return &httpMetrics{
		requests: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "groundwork_http_requests_total",
			Help: "HTTP requests by route, method and status code.",
		}, []string{"route", "method", "code"})),
		duration: register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "groundwork_http_request_duration_seconds",
			Help:    "HTTP request latency by route and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"})),
		rateLimited: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "groundwork_http_rate_limited_total",
			Help: "Requests refused by the per-user rate limits.",
		})),
		authChecks: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "groundwork_auth_checks_total",
			Help: "Bearer tokens checked (an API key lookup or a JWT signature check).",
		})),
		progressQueries: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "groundwork_progress_queries_total",
			Help: "Progress queries sent to Temporal, by outcome (answered, closed, missing, timeout, error).",
		}, []string{"outcome"})),
		hookRejected: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "groundwork_webhook_rejected_total",
			Help: "Inbound webhook messages refused, by reason (bad_signature, stale, bad_token, no_id).",
		}, []string{"reason"})),
	}
}

// register adds c to reg, or returns the collector already registered under
// its name, so two Servers in one process (tests) share their series.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(fmt.Sprintf("register metrics: %v", err))
	}
	return c
}

// observe logs every request and records its metrics by route pattern (not
// raw path, so run IDs do not explode the series count).
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		route := chi.RouteContext(r.Context()).RoutePattern()
		if route == "" {
			route = "unmatched"
		}
		// The span started before routing knew the route.
		trace.SpanFromContext(r.Context()).SetName(r.Method + " " + route)
		code := ww.Status()
		if code == 0 {
			code = http.StatusOK
		}
		elapsed := time.Since(start)
		s.metrics.requests.WithLabelValues(route, r.Method, strconv.Itoa(code)).Inc()
		s.metrics.duration.WithLabelValues(route, r.Method).Observe(elapsed.Seconds())
		attrs := []any{
			"method", r.Method, "route", route, "status", code,
			"duration_ms", float64(elapsed.Microseconds()) / 1000,
		}
		if cause := failureOf(r.Context()); cause != "" {
			attrs = append(attrs, "error", cause)
		}
		if id := chi.URLParam(r, "id"); id != "" {
			attrs = append(attrs, "run_id", id)
		}
		if p, ok := PrincipalFrom(r.Context()); ok {
			attrs = append(attrs, "user_id", p.UserID)
		}
		if code >= 500 {
			s.d.Log.ErrorContext(r.Context(), "http request", attrs...)
		} else {
			s.d.Log.InfoContext(r.Context(), "http request", attrs...)
		}
	})
}

// preLimitIP applies the per-IP pre-limit.
func (s *Server) preLimitIP(next http.Handler) http.Handler {
	if s.pre.perIP == nil {
		return next
	}
	return s.pre.perIP.Handler(next)
}
