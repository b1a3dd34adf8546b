package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/client"
)

// Example starts a CSV export, follows its progress until it ends and
// prints its download link.
func Example() {
	ctx := context.Background()
	c, err := client.New("http://localhost:8080", client.WithAPIKey(os.Getenv("GROUNDWORK_TOKEN")))
	if err != nil {
		log.Fatal(err)
	}
	run, err := c.StartExport(ctx, client.ExportRequest{
		Format:   "csv",
		Filename: "accounts",
		Columns:  []string{"name", "seats"},
		Rows:     [][]any{{"Acme", 120}, {"Globex", 45}},
	}, client.WithIdempotencyKey("accounts-2026-12-07"))
	var p *client.Problem
	switch {
	case errors.As(err, &p) && p.Slug() == groundwork.SlugValidation:
		for _, f := range p.Errors {
			fmt.Println("invalid:", f.Field, f.Message)
		}
		return
	case err != nil:
		log.Fatal(err)
	}
	run, err = c.WaitRun(ctx, run.ID, func(r *client.Run) {
		fmt.Printf("%s %d%%\n", r.Progress.Stage, r.Progress.Percent)
	})
	if err != nil {
		log.Fatal(err)
	}
	if run.Status != groundwork.RunSucceeded {
		log.Fatalf("export %s: %+v", run.Status, run.Error)
	}
	fmt.Println(run.Result["download_url"])
}

// ExampleClient_Events reads a run's event stream by hand, resuming after
// the last event seen when the connection breaks.
func ExampleClient_Events() {
	ctx := context.Background()
	c, err := client.New("http://localhost:8080", client.WithAPIKey(os.Getenv("GROUNDWORK_TOKEN")))
	if err != nil {
		log.Fatal(err)
	}
	last := ""
	for {
		s, err := c.Events(ctx, "export-01JD4X7Q2W6ZC5D3V9N8K1M2P3", last)
		if err != nil {
			log.Fatal(err)
		}
		for {
			ev, err := s.Next()
			if err != nil {
				break // reconnect below
			}
			if ev.Type == client.EventDone {
				_ = s.Close()
				fmt.Println("ended:", ev.Run.Status)
				return
			}
			if ev.Run != nil {
				fmt.Println(ev.Run.Progress.Message)
			}
		}
		last = s.LastEventID()
		_ = s.Close()
	}
}

// ExampleClient_Runs walks every page of the caller's failed exports.
func ExampleClient_Runs() {
	c, err := client.New("http://localhost:8080", client.WithAPIKey(os.Getenv("GROUNDWORK_TOKEN")))
	if err != nil {
		log.Fatal(err)
	}
	opts := client.ListOptions{Kind: string(groundwork.KindExport), Status: groundwork.RunFailed, Limit: 100}
	for run, err := range c.Runs(context.Background(), opts) {
		if err != nil {
			log.Fatal(err)
		}
		if run.Error != nil {
			fmt.Println(run.ID, run.Error.Type)
		}
	}
}
