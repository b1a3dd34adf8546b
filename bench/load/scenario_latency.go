package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"time"

	"github.com/oklog/ulid/v2"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/groundwork-dev/groundwork/bench/internal/benchstack"
	"github.com/groundwork-dev/groundwork/internal/config"
	"github.com/groundwork-dev/groundwork/internal/render"
	"github.com/groundwork-dev/groundwork/internal/testkit/testsite"
)

// The latency scenario's raw baseline: one workflow with one no-op
// activity on a queue of its own, polled by a worker in this process with
// Groundwork's pollers, started eagerly as `groundwork dev` starts runs.
const (
	latencyRawWorkflow = "BenchLatencyRaw"
	latencyRawActivity = "BenchLatencyNoop"
	latencyRawQueue    = "bench-latency-raw"
	// latencyPoll is how often the trivial run's client polls: fine
	// enough that the poll interval adds little to what is measured.
	latencyPoll = 10 * time.Millisecond
	// latencyThink is the most a client waits between two runs, so runs
	// do not line up with the server's timers.
	latencyThink = 250 * time.Millisecond
	// leanBar is the trivial run's p50 over the raw baseline's at most.
	leanBar = 1.3
	// latencyUsers take turns starting the measured runs.
	latencyUsers = 10
)

// LatencyResult is the latency scenario: what a user waits for, each
// against its raw baseline or floor, measured in one run.
type LatencyResult struct {
	Iterations int `json:"iterations"`
	// Trivial is a one-row CSV export from POST to the first poll that
	// shows it succeeded (10 ms polls).
	Trivial Summary `json:"trivial_run"`
	// TrivialWait is the same export in one request with Prefer: wait=10.
	TrivialWait Summary `json:"trivial_run_prefer_wait"`
	// Raw is a raw Temporal workflow with one no-op activity, the client
	// waiting on its result.
	Raw Summary `json:"raw_one_activity_workflow"`
	// TrivialOverRaw is Trivial's p50 over Raw's.
	TrivialOverRaw float64 `json:"trivial_over_raw_p50"`
	// PDF is the 20-page report exported from POST to the first poll that
	// shows it succeeded; PDFRender the same render in this process.
	PDF           Summary `json:"report_pdf"`
	PDFRender     Summary `json:"report_pdf_render_in_process"`
	PDFOverRender float64 `json:"report_pdf_over_render_p50"`
	// Research is the 20-page test site researched at the product's
	// default politeness (1 request/s per domain), against its floor:
	// domain requests ÷ rate, plus the summary.
	Research []ResearchRun `json:"research,omitempty"`
	// ResearchOverFloor is the worst research's time before its summary
	// over its requests ÷ rate.
	ResearchOverFloor float64 `json:"research_over_floor,omitempty"`
	Pass              bool    `json:"pass"`
	Criteria          string  `json:"criteria"`
	PollerSettings    string  `json:"poller_settings"`
}

