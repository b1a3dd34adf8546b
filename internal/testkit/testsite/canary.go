package testsite

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
)

// Canary is an "internal" server that counts every request it receives, so
// a test can prove that a blocked address was never reached. It listens on
// 127.0.0.2 (or [::1] where that is unavailable), never on 127.0.0.1, so an
// SSRF policy that allows only the Site's 127.0.0.1 still blocks it.
type Canary struct {
	// URL is the canary's origin, such as "http://127.0.0.2:41235".
	URL string

	srv  *httptest.Server
	mu   sync.Mutex
	hits int
	once sync.Once
}

// NewCanary starts a Canary; Close it when done. It panics when it can
// listen on neither 127.0.0.2 nor [::1], like httptest.NewServer.
func NewCanary() *Canary {
	c := &Canary{}
	c.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		c.mu.Lock()
		c.hits++
		c.mu.Unlock()
		send(w, http.StatusOK, "text/plain; charset=utf-8", []byte("canary reached\n"))
	}))
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		var err6 error
		if ln, err6 = net.Listen("tcp6", "[::1]:0"); err6 != nil {
			panic("testsite: canary cannot listen on 127.0.0.2 (" + err.Error() + ") or [::1] (" + err6.Error() + ")")
		}
	}
	_ = c.srv.Listener.Close() // the default 127.0.0.1 listener is replaced
	c.srv.Listener = ln
	c.srv.Start()
	c.URL = c.srv.URL
	return c
}

// Host is the canary's host and port, such as "127.0.0.2:41235".
func (c *Canary) Host() string { return strings.TrimPrefix(c.URL, "http://") }

// Hits is how many requests the canary received.
func (c *Canary) Hits() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits
}

// Close stops the canary.
func (c *Canary) Close() {
	c.once.Do(func() {
		c.srv.CloseClientConnections()
		c.srv.Close()
	})
}
