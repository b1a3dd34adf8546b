// Package extract turns one rendered HTML page, as a headless browser
// returns it, into structured facts for company research: metadata,
// OpenGraph, the JSON-LD Organization, the main content as Markdown and
// text, outgoing links and e-mail addresses.
//
// Parse is pure and deterministic: it does no I/O, so callers can run it on
// stored snapshots and tests can pin its output.
package extract

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// MaxMarkdown caps Page.Markdown in bytes so one bloated page cannot blow up
// storage or an LLM prompt downstream.
const MaxMarkdown = 200_000

// MaxText caps Page.Text in bytes for the same reason as MaxMarkdown.
const MaxText = 200_000

// ErrInvalidURL is wrapped by Parse when pageURL is not an absolute http(s) URL.
var ErrInvalidURL = errors.New("invalid page URL")

// Page is what one page says about the company.
type Page struct {
	// URL is the final URL of the page (the input).
	URL string
	// Title is the document <title>, else og:title.
	Title string
	// Description is <meta name=description>, else og:description.
	Description string
	// Canonical is <link rel=canonical>, resolved against the document base URL.
	Canonical string
	// Lang is <html lang>, else the Content-Language http-equiv meta.
	Lang string
	// OpenGraph holds og:* properties keyed by lower-cased property name; the
	// first occurrence wins because it is the primary value (og:image repeats).
	OpenGraph map[string]string
	// Organization is the JSON-LD Organization (or any subtype); nil when none.
	Organization *Organization
	// Markdown is the main content converted to Markdown, capped at MaxMarkdown bytes.
	Markdown string
	// Text is the main content as plain text, capped at MaxText bytes.
	Text string
	// Truncated reports whether Markdown or Text was cut to its cap.
	Truncated bool
	// Links lists every http(s) <a href>, resolved, fragment-free, deduplicated, in document order.
	Links []Link
	// Emails lists addresses from mailto: links and the Organization, deduplicated case-insensitively.
	Emails []string
	// WordCount is the number of whitespace-separated words in Text.
	WordCount int
}

// Organization is the company as described by the page's JSON-LD, with every
// value normalised to plain strings.
type Organization struct {
	// Name is schema.org name, else alternateName.
	Name string
	// LegalName is the registered company name.
	LegalName string
	// URL is the organization's site, resolved against the page.
	URL string
	// Logo is the logo URL (string or ImageObject), resolved against the page.
	Logo string
	// Description is the organization's self-description.
	Description string
	// Email is the contact address without any mailto: prefix.
	Email string
	// Telephone is the contact number without any tel: prefix.
	Telephone string
	// FoundingDate is kept as written (a year or an ISO date).
	FoundingDate string
	// SameAs lists profile URLs (LinkedIn, X…), deduplicated, in order.
	SameAs []string
	// NumberOfEmployees is a count or a "min-max" range.
	NumberOfEmployees string
	// Address is a string or a PostalAddress joined into one line.
	Address string
}

// Link is one outgoing hyperlink of the page.
type Link struct {
	// URL is absolute, http(s), without fragment.
	URL string
	// Text is the visible anchor text, else aria-label, title or image alt.
	Text string
	// Rel is the lower-cased, whitespace-normalised rel attribute.
	Rel string
}

// Parse extracts a Page from html fetched from pageURL. It never fails on
// odd markup; it fails only on an invalid pageURL.
func Parse(pageURL string, htmlBytes []byte) (Page, error) {
	u, err := parsePageURL(pageURL)
	if err != nil {
		return Page{}, err
	}

	// parseHTML degrades rather than fails on hostile markup; the error
	// branch keeps the contract honest rather than being expected.
	doc, err := parseHTML(toUTF8(htmlBytes))
	if err != nil {
		return Page{}, fmt.Errorf("extract: parse html of %s: %w", pageURL, err)
	}

	base := baseURL(doc, u)
	p := Page{URL: pageURL}
	readHead(doc, base, &p)
	p.Organization = findOrganization(doc, base)

	var mailtos []string
	p.Links, mailtos = collectLinks(doc, base)
	if p.Organization != nil && p.Organization.Email != "" {
		mailtos = append(mailtos, p.Organization.Email)
	}
	p.Emails = dedupeEmails(mailtos)

	md, text := mainContent(doc, base)
	var cutMD, cutText bool
	p.Markdown, cutMD = capAtBoundary(md, MaxMarkdown)
	p.Text, cutText = capAtBoundary(text, MaxText)
	p.Truncated = cutMD || cutText
	p.WordCount = len(strings.Fields(p.Text))
	return p, nil
}

// parsePageURL accepts only absolute http(s) URLs because every relative
// reference on the page is resolved against it.
func parsePageURL(pageURL string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(pageURL))
	if err != nil {
		return nil, fmt.Errorf("extract: %w %q: %w", ErrInvalidURL, pageURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("extract: %w %q: need an absolute http(s) URL", ErrInvalidURL, pageURL)
	}
	return u, nil
}
