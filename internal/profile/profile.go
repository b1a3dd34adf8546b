// Package profile builds a structured company profile from the pages that
// company research fetched, with every fact citing the URL of the page it
// came from so that a seller can check it before repeating it to a prospect.
//
// There are two builders: Extract, offline and deterministic, built on
// heuristics and the extractive summarizer; and FromFields, which turns the
// JSON answer of the "company-profile" prompt template into a Profile and
// drops every fact that does not cite one of the fetched pages. Notes
// renders the pages as that prompt's source material.
package profile

import (
	"slices"
	"strings"

	"github.com/groundwork-dev/groundwork/internal/extract"
)

// Page is what the profile builders read of one fetched page.
type Page struct {
	// URL is the page's final URL; facts cite it.
	URL string
	// Title is the document title.
	Title string
	// Description is the meta (or OpenGraph) description.
	Description string
	// Category is one of the discover.Category* values ("home", "about",
	// "product", "pricing", "customers", "careers", "blog", "contact",
	// "other").
	Category string
	// Markdown is the main content as Markdown; preferred over Text because
	// it keeps headings and list items apart.
	Markdown string
	// Text is the main content as plain text.
	Text string
	// Organization is the page's JSON-LD Organization; nil when none.
	Organization *extract.Organization
	// OpenGraph holds og:* properties keyed by lower-cased property name.
	OpenGraph map[string]string
	// Emails lists the addresses found on the page.
	Emails []string
	// Links lists the page's outgoing links.
	Links []extract.Link
}

// FromExtract returns the Page the builders need from a parsed page and the
// category the crawler gave it.
func FromExtract(category string, p extract.Page) Page {
	return Page{
		URL:          p.URL,
		Title:        p.Title,
		Description:  p.Description,
		Category:     category,
		Markdown:     p.Markdown,
		Text:         p.Text,
		Organization: p.Organization,
		OpenGraph:    p.OpenGraph,
		Emails:       p.Emails,
		Links:        p.Links,
	}
}

// Fact is one statement about the company and the page that supports it.
type Fact struct {
	// Value is the statement, in the page's words where possible.
	Value string `json:"value"`
	// Source is the URL of the page the statement comes from.
	Source string `json:"source"`
}

// Contact kinds.
const (
	// KindEmail is an e-mail address.
	KindEmail = "email"
	// KindPhone is a telephone number.
	KindPhone = "phone"
	// KindAddress is a postal address on one line.
	KindAddress = "address"
	// KindContactPage is the URL of the company's contact page.
	KindContactPage = "contact_page"
	// KindSocial is the URL of a social-media profile.
	KindSocial = "social"
)

// contactKinds lists the contact kinds in the order a Profile lists them.
var contactKinds = []string{KindEmail, KindPhone, KindAddress, KindContactPage, KindSocial}

// Contact is one way to reach the company and the page that lists it.
type Contact struct {
	// Kind is one of the Kind* constants.
	Kind string `json:"kind"`
	// Value is the address, number or URL.
	Value string `json:"value"`
	// Source is the URL of the page the contact comes from.
	Source string `json:"source"`
}

// Profile is what the research found out about one company, every fact with
// its source.
type Profile struct {
	// Provider is extractive.Provider for Extract, else the LLM provider.
	Provider string `json:"provider"`
	// Model is the LLM model; empty for extractive profiles.
	Model string `json:"model,omitempty"`
	// Summary says what the company does.
	Summary *Fact `json:"summary,omitempty"`
	// Industry is the company's primary industry.
	Industry *Fact `json:"industry,omitempty"`
	// Products lists products, services or features, as "Name: description"
	// where a description was found.
	Products []Fact `json:"products"`
	// Customers lists customers named on the site.
	Customers []Fact `json:"customers"`
	// PricingModel says how the company charges.
	PricingModel *Fact `json:"pricing_model,omitempty"`
	// Size is the company's headcount as stated.
	Size *Fact `json:"size,omitempty"`
	// Hiring says whether and how much the company is hiring.
	Hiring *Fact `json:"hiring,omitempty"`
	// Contacts lists ways to reach the company, grouped by kind.
	Contacts []Contact `json:"contacts"`
	// Warnings lists what a builder dropped or doubted, for operators.
	Warnings []string `json:"warnings,omitempty"`
}

// facts returns every Fact of p in display order.
func (p Profile) facts() []Fact {
	var out []Fact
	for _, f := range []*Fact{p.Summary, p.Industry} {
		if f != nil {
			out = append(out, *f)
		}
	}
	out = append(out, p.Products...)
	out = append(out, p.Customers...)
	for _, f := range []*Fact{p.PricingModel, p.Size, p.Hiring} {
		if f != nil {
			out = append(out, *f)
		}
	}
	return out
}

// Sources returns the distinct URLs the profile cites, sorted.
func (p Profile) Sources() []string {
	var out []string
	for _, f := range p.facts() {
		out = append(out, f.Source)
	}
	for _, c := range p.Contacts {
		out = append(out, c.Source)
	}
	out = slices.DeleteFunc(out, func(s string) bool { return s == "" })
	slices.Sort(out)
	return slices.Compact(out)
}

// SearchText returns every fact and contact value, one per line, for
// full-text indexing.
func (p Profile) SearchText() string {
	var parts []string
	for _, f := range p.facts() {
		parts = append(parts, f.Value)
	}
	for _, c := range p.Contacts {
		parts = append(parts, c.Value)
	}
	return strings.Join(parts, "\n")
}
