package ssrf

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// BlockedHeader marks a proxy answer that the policy refused, so a caller
// (the research activity) can tell a blocked subresource from a failed one.
const BlockedHeader = "X-Groundwork-Blocked"

// Proxy is an HTTP forward proxy (plain requests and CONNECT tunnels) that
// dials through a Dialer. Chrome is started with --proxy-server pointing
// at it, so every connection the browser makes — page, redirects,
// subresources, fetch/XHR, iframes, WebSockets — passes the policy at dial
// time.
type Proxy struct {
	Dialer Dialer
	// OnBlocked is told of every refused target (for the page's record).
	OnBlocked func(target string, err error)
	Log       *slog.Logger

	once      sync.Once
	transport *http.Transport
}

func (p *Proxy) init() {
	p.once.Do(func() {
		p.transport = &http.Transport{
			Proxy:                 nil,
			DialContext:           p.Dialer.DialContext,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       30 * time.Second,
			ResponseHeaderTimeout: 60 * time.Second,
		}
	})
}

// ServeHTTP implements http.Handler.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.init()
	if r.Method == http.MethodConnect {
		p.tunnel(w, r)
		return
	}
	if r.URL.Scheme != "http" || r.URL.Host == "" {
		http.Error(w, "this proxy forwards absolute http:// URLs and CONNECT only", http.StatusBadRequest)
		return
	}
	if err := p.Dialer.Policy.CheckURL(r.URL.String()); err != nil {
		p.refuse(w, r.URL.String(), err)
		return
	}
	out := r.Clone(r.Context())
	out.RequestURI = ""
	removeHopHeaders(out.Header)
	resp, err := p.transport.RoundTrip(out)
	if err != nil {
		if errors.Is(err, ErrBlocked) {
			p.refuse(w, r.URL.String(), err)
			return
		}
		http.Error(w, "upstream: "+err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	removeHopHeaders(resp.Header)
	// Only the proxy may say a target was blocked.
	resp.Header.Del(BlockedHeader)
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	// Flush as bytes arrive: a streaming or never-ending page must reach
	// the browser, not sit in the response buffer.
	_, _ = io.Copy(flushWriter{w, http.NewResponseController(w)}, resp.Body)
}

// flushWriter flushes after every write.
type flushWriter struct {
	w  io.Writer
	rc *http.ResponseController
}

func (f flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err == nil {
		_ = f.rc.Flush()
	}
	return n, err
}

// tunnel serves CONNECT: the target is dialled (and checked) before the
// client is told the tunnel is up.
func (p *Proxy) tunnel(w http.ResponseWriter, r *http.Request) {
	target := r.Host
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	up, err := p.Dialer.DialContext(ctx, "tcp", target)
	cancel()
	if err != nil {
		if errors.Is(err, ErrBlocked) {
			p.refuse(w, target, err)
			return
		}
		http.Error(w, "upstream: "+err.Error(), http.StatusBadGateway)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		_ = up.Close()
		http.Error(w, "tunnelling unsupported", http.StatusInternalServerError)
		return
	}
	down, buf, err := hj.Hijack()
	if err != nil {
		_ = up.Close()
		return
	}
	if _, err := down.Write([]byte("HTTP/1.1 200 Connection Established\r\n\r\n")); err != nil {
		_ = up.Close()
		_ = down.Close()
		return
	}
	done := make(chan struct{}, 2)
	go func() {
		// Bytes the client sent right after CONNECT sit in buf.
		_, _ = io.Copy(up, io.MultiReader(buf.Reader, down))
		closeWrite(up)
		done <- struct{}{}
	}()
	go func() {
		_, _ = io.Copy(down, up)
		closeWrite(down)
		done <- struct{}{}
	}()
	<-done
	<-done
	_ = up.Close()
	_ = down.Close()
}

func (p *Proxy) refuse(w http.ResponseWriter, target string, err error) {
	if p.OnBlocked != nil {
		p.OnBlocked(target, err)
	}
	if p.Log != nil {
		p.Log.Info("ssrf: refused", "target", target, "reason", err.Error())
	}
	w.Header().Set(BlockedHeader, "1")
	http.Error(w, err.Error(), http.StatusForbidden)
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
}

// hopHeaders are meaningful for one connection only (RFC 9110 §7.6.1).
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

func removeHopHeaders(h http.Header) {
	for _, f := range h.Values("Connection") {
		for _, name := range strings.Split(f, ",") {
			h.Del(strings.TrimSpace(name))
		}
	}
	for _, name := range hopHeaders {
		h.Del(name)
	}
}
