package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/groundwork-dev/groundwork/internal/render"
)

// ReportResult is the report scenario: one 20-page report rendered alone,
// end to end through the API, and as HTML printed by headless Chromium.
type ReportResult struct {
	Iterations int      `json:"iterations"`
	Pages      int      `json:"pages"`
	PDFBytes   int      `json:"pdf_bytes"`
	RenderPDF  Summary  `json:"render_pdf"`
	RenderDOCX Summary  `json:"render_docx"`
	EndToEnd   Summary  `json:"end_to_end_pdf"`
	Chromium   *Summary `json:"chromium_print_to_pdf,omitempty"`
	// ChromiumOverRender is Chromium's p50 over the PDF renderer's p50.
	ChromiumOverRender float64 `json:"chromium_over_render_p50,omitempty"`
	ChromiumNote       string  `json:"chromium_note,omitempty"`
}

// runReport measures the report scenario.
func runReport(ctx context.Context, e *env, o options) (*Results, error) {
	doc := reportDocument()
	if errs := doc.Validate("document", 10); len(errs) > 0 {
		return nil, fmt.Errorf("benchmark report is invalid: %v", errs)
	}
	res := &ReportResult{Iterations: o.iterations}

	logf("rendering the report %d times in process…", o.iterations)
	pdfs, docxs := newSample("render PDF (in process)"), newSample("render DOCX (in process)")
	for range o.iterations {
		var buf bytes.Buffer
		start := time.Now()
		r, err := render.PDF(&buf, doc, render.Options{Created: time.Unix(1_800_000_000, 0)})
		addTiming(pdfs, start, err)
		res.Pages, res.PDFBytes = r.Pages, buf.Len()
		start = time.Now()
		_, err = render.DOCX(io.Discard, doc, render.Options{Created: time.Unix(1_800_000_000, 0)})
		addTiming(docxs, start, err)
	}
	res.RenderPDF, res.RenderDOCX = pdfs.summary(), docxs.summary()

	logf("exporting the report end to end %d times…", o.iterations)
	users, err := e.createUsers(ctx, "report", o.iterations)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(map[string]any{"format": "pdf", "filename": "report", "document": doc})
	if err != nil {
		return nil, err
	}
	e2e := newSample("POST → PDF downloaded")
	for _, u := range users {
		start := time.Now()
		err := exportOnce(ctx, e.api, u, body)
		addTiming(e2e, start, err)
	}
	res.EndToEnd = e2e.summary()

	if chrome, err := exec.LookPath("chromium"); err != nil {
		res.ChromiumNote = "chromium not installed (apt-get install chromium): no comparison"
	} else {
		logf("printing the report as HTML with headless Chromium %d times…", min(o.iterations, 5))
		s, err := chromiumPrint(ctx, chrome, reportHTML(doc), min(o.iterations, 5))
		if err != nil {
			res.ChromiumNote = err.Error()
		} else {
			res.Chromium = &s
			if res.RenderPDF.P50ms > 0 {
				res.ChromiumOverRender = round2(s.P50ms / res.RenderPDF.P50ms)
			}
			res.ChromiumNote = "each print starts a fresh headless Chromium, as a CLI export would"
		}
	}
	return &Results{Scenario: "report", Report: res}, nil
}

func addTiming(s *sample, start time.Time, err error) {
	r := &vegeta.Result{Latency: time.Since(start), Timestamp: start, Code: http.StatusOK}
	if err != nil {
		r.Code, r.Error = 0, err.Error()
	}
	s.add(r)
}

// callAPI makes one request (with the bearer token when set) and returns
// the body of a 2xx answer; anything else is an error quoting the answer.
func callAPI(ctx context.Context, method, url, token string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s %s: %d %.300s", method, url, resp.StatusCode, b)
	}
	return b, nil
}

// exportOnce POSTs the report, polls its run every 20 ms until it ends and
// downloads the file through its signed link.
func exportOnce(ctx context.Context, api string, u user, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	link, err := exportUntilDone(ctx, api, u, body, 20*time.Millisecond)
	if err != nil {
		return err
	}
	_, err = callAPI(ctx, http.MethodGet, link, "", nil)
	return err
}

// exportUntilDone POSTs an export and polls its run every poll until it
// ended; it returns the succeeded run's signed download link.
func exportUntilDone(ctx context.Context, api string, u user, body []byte, poll time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	b, err := callAPI(ctx, http.MethodPost, api+"/v1/exports", u.Token, body)
	if err != nil {
		return "", err
	}
	id, err := runID(b)
	if err != nil {
		return "", err
	}
	for {
		b, err := callAPI(ctx, http.MethodGet, api+"/v1/runs/"+id, u.Token, nil)
		if err != nil {
			return "", err
		}
		var run struct {
			Status string `json:"status"`
			Result struct {
				DownloadURL string `json:"download_url"`
			} `json:"result"`
		}
		if err := json.Unmarshal(b, &run); err != nil {
			return "", err
		}
		switch run.Status {
		case "succeeded":
			return run.Result.DownloadURL, nil
		case "failed", "canceled", "timed_out":
			return "", fmt.Errorf("run %s %s", id, run.Status)
		}
		if !sleep(ctx, poll) {
			return "", ctx.Err()
		}
	}
}

// chromiumPrint prints the HTML to PDF n times, each with a fresh
// headless Chromium, with the flags that keep it quiet on a closed network.
func chromiumPrint(ctx context.Context, chrome, page string, n int) (Summary, error) {
	dir, err := os.MkdirTemp("", "bench-chromium-")
	if err != nil {
		return Summary{}, err
	}
	defer os.RemoveAll(dir)
	in := filepath.Join(dir, "report.html")
	if err := os.WriteFile(in, []byte(page), 0o644); err != nil {
		return Summary{}, err
	}
	s := newSample("HTML → PDF (headless Chromium)")
	for i := range n {
		out := filepath.Join(dir, fmt.Sprintf("report-%d.pdf", i))
		cctx, cancel := context.WithTimeout(ctx, time.Minute)
		start := time.Now()
		cmd := exec.CommandContext(cctx, chrome, "--headless", "--no-sandbox", "--disable-gpu",
			"--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
			"--user-data-dir="+filepath.Join(dir, "profile"), "--no-pdf-header-footer",
			"--print-to-pdf="+out, "file://"+in)
		output, err := cmd.CombinedOutput()
		cancel()
		if err == nil {
			if _, serr := os.Stat(out); serr != nil {
				err = fmt.Errorf("chromium wrote no PDF: %s", output)
			}
		}
		addTiming(s, start, err)
		if err != nil {
			return s.summary(), fmt.Errorf("chromium --print-to-pdf: %w", err)
		}
	}
	return s.summary(), nil
}
