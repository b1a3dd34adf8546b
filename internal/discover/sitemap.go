package discover

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// Limits from the sitemaps.org protocol: one sitemap holds at most 50,000
// URLs and 50 MB uncompressed. Enforcing them bounds memory and CPU on
// hostile or broken files, including gzip bombs.
const (
	// MaxSitemapEntries caps the page plus nested-sitemap URLs ParseSitemap returns.
	MaxSitemapEntries = 50_000
	// MaxSitemapBytes caps the uncompressed bytes ParseSitemap reads.
	MaxSitemapBytes = 50 << 20
)

// Errors returned (wrapped) by ParseSitemap alongside whatever it parsed.
var (
	// ErrSitemapTruncated reports that the entry or size cap was hit and
	// later entries were skipped.
	ErrSitemapTruncated = errors.New("sitemap truncated")
	// ErrNotSitemap reports a document that is neither a <urlset>, a
	// <sitemapindex>, nor a plain-text URL list (often an HTML error page).
	ErrNotSitemap = errors.New("not a sitemap")
)

// ParseSitemap reads a sitemap or sitemap index — XML, gzip-compressed XML,
// or the protocol's plain-text form with one URL per line — and returns
// the page URLs (<urlset><url><loc>) and nested sitemap URLs
// (<sitemapindex><sitemap><loc>). Only absolute http(s) URLs are returned.
// It never discards what it has read: on a garbled, truncated or oversized
// file it returns the entries parsed so far together with a wrapped error.
func ParseSitemap(data []byte) (pages, sitemaps []string, err error) {
	return parseSitemap(data, MaxSitemapBytes)
}

// parseSitemap is ParseSitemap with the size cap as a parameter, so tests
// can exercise the cap without inflating 50 MB.
func parseSitemap(data []byte, maxBytes int64) (pages, sitemaps []string, err error) {
	var r io.Reader = bytes.NewReader(data)
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		gz, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, fmt.Errorf("sitemap: gzip: %w", err)
		}
		defer gz.Close()
		r = gz
	}
	// Read one byte past the cap so an oversized file is detected rather
	// than silently cut.
	lr := &io.LimitedReader{R: r, N: maxBytes + 1}
	br := bufio.NewReader(lr)

	first, err := firstNonSpace(br)
	if err != nil {
		return nil, nil, fmt.Errorf("sitemap: %w", err)
	}
	if first == '<' {
		pages, sitemaps, err = parseXMLSitemap(br)
	} else {
		pages, err = parseTextSitemap(br)
	}
	if lr.N <= 0 {
		// Any parse error here is just the cut-off tail of an oversized file.
		err = ErrSitemapTruncated
	}
	if err != nil {
		err = fmt.Errorf("sitemap: %w", err)
	}
	return pages, sitemaps, err
}

// firstNonSpace peeks past a UTF-8 BOM and whitespace to the first byte of
// content, leaving it unread.
func firstNonSpace(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.Peek(1)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return 0, ErrNotSitemap
			}
			return 0, err
		}
		switch {
		case b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n':
			_, _ = br.Discard(1)
		case b[0] == 0xEF:
			if bom, _ := br.Peek(3); bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
				_, _ = br.Discard(3)
				continue
			}
			return b[0], nil
		default:
			return b[0], nil
		}
	}
}

func parseXMLSitemap(r io.Reader) (pages, sitemaps []string, err error) {
	d := xml.NewDecoder(r)
	// Real sitemaps often contain unescaped '&' or HTML entities; lenient
	// mode keeps them readable instead of aborting at the first one.
	d.Strict = false
	d.Entity = xml.HTMLEntity
	// URLs are ASCII in practice, so reading a declared legacy charset as
	// UTF-8 loses nothing that matters and avoids rejecting the file.
	d.CharsetReader = func(_ string, in io.Reader) (io.Reader, error) { return in, nil }

	var stack []string // local names of open elements
	root := ""
	for {
		tok, terr := d.Token()
		if terr != nil {
			if errors.Is(terr, io.EOF) {
				break
			}
			return pages, sitemaps, terr
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := strings.ToLower(t.Name.Local)
			if root == "" {
				root = name
				if root != "urlset" && root != "sitemapindex" {
					return nil, nil, fmt.Errorf("%w: root element <%s>", ErrNotSitemap, t.Name.Local)
				}
			}
			// Only a <loc> directly inside <url>/<sitemap> counts: image
			// and video extensions nest their own <image:loc> deeper.
			if name == "loc" && len(stack) == 2 {
				var loc string
				if derr := d.DecodeElement(&loc, &t); derr != nil {
					return pages, sitemaps, derr
				}
				if len(pages)+len(sitemaps) >= MaxSitemapEntries {
					return pages, sitemaps, ErrSitemapTruncated
				}
				loc, ok := cleanLoc(loc)
				switch {
				case !ok:
				case root == "urlset" && stack[1] == "url":
					pages = append(pages, loc)
				case root == "sitemapindex" && stack[1] == "sitemap":
					sitemaps = append(sitemaps, loc)
				}
				continue
			}
			stack = append(stack, name)
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
	if root == "" {
		return pages, sitemaps, ErrNotSitemap
	}
	return pages, sitemaps, nil
}

// parseTextSitemap reads the plain-text sitemap form: one URL per line.
func parseTextSitemap(r io.Reader) ([]string, error) {
	var pages []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64<<10) // a URL is at most a few KB
	sawLine := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if !sawLine && !strings.HasPrefix(line, "http://") && !strings.HasPrefix(line, "https://") {
			// Text sitemaps hold nothing but URLs; anything else (JSON, an
			// error message) is not a sitemap at all.
			return nil, ErrNotSitemap
		}
		sawLine = true
		if len(pages) >= MaxSitemapEntries {
			return pages, ErrSitemapTruncated
		}
		if loc, ok := cleanLoc(line); ok {
			pages = append(pages, loc)
		}
	}
	return pages, sc.Err()
}

// cleanLoc trims a <loc> value and keeps it only if it is an absolute
// http(s) URL, the only kind the crawler can use.
func cleanLoc(s string) (string, bool) {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false
	}
	return s, true
}
