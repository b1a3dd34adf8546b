package test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/groundwork-dev/groundwork/internal/testkit/testenv"
)

// TestConsole drives the console at /console in Debian's Chromium as a
// developer would: a wrong key is refused, a real key signs in, a CSV
// export started from the form is followed live to succeeded, and its
// download link gives the file with the rows typed in. The page must run
// without a console error (a CSP violation shows as one). Screenshots go
// to GROUNDWORK_SCREENSHOTS when set (make screenshots: docs/images).
func TestConsole(t *testing.T) {
	s := sharedStack(t)
	user := s.newUser(t, "console-user")
	chrome, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed: run make test-deps")
	}

	// The bundle in the binary is the one clients/console builds.
	check := exec.Command("npm", "run", "check-bundle", "--silent")
	check.Dir = filepath.Join(testenv.RepoRoot(), "clients", "console")
	if out, err := check.CombinedOutput(); err != nil {
		t.Fatalf("console bundle: %v\n%s", err, out)
	}

	shots := os.Getenv("GROUNDWORK_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 860),
		chromedp.Flag("disable-dev-shm-usage", true),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	tab, cancelTab := chromedp.NewContext(allocCtx)
	defer cancelTab()
	// The browser lives as long as the context of its first call: start it
	// without a deadline, then bound the steps.
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancel := context.WithTimeout(tab, 2*time.Minute)
	defer cancel()

	// Every console message of the page, read while the steps run. The
	// refused key's 401 is the one error expected.
	var (
		mu       sync.Mutex
		problems []string
	)
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || (m.Type == chromedp.ConsoleError && !strings.Contains(m.Text, "401")) {
				mu.Lock()
				problems = append(problems, m.String())
				mu.Unlock()
			}
		}
	}()
	downloads := t.TempDir()
	progress := chromedp.BrowserEvents(ctx, browser.DownloadProgress)
	allow := true
	_, err = chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: downloads, EventsEnabled: &allow,
	})
	if err != nil {
		t.Fatalf("allow downloads: %v", err)
	}

	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			png, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return fmt.Errorf("screenshot %s: %w", name, err)
			}
			path := filepath.Join(shots, name)
			t.Logf("screenshot: %s", path)
			return os.WriteFile(path, png, 0o644)
		})
	}
	text := func(id string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID(id)))
		if err != nil {
			t.Fatalf("read #%s: %v", id, err)
		}
		return v
	}
	attr := func(id, name string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.ID(id), name))
		if err != nil {
			t.Fatalf("read #%s's %s: %v", id, name, err)
		}
		return v.Value
	}

	// A wrong key is refused on the sign-in form.
	err = chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"/console"),
		chromedp.WaitVisible(chromedp.ID("sign-in")),
		chromedp.SendKeys(chromedp.ID("api-key"), "gw_not_a_key"),
		chromedp.Click(chromedp.CSS(`#sign-in button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("sign-in-failure")),
	)
	if err != nil {
		t.Fatalf("sign in with a wrong key: %v", err)
	}
	if refusal := text("sign-in-failure"); !strings.Contains(refusal, "401") {
		t.Fatalf("a wrong key shows %q, want the 401 problem", refusal)
	}

	// The real key signs in; a CSV export is started from the form and
	// followed until its download link shows.
	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("api-key"), user.token),
		chromedp.Click(chromedp.CSS(`#sign-in button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("signed-in")),
		chromedp.SetValue(chromedp.ID("export-format"), "csv"),
		chromedp.SetValue(chromedp.ID("export-filename"), "console-accounts.csv"),
		chromedp.SetValue(chromedp.ID("export-columns"), "company,stage"),
		chromedp.SetValue(chromedp.ID("export-rows"), "Console Co,won\nBrowser Ltd,trial"),
		shot("console-start.png"),
		chromedp.Click(chromedp.ID("start-button")),
		chromedp.WaitVisible(chromedp.ID("run-download")),
		// The list refreshes once the run ended.
		chromedp.WaitVisible(chromedp.CSS(`#runs-body tr[data-run-id^="export-"]`)),
		shot("console-export.png"),
	)
	if err != nil {
		t.Fatalf("start an export from the console: %v", err)
	}
	runID, status := text("run-id"), text("run-status")
	if status != "succeeded" || !strings.HasPrefix(runID, "export-") {
		t.Fatalf("run %q shows %q, want an export that succeeded", runID, status)
	}
	if want := "http://localhost:8233/namespaces/default/workflows/" + runID; attr("run-temporal", "href") != want {
		t.Errorf("Temporal link %q, want %q", attr("run-temporal", "href"), want)
	}
	if listed := text("runs-body"); !strings.Contains(listed, runID) {
		t.Errorf("recent runs do not list %s:\n%s", runID, listed)
	}
	// The run the API reports is the one the page shows.
	if run := user.getRun(runID); run.Status != "succeeded" {
		t.Fatalf("the API reports %s as %s", runID, run.Status)
	}

	// The download link gives the file with the rows typed in.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("run-download"))); err != nil {
		t.Fatalf("click download (%s): %v", attr("run-download", "href"), err)
	}
	var guid string
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("the download did not complete: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			guid = ev.GUID
			break
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			t.Fatal("the download was canceled")
		}
	}
	file, err := os.ReadFile(filepath.Join(downloads, guid))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(file); !strings.Contains(got, "Console Co,won") || !strings.Contains(got, "Browser Ltd,trial") {
		t.Fatalf("downloaded file:\n%s", file)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(problems) > 0 {
		t.Fatalf("the page reported errors:\n%s", strings.Join(problems, "\n"))
	}
}
