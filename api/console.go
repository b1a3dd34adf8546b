package api

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/groundwork-dev/groundwork"
)

// consoleFiles is the developer console: its page and the bundle
// clients/console builds with esbuild (committed, so a Go build needs no npm).
//
//go:embed console/index.html console/assets
var consoleFiles embed.FS

// consoleCSP lets the page run only its own script and style and talk only
// to this API; the key it holds never leaves for another origin.
const consoleCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
	"form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

// consoleAsset is one embedded file with its strong validator.
type consoleAsset struct {
	body []byte
	etag string
}

// console serves /console: the page, with the Temporal Web UI link the run
// panel needs, and its assets with ETags so a reload costs a 304.
type console struct {
	page   consoleAsset
	assets map[string]consoleAsset
}

func newConsole(temporalUI, namespace string) (*console, error) {
	tpl, err := template.ParseFS(consoleFiles, "console/index.html")
	if err != nil {
		return nil, fmt.Errorf("console: parse page: %w", err)
	}
	var page bytes.Buffer
	if err := tpl.Execute(&page, struct{ TemporalUI, Namespace string }{temporalUI, namespace}); err != nil {
		return nil, fmt.Errorf("console: render page: %w", err)
	}
	c := &console{page: assetOf(page.Bytes()), assets: map[string]consoleAsset{}}
	err = fs.WalkDir(consoleFiles, "console/assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := consoleFiles.ReadFile(p)
		if err != nil {
			return err
		}
		c.assets[path.Base(p)] = assetOf(b)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("console: read assets: %w", err)
	}
	return c, nil
}

func assetOf(b []byte) consoleAsset {
	sum := sha256.Sum256(b)
	return consoleAsset{body: b, etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`}
}

// routes mounts the console under /console.
func (c *console) routes(r chi.Router) {
	r.Get("/console", func(w http.ResponseWriter, req *http.Request) {
		http.Redirect(w, req, "/console/", http.StatusMovedPermanently)
	})
	r.Get("/console/", func(w http.ResponseWriter, req *http.Request) {
		c.serve(w, req, "index.html", c.page)
	})
	r.Get("/console/assets/{name}", func(w http.ResponseWriter, req *http.Request) {
		name := chi.URLParam(req, "name")
		a, ok := c.assets[name]
		if !ok {
			writeProblem(w, problem(http.StatusNotFound, groundwork.SlugNotFound, "no such console file"))
			return
		}
		c.serve(w, req, name, a)
	})
}

func (c *console) serve(w http.ResponseWriter, req *http.Request, name string, a consoleAsset) {
	h := w.Header()
	h.Set("Content-Security-Policy", consoleCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	// Revalidate every time: the ETag makes that a 304, and a new build's
	// bundle is never mixed with an old page.
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", a.etag)
	http.ServeContent(w, req, name, time.Time{}, bytes.NewReader(a.body))
}
