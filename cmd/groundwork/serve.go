package main

import (
	"context"
	"fmt"
	"net"
	"os"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	"golang.org/x/sync/errgroup"

	"github.com/groundwork-dev/groundwork/cmd/groundwork/app"
	"github.com/groundwork-dev/groundwork/internal/config"
)

// temporalOptions reads TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS and API
// key settings with the SDK's own envconfig loader.
func temporalOptions() (client.Options, error) {
	opts, err := envconfig.LoadDefaultClientOptions()
	if err != nil {
		return client.Options{}, fmt.Errorf("temporal client settings: %w", err)
	}
	return opts, nil
}

func openApp(ctx context.Context, role config.Role) (*app.App, error) {
	cfg, err := config.Load(os.Getenv, role)
	if err != nil {
		return nil, err
	}
	log := app.NewLogger(cfg)
	topts, err := temporalOptions()
	if err != nil {
		return nil, err
	}
	return app.Open(ctx, cfg, log, topts)
}

func apiCmd(ctx context.Context, args []string) error {
	role, err := serveRole("api", config.RoleAPI, args)
	if err != nil {
		return err
	}
	a, err := openApp(ctx, role)
	if err != nil {
		return err
	}
	defer a.Close()
	l, err := net.Listen("tcp", a.Cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on GROUNDWORK_HTTP_ADDR %s: %w", a.Cfg.HTTPAddr, err)
	}
	return withMetrics(ctx, a, func(ctx context.Context) error { return a.ServeAPI(ctx, l) })
}

func workerCmd(ctx context.Context, args []string) error {
	role, err := serveRole("worker", config.RoleWorker, args)
	if err != nil {
		return err
	}
	a, err := openApp(ctx, role)
	if err != nil {
		return err
	}
	defer a.Close()
	return withMetrics(ctx, a, a.RunWorker)
}

// withMetrics runs serve beside the process's metrics listener
// (GROUNDWORK_METRICS_ADDR) until ctx is done or either fails.
func withMetrics(ctx context.Context, a *app.App, serve func(context.Context) error) error {
	ml, err := net.Listen("tcp", a.Cfg.MetricsAddr)
	if err != nil {
		return fmt.Errorf("listen on GROUNDWORK_METRICS_ADDR %s: %w", a.Cfg.MetricsAddr, err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.ServeMetrics(gctx, ml) })
	g.Go(func() error { return serve(gctx) })
	return g.Wait()
}

// serveBoth runs the API and the worker of one App until ctx is done or
// either fails.
func serveBoth(ctx context.Context, a *app.App) error {
	l, err := net.Listen("tcp", a.Cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on GROUNDWORK_HTTP_ADDR %s: %w", a.Cfg.HTTPAddr, err)
	}
	return withMetrics(ctx, a, func(ctx context.Context) error {
		g, gctx := errgroup.WithContext(ctx)
		g.Go(func() error { return a.ServeAPI(gctx, l) })
		g.Go(func() error { return a.RunWorker(gctx) })
		return g.Wait()
	})
}