// runLatency measures the latency scenario: rounds of the trivial run, the
// same with Prefer: wait, and the raw baseline, interleaved so that all
// three see the same machine; then the 20-page PDF against its render.
func runLatency(ctx context.Context, e *env, o options, st *benchstack.Stack) (*Results, error) {
	n := o.iterations
	res := &LatencyResult{Iterations: n,
		PollerSettings: fmt.Sprintf("%d workflow and %d activity task pollers, eager workflow start", config.DefaultPollers, config.DefaultPollers)}

	w := sdkworker.New(e.temporal, latencyRawQueue, sdkworker.Options{
		MaxConcurrentWorkflowTaskPollers: config.DefaultPollers,
		MaxConcurrentActivityTaskPollers: config.DefaultPollers,
	})
	w.RegisterWorkflowWithOptions(latencyRaw, workflow.RegisterOptions{Name: latencyRawWorkflow})
	w.RegisterActivityWithOptions(func(context.Context) error { return nil }, activity.RegisterOptions{Name: latencyRawActivity})
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("raw baseline worker: %w", err)
	}
	defer w.Stop()

	// A few users taking turns, each signed in once before it is timed,
	// as a frontend's users are: a key's first use records it (a write the
	// steady state does not pay). The stack's per-user limits are raised,
	// as 10 ms polls would pass them.
	pdfN := max(3, n/10)
	users, err := e.createUsers(ctx, "latency", latencyUsers)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if _, err := callAPI(ctx, http.MethodGet, e.api+"/v1/runs?limit=1", u.Token, nil); err != nil {
			return nil, fmt.Errorf("sign in user %s: %w", u.ID, err)
		}
	}
	userAt := func(i int) user { return users[i%len(users)] }
	trivial := []byte(`{"format":"csv","filename":"one","columns":["name"],"rows":[["Acme"]]}`)
	triv, waited, raw := newSample("one-row CSV: POST → poll shows succeeded"), newSample("one-row CSV: POST with Prefer: wait=10"), newSample("raw workflow, one no-op activity")

	// Warm every path once, unmeasured: the first run pays connection
	// setup and the SDK's caches.
	if _, err := exportUntilDone(ctx, e.api, userAt(0), trivial, latencyPoll); err != nil {
		return nil, fmt.Errorf("warm-up export: %w", err)
	}
	if err := rawOnce(ctx, e.temporal); err != nil {
		return nil, fmt.Errorf("warm-up raw workflow: %w", err)
	}

	logf("latency: %d rounds of trivial run, trivial run with Prefer: wait, raw workflow…", n)
	for i := range n {
		if !sleep(ctx, rand.N(latencyThink)) {
			break
		}
		start := time.Now()
		_, err := exportUntilDone(ctx, e.api, userAt(i), trivial, latencyPoll)
		addTiming(triv, start, err)

		if !sleep(ctx, rand.N(latencyThink)) {
			break
		}
		start = time.Now()
		err = waitOnce(ctx, e.api, userAt(i+1), trivial)
		addTiming(waited, start, err)

		if !sleep(ctx, rand.N(latencyThink)) {
			break
		}
		start = time.Now()
		addTiming(raw, start, rawOnce(ctx, e.temporal))
	}
	res.Trivial, res.TrivialWait, res.Raw = triv.summary(), waited.summary(), raw.summary()
	if res.Raw.P50ms > 0 {
		res.TrivialOverRaw = round2(res.Trivial.P50ms / res.Raw.P50ms)
	}

	doc := reportDocument()
	report, err := json.Marshal(map[string]any{"format": "pdf", "filename": "report", "document": doc})
	if err != nil {
		return nil, err
	}
	logf("latency: the 20-page PDF, %d times through the API and in process…", pdfN)
	pdf, renderIn := newSample("20-page PDF: POST → poll shows succeeded"), newSample("20-page PDF rendered in process")
	for i := range pdfN {
		start := time.Now()
		_, err := exportUntilDone(ctx, e.api, userAt(i), report, latencyPoll)
		addTiming(pdf, start, err)
		start = time.Now()
		_, err = render.PDF(io.Discard, doc, render.Options{Created: time.Unix(1_800_000_000, 0)})
		addTiming(renderIn, start, err)
	}
	res.PDF, res.PDFRender = pdf.summary(), renderIn.summary()
	if res.PDFRender.P50ms > 0 {
		res.PDFOverRender = round2(res.PDF.P50ms / res.PDFRender.P50ms)
	}

	researchOK := true
	if o.latencyResearch > 0 {
		site := testsite.New(testsite.Options{Pages: researchPages, RenderDelay: o.renderDelay, APIDelay: o.pageDelay})
		defer site.Close()
		ours := []int{os.Getpid()}
		if pid := st.PostgresPID(); pid > 0 {
			ours = append(ours, pid)
		}
		rate := config.DefaultResearchDomainRate
		for i := range o.latencyResearch {
			logf("latency: research of the %d-page test site at %g request/s per domain, %d/%d…", researchPages, rate, i+1, o.latencyResearch)
			r := researchOnce(ctx, e.api, st.APIPID(), ours, userAt(i), site, researchPages)
			if r.DomainRequests > 0 {
				r.FloorRatio = round2((r.Seconds - r.SummaryS) / (float64(r.DomainRequests) / rate))
			}
			res.ResearchOverFloor = max(res.ResearchOverFloor, r.FloorRatio)
			researchOK = researchOK && r.ok() && r.FloorRatio > 0 && r.FloorRatio <= researchFloorBar
			res.Research = append(res.Research, r)
		}
	}

	res.Criteria = fmt.Sprintf("trivial run p50 ≤ %.1f × the raw one-activity workflow's p50, no errors", leanBar)
	if o.latencyResearch > 0 {
		res.Criteria += fmt.Sprintf("; research before its summary ≤ %.1f × its domain requests ÷ the rate", researchFloorBar)
	}
	res.Pass = res.TrivialOverRaw > 0 && res.TrivialOverRaw <= leanBar && researchOK &&
		res.Trivial.Errors == 0 && res.TrivialWait.Errors == 0 && res.Raw.Errors == 0 && res.PDF.Errors == 0
	return &Results{Scenario: "latency", Latency: res}, nil
}

