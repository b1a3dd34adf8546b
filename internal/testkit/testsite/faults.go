package testsite

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Fault pages, served only when Options.Hostile is set. FaultsPath links
// them all; nothing else does, so normal research never meets them.
const (
	// FaultsPath is the index page that links every fault page.
	FaultsPath = "/faults"
	// FaultLoop redirects (302) to itself forever, with ?n= counting up.
	FaultLoop = "/fault/loop"
	// FaultNever is a static page that loads, but whose image
	// (FaultNeverImage) and async script (FaultNeverScript) never finish,
	// so the load event never fires.
	FaultNever = "/fault/never"
	// FaultNeverScript sends headers and a few bytes, then hangs until the
	// client gives up or the Site closes.
	FaultNeverScript = "/fault/never/app.js"
	// FaultNeverImage sends headers and a PNG signature, then hangs like FaultNeverScript.
	FaultNeverImage = "/fault/never/pixel.png"
	// FaultHuge streams an HTML page of exactly HugeSize bytes without a
	// Content-Length.
	FaultHuge = "/fault/huge"
	// FaultPDF answers with an application/pdf document.
	FaultPDF = "/fault/pdf"
	// Fault500 answers 500 with an HTML error page.
	Fault500 = "/fault/500"
	// Fault404 answers 404 with an HTML error page.
	Fault404 = "/fault/404"
	// FaultRedirectInternal redirects (302) to MetadataURL, or to the URL in
	// its ?to= query (a Canary's URL, to prove the redirect was not followed).
	FaultRedirectInternal = "/fault/redirect-internal"
	// FaultSubresourceInternal is a normal page whose image, fetch and
	// iframe point at InternalImageURL, InternalFetchURL and
	// InternalFrameURL, plus the URL in its ?to= query for each if given.
	FaultSubresourceInternal = "/fault/subresource-internal"
	// FaultSlow answers after ?ms= milliseconds (default DefaultSlow),
	// giving up early if the request is cancelled.
	FaultSlow = "/fault/slow"
)

// Fault parameters and the internal addresses fault pages point at.
const (
	// HugeSize is the exact body length of FaultHuge (30 MiB).
	HugeSize = 30 << 20
	// DefaultSlow is how long FaultSlow waits without ?ms=.
	DefaultSlow = 2 * time.Second
	// MetadataURL is the cloud metadata service FaultRedirectInternal sends clients to.
	MetadataURL = "http://169.254.169.254/latest/meta-data/"
	// InternalImageURL is the <img> of FaultSubresourceInternal (a private network).
	InternalImageURL = "http://10.0.0.1/pixel.png"
	// InternalFetchURL is what FaultSubresourceInternal's script fetches (loopback).
	InternalFetchURL = "http://127.0.0.2:9/x"
	// InternalFrameURL is the <iframe> of FaultSubresourceInternal (IPv6 loopback).
	InternalFrameURL = "http://[::1]:9/"
)

// serveFault answers FaultsPath and the /fault/ pages.
func (s *Site) serveFault(w http.ResponseWriter, r *http.Request) {
	const html = "text/html; charset=utf-8"
	switch r.URL.Path {
	case FaultsPath:
		send(w, http.StatusOK, html, s.faults)
	case FaultLoop:
		n, _ := strconv.Atoi(r.URL.Query().Get("n")) // a missing or bad n starts at 0
		http.Redirect(w, r, FaultLoop+"?n="+strconv.Itoa(n+1), http.StatusFound)
	case FaultNever:
		send(w, http.StatusOK, html, s.staticPage("Shipment status", r.URL.Path,
			"<p>All shipments are on schedule. This page is complete, but a tracking pixel and a script it includes never finish loading.</p>\n"+
				`<p><img src="`+FaultNeverImage+`" alt="" width="1" height="1"></p>`+"\n",
			`<script async src="`+FaultNeverScript+`"></script>`+"\n"))
	case FaultNeverScript:
		hang(w, r, "text/javascript", []byte("/* loading */\n"))
	case FaultNeverImage:
		hang(w, r, "image/png", []byte("\x89PNG\r\n\x1a\n"))
	case FaultHuge:
		s.serveHuge(w, r)
	case FaultPDF:
		send(w, http.StatusOK, "application/pdf", pdf(s.org.Name+" price list 2025"))
	case Fault500:
		send(w, http.StatusInternalServerError, html, s.staticPage("Internal server error", r.URL.Path,
			"<p>Something went wrong on our side. Please try again in a few minutes.</p>\n", ""))
	case Fault404:
		s.notFound(w, r)
	case FaultRedirectInternal:
		to, ok := target(w, r, MetadataURL)
		if ok {
			http.Redirect(w, r, to, http.StatusFound)
		}
	case FaultSubresourceInternal:
		s.serveSubresourceInternal(w, r)
	case FaultSlow:
		d := DefaultSlow
		if q := r.URL.Query().Get("ms"); q != "" {
			ms, err := strconv.Atoi(q)
			if err != nil || ms < 0 {
				http.Error(w, "ms must be a non-negative integer", http.StatusBadRequest)
				return
			}
			d = time.Duration(ms) * time.Millisecond
		}
		pause(r, d)
		send(w, http.StatusOK, html, s.staticPage("Quarterly report", r.URL.Path,
			fmt.Sprintf("<p>This page took %d milliseconds to generate.</p>\n", d.Milliseconds()), ""))
	default:
		s.notFound(w, r)
	}
}

