package notify

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// SMTP is where and how e-mails are sent, parsed from a URL:
// smtp://user:pass@host:587 (STARTTLS when the server offers it),
// smtp://…?tls=required (STARTTLS or fail), smtp://…?tls=none (plain, for
// a local catcher) or smtps://host:465 (TLS from the first byte).
type SMTP struct {
	Host               string
	Port               int
	Username, Password string
	// TLS is none, opportunistic, required or implicit.
	TLS string
	// From is the sender, "Name <address>"; its domain ends every Message-ID.
	From string
	// Timeout bounds a whole send.
	Timeout time.Duration
}

// ParseSMTP reads an SMTP URL and a From address.
func ParseSMTP(raw, from string) (SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" || (u.Scheme != "smtp" && u.Scheme != "smtps") {
		return SMTP{}, errors.New("an smtp:// or smtps:// URL with a host, like smtp://user:pass@mail.example.com:587")
	}
	s := SMTP{Host: u.Hostname(), TLS: "opportunistic", From: from, Timeout: 30 * time.Second}
	if u.Scheme == "smtps" {
		s.TLS, s.Port = "implicit", 465
	} else {
		s.Port = 587
	}
	if p := u.Port(); p != "" {
		if s.Port, err = strconv.Atoi(p); err != nil {
			return SMTP{}, fmt.Errorf("port %q: %w", p, err)
		}
	}
	if t := u.Query().Get("tls"); t != "" {
		if u.Scheme == "smtps" || (t != "none" && t != "opportunistic" && t != "required") {
			return SMTP{}, fmt.Errorf("tls=%s: smtp:// takes tls=none, opportunistic or required", t)
		}
		s.TLS = t
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
	}
	a, err := mail.ParseAddress(from)
	if err != nil || !strings.Contains(a.Address, "@") {
		return SMTP{}, fmt.Errorf("from address %q: want \"Name <noreply@example.com>\"", from)
	}
	return s, nil
}

// Mail is one e-mail to send.
type Mail struct {
	// ID is the outbox ID: the Message-ID is <ID@from-domain>.
	ID string
	To string
	Message
	// UnsubscribeURL becomes the List-Unsubscribe header (RFC 8058 one-click).
	UnsubscribeURL string
	// Date is the Date header: the notification's time, the same on a resend.
	Date time.Time
}

// PermanentError is a refusal the server says will not change on retry
// (a 5xx reply: unknown mailbox, message refused).
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "refused for good: " + e.Err.Error() }

// Unwrap returns the server's error.
func (e *PermanentError) Unwrap() error { return e.Err }

// MessageID is the Message-ID (without angle brackets) a mail gets.
func (s SMTP) MessageID(id string) string {
	domain := "groundwork.invalid"
	if a, err := mail.ParseAddress(s.From); err == nil {
		domain = a.Address[strings.LastIndexByte(a.Address, '@')+1:]
	}
	return id + "@" + domain
}

// Send delivers m in one SMTP session.
func (s SMTP) Send(ctx context.Context, m Mail) error {
	msg := gomail.NewMsg()
	if err := msg.From(s.From); err != nil {
		return &PermanentError{Err: fmt.Errorf("from: %w", err)}
	}
	if err := msg.To(m.To); err != nil {
		return &PermanentError{Err: fmt.Errorf("to: %w", err)}
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(s.MessageID(m.ID))
	msg.SetDateWithValue(m.Date)
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	if m.UnsubscribeURL != "" {
		msg.SetGenHeader(gomail.HeaderListUnsubscribe, "<"+m.UnsubscribeURL+">")
		msg.SetGenHeader(gomail.HeaderListUnsubscribePost, "List-Unsubscribe=One-Click")
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)

	opts := []gomail.Option{gomail.WithPort(s.Port), gomail.WithTimeout(s.Timeout), gomail.WithoutNoop()}
	switch s.TLS {
	case "implicit":
		opts = append(opts, gomail.WithSSL())
	case "none":
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case "required":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if s.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(s.Username), gomail.WithPassword(s.Password))
	}
	c, err := gomail.NewClient(s.Host, opts...)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	err = c.DialAndSendWithContext(ctx, msg)
	switch {
	case err == nil:
		return nil
	case msg.IsDelivered():
		// The server accepted the message; the RSET or QUIT after it
		// failed. Retrying would send it again.
		return nil
	}
	var se *gomail.SendError
	// Only a refusal of the recipient or of the message itself is for
	// good; a 5xx to MAIL FROM (authentication or STARTTLS required) is
	// our configuration, fixed by an operator and worth retrying.
	if errors.As(err, &se) && !se.IsTemp() && se.ErrorCode() >= 500 &&
		(se.Reason == gomail.ErrSMTPRcptTo || se.Reason == gomail.ErrSMTPDataClose) {
		return &PermanentError{Err: err}
	}
	return fmt.Errorf("send e-mail: %w", err)
}
