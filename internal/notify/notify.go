// Package notify renders Groundwork's notification e-mails from templates
// (a subject, a one-line summary for digests, a plain-text and an HTML
// body each) and sends them over SMTP.
package notify

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	"text/template"
	"time"

	"github.com/groundwork-dev/groundwork"
)

//go:embed templates
var files embed.FS

// Templates are the e-mails notify can render.
var Templates = []string{groundwork.TemplateRunFinished, groundwork.TemplateExportReady, groundwork.TemplateResearchCompleted,
	groundwork.TemplateEndpointDisabled, groundwork.TemplateCustomerStalled, groundwork.TemplateDailyDigest, groundwork.TemplateWeeklyDigest,
	groundwork.TemplateConfirmAddress}

// Message is a rendered e-mail.
type Message struct {
	Subject string
	// Summary is one line for a digest.
	Summary string
	Text    string
	HTML    string
}

// Envelope is what every template is executed with.
type Envelope struct {
	// UnsubscribeURL stops every e-mail to the user, without login.
	UnsubscribeURL string
	// Body is the template's own data: one of the types below.
	Body any
}

// Run is a run's notification (run-finished and the kinds' own).
type Run struct {
	ID, Kind, Status string
	Failed           bool
	ErrorType, Error string
}

// ExportReady is an export's notification, with a signed download link
// valid until the file expires (empty when the worker cannot sign).
type ExportReady struct {
	Run
	Filename, Format string
	SizeBytes        int64
	DownloadURL      string
	ExpiresAt        time.Time
}

// ResearchCompleted is a research run's notification.
type ResearchCompleted struct {
	Run
	Company, Domain string
	Pages           int
}

// EndpointDisabled tells an endpoint's creator it stopped receiving.
type EndpointDisabled struct {
	EndpointID, URL, Reason string
}

// CustomerStalled tells a customer's owner it has gone quiet.
type CustomerStalled struct {
	CustomerID, Name, ExternalID string
	LastActivity                 time.Time
	Days                         int
}

// ConfirmAddress asks the owner of an address to confirm it.
type ConfirmAddress struct {
	Email, ConfirmURL string
	Expires           time.Time
}

// DailyDigest gathers a day's notifications.
type DailyDigest struct {
	Date  string
	Items []DigestItem
}

// DigestItem is one notification in a digest.
type DigestItem struct {
	Subject, Summary string
	At               time.Time
}

// WeeklyDigest is the Monday e-mail on a user's customers.
type WeeklyDigest struct {
	Week                    string
	Total, Stalled, Dropped int
	Customers               []CustomerLine
}

// CustomerLine is one customer in the weekly digest.
type CustomerLine struct {
	Name, Stage           string
	Engagement            int
	Trend                 string
	Events7d, EventsPrior int64
	LastActivity          *time.Time
	Stalled               bool
}

var (
	textSet = template.Must(template.New("").Funcs(funcs).ParseFS(files, "templates/*.txt"))
	htmlSet = htmltemplate.Must(htmltemplate.New("").Funcs(funcs).ParseFS(files, "templates/*.html"))
)

var funcs = map[string]any{
	"bytes": func(n int64) string {
		switch {
		case n >= 1<<20:
			return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
		case n >= 1<<10:
			return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
		}
		return fmt.Sprintf("%d bytes", n)
	},
	"date": func(t time.Time) string { return t.UTC().Format("Mon 2 Jan 2006 15:04 MST") },
	"day":  func(t time.Time) string { return t.UTC().Format("2 Jan 2006") },
}

// Render executes template name (one of Templates) with env.
func Render(name string, env Envelope) (Message, error) {
	var m Message
	for _, part := range []struct {
		block string
		into  *string
	}{{"subject", &m.Subject}, {"summary", &m.Summary}, {"text", &m.Text}} {
		var b bytes.Buffer
		if err := textSet.ExecuteTemplate(&b, name+"/"+part.block, env); err != nil {
			return Message{}, fmt.Errorf("render %s %s: %w", name, part.block, err)
		}
		*part.into = strings.TrimSpace(b.String())
	}
	m.Subject = strings.Join(strings.Fields(m.Subject), " ") // one header line
	m.Summary = strings.Join(strings.Fields(m.Summary), " ")
	var b bytes.Buffer
	if err := htmlSet.ExecuteTemplate(&b, name+"/html", env); err != nil {
		return Message{}, fmt.Errorf("render %s html: %w", name, err)
	}
	m.HTML = b.String()
	return m, nil
}
