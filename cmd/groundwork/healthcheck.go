package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
)

// healthcheckTimeout bounds one probe: a container runtime runs the check
// every few seconds, so a hung dependency must fail the probe, not stall it.
const healthcheckTimeout = 2 * time.Second

// healthcheckCmd probes a Groundwork process from inside its container,
// because the distroless image has no curl or shell. By default it GETs the
// API's /healthz (or the URL given); with --temporal it checks the Temporal
// frontend named by TEMPORAL_ADDRESS, which is the worker's only network
// dependency that can be probed, since the worker serves no HTTP.
func healthcheckCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	temporal := fs.Bool("temporal", false, "check the Temporal frontend at TEMPORAL_ADDRESS instead of an HTTP URL")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: groundwork healthcheck [URL]   (default http://127.0.0.1:<port of GROUNDWORK_HTTP_ADDR>/healthz)")
		fmt.Fprintln(fs.Output(), "       groundwork healthcheck --temporal")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, healthcheckTimeout)
	defer cancel()
	if *temporal {
		if fs.NArg() > 0 {
			return errors.New("healthcheck: --temporal takes no URL")
		}
		return checkTemporal(ctx)
	}
	if fs.NArg() > 1 {
		return fmt.Errorf("healthcheck: want at most one URL, got %d arguments", fs.NArg())
	}
	target := fs.Arg(0)
	if target == "" {
		var err error
		if target, err = defaultHealthURL(os.Getenv("GROUNDWORK_HTTP_ADDR")); err != nil {
			return err
		}
	}
	return checkHTTP(ctx, target)
}

// defaultHealthURL turns the API's listen address into the URL a probe in
// the same container can reach: a wildcard host becomes loopback, so a
// changed GROUNDWORK_HTTP_ADDR port does not silently break the check.
func defaultHealthURL(addr string) (string, error) {
	if addr == "" {
		addr = ":8080"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("healthcheck: GROUNDWORK_HTTP_ADDR %q: %w", addr, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz", nil
}

// checkHTTP fails unless a GET of target answers 2xx before ctx ends.
func checkHTTP(ctx context.Context, target string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("healthcheck %s: %w", target, err)
	}
	// No proxy: the probe targets this container, and an HTTP_PROXY meant
	// for outbound calls (LLM APIs, Airtable) must not intercept it.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil
	transport.DisableKeepAlives = true
	resp, err := (&http.Client{Transport: transport}).Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck %s: %w", target, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("healthcheck %s: %s", target, resp.Status)
	}
	return nil
}

// checkTemporal dials Temporal with the same envconfig settings the worker
// uses (address, namespace, TLS, API key) and asks the frontend's gRPC
// health service whether it is serving.
func checkTemporal(ctx context.Context) error {
	opts, err := temporalOptions()
	if err != nil {
		return err
	}
	// The SDK logs dial retries to stdout by default; the probe's verdict is
	// its exit status and error, so keep its output to that one line.
	opts.Logger = sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))
	addr := opts.HostPort
	if addr == "" {
		addr = client.DefaultHostPort
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return fmt.Errorf("healthcheck: connect to temporal at %s: %w", addr, err)
	}
	defer c.Close()
	if _, err := c.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		return fmt.Errorf("healthcheck: temporal at %s: %w", addr, err)
	}
	return nil
}
