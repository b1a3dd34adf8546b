// Package smtpfake is a real SMTP server on loopback (emersion/go-smtp)
// that keeps what it accepts, for tests: the go-mail client talks the
// whole protocol to it, and tests read the parsed messages back. It can
// refuse like a real server does: 421/451 (try later) or 550 (for good).
package smtpfake

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one accepted e-mail.
type Message struct {
	From      string
	To        []string
	MessageID string
	Subject   string
	Header    mail.Header
	// Text and HTML are the multipart/alternative parts.
	Text, HTML string
	Raw        []byte
}

// Server is a running fake.
type Server struct {
	// Addr is host:port.
	Addr string

	srv *smtp.Server
	mu  sync.Mutex
	got []Message
	// refuse, when set, decides per message whether to refuse its DATA.
	refuse func(Message) *smtp.SMTPError
	// arrived is signalled on every accepted message.
	arrived chan struct{}
	// delay holds each MAIL FROM that long: a slow server.
	delay time.Duration
	// holding counts the sessions held in that delay right now.
	holding atomic.Int32
}

// Start runs a server on a free loopback port until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtpfake listen: %v", err)
	}
	s := &Server{Addr: ln.Addr().String(), arrived: make(chan struct{}, 1)}
	s.srv = smtp.NewServer(backend{s})
	s.srv.Domain = "localhost"
	s.srv.AllowInsecureAuth = true
	s.srv.MaxMessageBytes = 10 << 20
	go func() { _ = s.srv.Serve(ln) }()
	t.Cleanup(func() { _ = s.srv.Close() })
	return s
}

// URL is the GROUNDWORK_SMTP_URL that reaches the fake.
func (s *Server) URL() string { return "smtp://" + s.Addr + "?tls=none" }

// Refuse sets a function that may refuse a message at the end of DATA
// (after it was read whole), as a server refusing it would.
func (s *Server) Refuse(f func(Message) *Error) {
	s.mu.Lock()
	s.refuse = f
	s.mu.Unlock()
}

// Error is an SMTP reply.
type Error = smtp.SMTPError

// Slow makes the server take d to answer each MAIL FROM, so sessions are
// in flight for a while (before any message is committed).
func (s *Server) Slow(d time.Duration) {
	s.mu.Lock()
	s.delay = d
	s.mu.Unlock()
}

// Holding is how many sessions the server is holding in its delay now:
// sends in flight.
func (s *Server) Holding() int { return int(s.holding.Load()) }

// TryLater is a 451 reply: a temporary refusal.
var TryLater = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}

// NoSuchUser is a 550 reply: a permanent refusal.
var NoSuchUser = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}

// Messages returns what was accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.got...)
}

// Arrived is signalled (without blocking the server) when a message is
// accepted; a test waits on it between checks of Messages.
func (s *Server) Arrived() <-chan struct{} { return s.arrived }

type backend struct{ s *Server }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: b.s}, nil }

type session struct {
	s    *Server
	from string
	to   []string
}

func (x *session) AuthMechanisms() []string { return nil }
func (x *session) Auth(string) (any, error) { return nil, errors.New("no auth") }
func (x *session) Reset()                   { x.from, x.to = "", nil }
func (x *session) Logout() error            { return nil }
func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	x.s.mu.Lock()
	d := x.s.delay
	x.s.mu.Unlock()
	x.s.holding.Add(1)
	time.Sleep(d) // the fake's slowness, not a wait in a test
	x.s.holding.Add(-1)
	x.from = from
	return nil
}
func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := parse(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "unparsable message: " + err.Error()}
	}
	m.From, m.To = x.from, append([]string(nil), x.to...)
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	if x.s.refuse != nil {
		if e := x.s.refuse(m); e != nil {
			return e
		}
	}
	x.s.got = append(x.s.got, m)
	select {
	case x.s.arrived <- struct{}{}:
	default:
	}
	return nil
}

func parse(raw []byte) (Message, error) {
	pm, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Message{}, err
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(pm.Header.Get("Subject"))
	if err != nil {
		subject = pm.Header.Get("Subject")
	}
	m := Message{Header: pm.Header, Subject: subject, Raw: raw,
		MessageID: strings.Trim(pm.Header.Get("Message-Id"), "<>")}
	mt, params, err := mime.ParseMediaType(pm.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		b, _ := io.ReadAll(pm.Body)
		m.Text = string(b)
		return m, nil
	}
	mr := multipart.NewReader(pm.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Message{}, err
		}
		b, _ := io.ReadAll(p) // quoted-printable is decoded by multipart
		switch {
		case strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain"):
			m.Text = string(b)
		case strings.HasPrefix(p.Header.Get("Content-Type"), "text/html"):
			m.HTML = string(b)
		}
	}
	return m, nil
}
