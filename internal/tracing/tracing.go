// Package tracing sets up OpenTelemetry traces: an OTLP/HTTP exporter when
// an endpoint is configured (the standard OTEL_EXPORTER_OTLP_* variables),
// and a provider that records nothing otherwise. The provider is passed to
// each instrumented part rather than set globally, so two stacks in one
// test process keep their traces apart.
package tracing

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Propagator carries trace context in W3C traceparent and baggage headers,
// over HTTP and in Temporal's workflow and activity headers.
var Propagator propagation.TextMapPropagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// Provider is a process's tracer provider and how to stop it.
type Provider struct {
	trace.TracerProvider
	sdk *sdktrace.TracerProvider
}

// Options configures New.
type Options struct {
	// Endpoint is the OTLP/HTTP traces URL (…/v1/traces); empty: tracing off.
	Endpoint string
	// Service is the service.name unless OTEL_SERVICE_NAME sets one.
	Service string
	// BatchTimeout is how long spans wait to be sent (0: the SDK's 5 s).
	BatchTimeout time.Duration
}

// New returns the provider o asks for.
func New(ctx context.Context, o Options) (*Provider, error) {
	if o.Endpoint == "" {
		return &Provider{TracerProvider: noop.NewTracerProvider()}, nil
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(o.Endpoint))
	if err != nil {
		return nil, fmt.Errorf("otlp trace exporter: %w", err)
	}
	// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override the default.
	res, err := resource.Merge(resource.NewSchemaless(semconv.ServiceName(o.Service)), resource.Environment())
	if err != nil {
		return nil, fmt.Errorf("trace resource: %w", err)
	}
	var bopts []sdktrace.BatchSpanProcessorOption
	if o.BatchTimeout > 0 {
		bopts = append(bopts, sdktrace.WithBatchTimeout(o.BatchTimeout))
	}
	// The sampler honours OTEL_TRACES_SAMPLER through the SDK's default
	// (parent-based, always on).
	sdk := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp, bopts...), sdktrace.WithResource(res))
	return &Provider{TracerProvider: sdk, sdk: sdk}, nil
}

// Enabled reports whether spans are exported.
func (p *Provider) Enabled() bool { return p != nil && p.sdk != nil }

// Flush sends the spans waiting in the batch.
func (p *Provider) Flush(ctx context.Context) error {
	if !p.Enabled() {
		return nil
	}
	return p.sdk.ForceFlush(ctx)
}

// Shutdown flushes and stops the exporter.
func (p *Provider) Shutdown(ctx context.Context) error {
	if !p.Enabled() {
		return nil
	}
	return p.sdk.Shutdown(ctx)
}

// Transport wraps base (nil: http.DefaultTransport) so each outbound
// request is a client span carrying the trace to the server.
func (p *Provider) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if !p.Enabled() {
		return base
	}
	return otelhttp.NewTransport(base, otelhttp.WithTracerProvider(p), otelhttp.WithPropagators(Propagator))
}

// Handler wraps h so each request is a server span, continuing a trace
// the caller sent.
func (p *Provider) Handler(h http.Handler, operation string) http.Handler {
	if !p.Enabled() {
		return h
	}
	return otelhttp.NewHandler(h, operation, otelhttp.WithTracerProvider(p), otelhttp.WithPropagators(Propagator))
}

// LogHandler adds the trace and span IDs of the record's context to every
// line logged with one, so a log line leads to its trace.
func LogHandler(h slog.Handler) slog.Handler { return logHandler{h} }

type logHandler struct{ slog.Handler }

func (l logHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return l.Handler.Handle(ctx, r)
}

func (l logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return logHandler{l.Handler.WithAttrs(attrs)}
}

func (l logHandler) WithGroup(name string) slog.Handler { return logHandler{l.Handler.WithGroup(name)} }
