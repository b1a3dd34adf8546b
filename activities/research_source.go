package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"strconv"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/temporal"
	"gocloud.dev/blob"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/document"
	"github.com/groundwork-dev/groundwork/internal/extractive"
	"github.com/groundwork-dev/groundwork/internal/profile"
)

// maxReportScreenshot bounds the screenshot a report embeds: larger or
// much taller than a page, it would only shrink to an unreadable strip.
const (
	maxReportScreenshot = 4 << 20
	maxScreenshotAspect = 2.5
)

// ResearchSource renders a research run's report as a document for export.
type ResearchSource struct {
	Pool   *pgxpool.Pool
	Bucket *blob.Bucket
}

// Document builds the report: the profile with each fact's source, the
// pages, and the home page's screenshot.
func (s *ResearchSource) Document(ctx context.Context, run sqlc.Run) (*document.Document, error) {
	q := sqlc.New(s.Pool)
	rep, err := q.ResearchReportGet(ctx, run.ID)
	if db.IsNotFound(err) {
		return nil, temporal.NewNonRetryableApplicationError("the research report is gone", groundwork.ErrTypeNotFound, err)
	}
	if err != nil {
		return nil, fmt.Errorf("load report: %w", err)
	}
	var prof profile.Profile
	if err := json.Unmarshal(rep.Profile, &prof); err != nil {
		return nil, fmt.Errorf("decode profile: %w", err)
	}
	pages, err := q.ResearchRunPages(ctx, run.ID)
	if err != nil {
		return nil, fmt.Errorf("load pages: %w", err)
	}
	d := &document.Document{
		Title:    rep.Company + " — research report",
		Subtitle: fmt.Sprintf("%s · researched %s", rep.Domain, rep.CreatedAt.UTC().Format("2 January 2006")),
		Author:   "Groundwork research",
		Subject:  "Company research: " + rep.Company,
		Keywords: rep.Company + ", " + rep.Domain,
	}
	add := func(b ...document.Block) { d.Blocks = append(d.Blocks, b...) }

	add(heading(1, "Profile"))
	by := "Written by " + prof.Provider
	if prof.Model != "" {
		by += " (" + prof.Model + ")"
	}
	if prof.Provider == extractive.Provider {
		by = "Extracted from the pages without an LLM (extractive summarizer)"
	}
	add(document.Block{Type: document.BlockParagraph, Spans: []document.Span{{Text: by + ". Every fact links to its page.", Italic: true}}})
	if prof.Summary != nil {
		add(factParagraph(*prof.Summary))
	}
	for _, f := range []struct {
		name string
		fact *profile.Fact
	}{{"Industry", prof.Industry}, {"Pricing model", prof.PricingModel}, {"Size", prof.Size}, {"Hiring", prof.Hiring}} {
		if f.fact != nil {
			add(heading(3, f.name), factParagraph(*f.fact))
		}
	}
	if len(prof.Products) > 0 {
		add(heading(2, "Products"))
		for _, f := range prof.Products {
			add(factParagraph(f))
		}
	}
	if len(prof.Customers) > 0 {
		add(heading(2, "Customers"))
		for _, f := range prof.Customers {
			add(factParagraph(f))
		}
	}
	if len(prof.Contacts) > 0 {
		add(heading(2, "Contact points"))
		for _, c := range prof.Contacts {
			add(factParagraph(profile.Fact{Value: c.Kind + ": " + c.Value, Source: c.Source}))
		}
	}

	add(heading(1, "Pages"))
	rows := make([][]document.Cell, 0, len(pages))
	var shot *string
	for _, r := range pages {
		p := r.ResearchPage
		note := "fetched"
		if r.Reused {
			note = "reused"
		}
		if p.ErrorType != nil {
			note = *p.ErrorType
		}
		rows = append(rows, []document.Cell{
			document.StringCell(or(p.FinalUrl, p.Url)), document.StringCell(r.Category),
			document.StringCell(strconv.Itoa(int(p.Status))), document.StringCell(strconv.Itoa(int(p.WordCount))), document.StringCell(note),
		})
		if shot == nil && p.ScreenshotKey != nil && p.ErrorType == nil && p.ScreenshotBytes <= maxReportScreenshot {
			shot = p.ScreenshotKey
		}
	}
	add(document.Block{Type: document.BlockTable, Columns: []string{"Page", "Category", "Status", "Words", "Outcome"}, Rows: rows})

	if shot != nil {
		img, err := s.Bucket.ReadAll(ctx, *shot)
		if err == nil && screenshotFits(img) {
			b := document.Block{Type: document.BlockImage, Caption: "The home page as rendered"}
			b.SetImage(img)
			add(document.Block{Type: document.BlockPageBreak}, b)
		}
	}
	return d, nil
}

// screenshotFits reports whether a screenshot keeps a readable size on a
// page.
func screenshotFits(img []byte) bool {
	cfg, err := png.DecodeConfig(bytes.NewReader(img))
	return err == nil && cfg.Width > 0 && float64(cfg.Height)/float64(cfg.Width) <= maxScreenshotAspect
}

func heading(level int, text string) document.Block {
	return document.Block{Type: document.BlockHeading, Level: level, Text: text}
}

// factParagraph shows a fact with a link to the page it comes from.
func factParagraph(f profile.Fact) document.Block {
	spans := []document.Span{{Text: f.Value}}
	if f.Source != "" {
		spans = append(spans, document.Span{Text: " — "}, document.Span{Text: "source", Link: f.Source, Italic: true})
	}
	return document.Block{Type: document.BlockParagraph, Spans: spans}
}