// hang starts a response and then holds it open until the request is
// cancelled, which Close does for every request in flight. The handler
// then aborts the connection, so the client sees an error, not a body that
// merely ended early.
func hang(w http.ResponseWriter, r *http.Request, contentType string, first []byte) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(first)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	<-r.Context().Done()
	panic(http.ErrAbortHandler)
}

// serveHuge streams HugeSize bytes of HTML in blocks, so the page is never
// held in memory, stopping when the client goes away.
func (s *Site) serveHuge(w http.ResponseWriter, r *http.Request) {
	head := fmt.Sprintf(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shipment archive | %s</title>`+
		`<meta name="description" content="Every shipment since 2014."></head><body><main><article><h1>Shipment archive</h1>`+"\n", esc(s.org.Name))
	const tail = "</article></main></body></html>\n"
	var block strings.Builder
	for i := 0; block.Len() < 64<<10; i++ {
		fmt.Fprintf(&block, "<p>Shipment %05d from %s to %s was delivered on time.</p>\n", i, cities[i%len(cities)], cities[(i+3)%len(cities)])
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	write := func(b string) {
		if r.Context().Err() != nil {
			panic(http.ErrAbortHandler)
		}
		if _, err := w.Write([]byte(b)); err != nil {
			panic(http.ErrAbortHandler) // the client is gone
		}
	}
	write(head)
	left := HugeSize - len(head) - len(tail)
	for ; left >= block.Len(); left -= block.Len() {
		write(block.String())
	}
	write(strings.Repeat(" ", left)) // whitespace pads to the exact size
	write(tail)
}

// target is the ?to= URL of a fault page, or def; it answers 400 itself
// when ?to= is not an absolute http(s) URL.
func target(w http.ResponseWriter, r *http.Request, def string) (string, bool) {
	to := r.URL.Query().Get("to")
	if to == "" {
		return def, true
	}
	u, err := url.Parse(to)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		http.Error(w, "to must be an absolute http(s) URL", http.StatusBadRequest)
		return "", false
	}
	return u.String(), true
}

// serveSubresourceInternal is a page that renders fine by itself but asks
// the browser to load internal addresses.
func (s *Site) serveSubresourceInternal(w http.ResponseWriter, r *http.Request) {
	extra, ok := target(w, r, "")
	if !ok {
		return
	}
	fetches := []string{InternalFetchURL}
	var body strings.Builder
	body.WriteString("<p>Our integration partners connect " + esc(s.org.Name) + " to carriers, customs brokers and ERP systems across Europe. " +
		"Partner status is refreshed every five minutes.</p>\n")
	fmt.Fprintf(&body, `<p><img src="%s" alt="Partner network status" width="120" height="60"></p>`+"\n", esc(InternalImageURL))
	fmt.Fprintf(&body, `<iframe src="%s" title="Partner status board" width="300" height="150"></iframe>`+"\n", esc(InternalFrameURL))
	if extra != "" {
		fmt.Fprintf(&body, `<p><img src="%s" alt="Partner badge" width="120" height="60"></p>`+"\n", esc(extra))
		fmt.Fprintf(&body, `<iframe src="%s" title="Partner badge board" width="300" height="150"></iframe>`+"\n", esc(extra))
		fetches = append(fetches, extra)
	}
	body.WriteString("<p>Questions about integrations go to partners@" + esc(s.org.Domain) + ".</p>\n")
	list, _ := json.Marshal(fetches) // json.Marshal escapes <, > and &, safe in <script>
	fmt.Fprintf(&body, "<script>\n%s.forEach(function (u) { fetch(u).catch(function () {}); });\n</script>\n", list)
	send(w, http.StatusOK, "text/html; charset=utf-8", s.staticPage("Integration partners", r.URL.Path, body.String(), ""))
}

// renderFaults is the FaultsPath index page.
func (s *Site) renderFaults() []byte {
	links := []struct{ path, text string }{
		{FaultLoop, "A page that redirects to itself forever"},
		{FaultNever, "A page whose image and script never finish loading"},
		{FaultHuge, "A 30 MB shipment archive"},
		{FaultPDF, "The price list as a PDF"},
		{Fault500, "A page that fails with a server error"},
		{Fault404, "A page that does not exist"},
		{FaultRedirectInternal, "A link that redirects to the cloud metadata service"},
		{FaultSubresourceInternal, "A page that loads images and frames from internal addresses"},
		{FaultSlow, "A report that takes two seconds to generate"},
	}
	var b strings.Builder
	b.WriteString("<p>Pages that misbehave, for testing crawlers.</p>\n<ul>\n")
	for _, l := range links {
		fmt.Fprintf(&b, "<li><a href=\"%s\">%s</a></li>\n", l.path, esc(l.text))
	}
	b.WriteString("</ul>\n")
	return s.staticPage("Fault pages", FaultsPath, b.String(), "")
}

// pdf builds a one-page PDF showing title, with a correct xref table.
func pdf(title string) []byte {
	escaped := strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`).Replace(title)
	stream := fmt.Sprintf("BT /F1 20 Tf 72 760 Td (%s) Tj ET\nBT /F1 12 Tf 72 730 Td (Starter $29 per user per month. Growth $59 per user per month.) Tj ET\n", escaped)
	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", len(stream), stream),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	var b strings.Builder
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, xref)
	return []byte(b.String())
}