// latencyRaw is the raw baseline's workflow: one activity, nothing else.
func latencyRaw(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	return workflow.ExecuteActivity(ctx, latencyRawActivity).Get(ctx, nil)
}

// rawOnce starts the raw workflow eagerly and waits on its result.
func rawOnce(ctx context.Context, c client.Client) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:               "bench-latency-" + ulid.Make().String(),
		TaskQueue:        latencyRawQueue,
		EnableEagerStart: true,
	}, latencyRawWorkflow)
	if err != nil {
		return fmt.Errorf("start raw workflow: %w", err)
	}
	return run.Get(ctx, nil)
}

// waitOnce POSTs a run with Prefer: wait=10 and expects its 200.
func waitOnce(ctx context.Context, api string, u user, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, api+"/v1/exports", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+u.Token)
	req.Header.Set("Prefer", "wait=10")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var run struct {
		Status string `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&run); err != nil {
		return fmt.Errorf("decode the answer (%d): %w", resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK || run.Status != "succeeded" {
		return fmt.Errorf("with Prefer: wait=10 the API answered %d, the run %s", resp.StatusCode, run.Status)
	}
	return nil
}

func printLatency(w io.Writer, r *LatencyResult) {
	fmt.Fprintf(w, "%d rounds, 0–%s think time, %s polls; %s\n\n", r.Iterations, latencyThink, latencyPoll, r.PollerSettings)
	tw := table(w, "what")
	row(tw, "one-row CSV export: POST → poll shows succeeded", r.Trivial)
	row(tw, "one-row CSV export: POST with Prefer: wait=10 → 200", r.TrivialWait)
	row(tw, "raw Temporal workflow, one no-op activity", r.Raw)
	row(tw, "20-page PDF: POST → poll shows succeeded", r.PDF)
	row(tw, "20-page PDF rendered in process (floor)", r.PDFRender)
	_ = tw.Flush()
	fmt.Fprintf(w, "\ntrivial run p50 / raw p50: ×%.2f; PDF run p50 / render p50: ×%.2f\n", r.TrivialOverRaw, r.PDFOverRender)
	for i, rr := range r.Research {
		fmt.Fprintf(w, "research %d: %s in %.2f s (summary %.2f s), %d domain requests at 1/s: ×%.2f the floor, %d pages ok\n",
			i+1, rr.Status, rr.Seconds, rr.SummaryS, rr.DomainRequests, rr.FloorRatio, rr.PagesOK)
	}
	verdict := "FAIL"
	if r.Pass {
		verdict = "pass"
	}
	fmt.Fprintf(w, "%s: %s\n", verdict, r.Criteria)
}
