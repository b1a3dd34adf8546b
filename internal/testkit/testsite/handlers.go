package testsite

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// route dispatches a counted GET or HEAD request.
func (s *Site) route(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch {
	case path == RobotsPath:
		send(w, http.StatusOK, "text/plain; charset=utf-8", s.robots)
	case path == SitemapPath:
		send(w, http.StatusOK, "application/xml; charset=utf-8", s.sitemap)
	case path == StylesheetPath:
		send(w, http.StatusOK, "text/css; charset=utf-8", []byte(stylesheet))
	case path == "/favicon.ico":
		send(w, http.StatusOK, "image/png", images()[faviconPath])
	case strings.HasPrefix(path, "/static/"):
		if b, ok := images()[path]; ok {
			send(w, http.StatusOK, "image/png", b)
			return
		}
		s.notFound(w, r)
	case strings.HasPrefix(path, APIPrefix):
		s.serveAPI(w, r)
	case path == FaultsPath || strings.HasPrefix(path, "/fault/"):
		if !s.opts.Hostile {
			s.notFound(w, r)
			return
		}
		s.serveFault(w, r)
	default:
		if p := s.byPath[path]; p != nil {
			send(w, http.StatusOK, "text/html; charset=utf-8", p.shell)
			return
		}
		// Crawlers often add a trailing slash; real sites redirect it away.
		if trimmed := strings.TrimSuffix(path, "/"); trimmed != path && s.byPath[trimmed] != nil {
			http.Redirect(w, r, trimmed, http.StatusMovedPermanently)
			return
		}
		s.notFound(w, r)
	}
}

// serveAPI answers a page's script with the page's JSON, after APIDelay.
func (s *Site) serveAPI(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, APIPrefix), ".json")
	p := s.bySlug[name]
	if !ok || p == nil {
		send(w, http.StatusNotFound, "application/json", []byte(`{"error":"no such page"}`))
		return
	}
	pause(r, s.opts.APIDelay)
	w.Header().Set("Cache-Control", "no-store")
	send(w, http.StatusOK, "application/json", p.json)
}

// notFound is the site's 404 page.
func (s *Site) notFound(w http.ResponseWriter, r *http.Request) {
	send(w, http.StatusNotFound, "text/html; charset=utf-8", s.staticPage("Page not found", r.URL.Path,
		"<p>Sorry, we could not find that page. Try the <a href=\"/\">home page</a> or the <a href=\"/blog\">blog</a>.</p>\n", ""))
}

// send writes a complete response with its length.
func send(w http.ResponseWriter, status int, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body) // the client hanging up is not the server's error
}

// pause waits for d unless the request is cancelled first (the client gave
// up or the Site closed). Cancelled, it aborts the connection: returning
// would send an empty 200, which a client could mistake for the page.
func pause(r *http.Request, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
		panic(http.ErrAbortHandler)
	}
}
