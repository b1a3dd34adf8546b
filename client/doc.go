// Package client is Groundwork's Go client: it starts runs (exports,
// research, generations, Airtable syncs), reads and lists them, cancels
// them, streams their progress over Server-Sent Events and waits for them
// to end. The `groundwork runs …` commands are built on it.
//
// A Client is made once per API and credential and is safe for concurrent
// use:
//
//	c, err := client.New("https://groundwork.example", client.WithAPIKey(os.Getenv("GROUNDWORK_TOKEN")))
//	if err != nil {
//		return err
//	}
//	run, err := c.StartExport(ctx, client.ExportRequest{
//		Format: "csv", Columns: []string{"name"}, Rows: [][]any{{"Acme"}},
//	}, client.WithIdempotencyKey("nightly-2026-12-07"))
//	if err != nil {
//		return err
//	}
//	run, err = c.WaitRun(ctx, run.ID, func(r *client.Run) {
//		fmt.Println(r.Progress.Stage, r.Progress.Percent)
//	})
//
// WaitRun follows the run's event stream, resuming it with Last-Event-ID
// when a connection breaks, and falls back to polling GET /v1/runs/{id}
// with If-None-Match when the stream cannot be had (a proxy without SSE, a
// stream limit), waiting as long as Retry-After asks on a 429 or 503.
//
// Every answer that is not a 2xx is an error wrapping a *Problem, the
// API's RFC 9457 document; switch on its Slug, which is one of the root
// package's groundwork.Slug… constants:
//
//	var p *client.Problem
//	if errors.As(err, &p) && p.Slug() == groundwork.SlugNotFound { … }
//
// The package imports the root contract (github.com/groundwork-dev/groundwork)
// and the standard library only, so any Go program can use it without
// pulling in the server.
package client
