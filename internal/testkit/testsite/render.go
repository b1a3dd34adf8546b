package testsite

import (
	"encoding/json"
	"fmt"
	"html"
	"strings"
)

// build generates every page and document once the URL is known; after it
// the site's content is immutable, so handlers share it without locks.
func (s *Site) build() {
	s.org = orgFor(s.opts.Company)
	s.pages = plan(s.org, s.opts.Pages)
	s.byPath = make(map[string]*page, len(s.pages))
	s.bySlug = make(map[string]*page, len(s.pages))
	var products, posts []link
	for i := range s.pages {
		p := &s.pages[i]
		s.byPath[p.Path] = p
		s.bySlug[p.Slug] = p
		switch {
		case strings.HasPrefix(p.Path, "/products/"):
			products = append(products, link{Href: p.Path, Text: p.anchor})
		case strings.HasPrefix(p.Path, "/blog/"):
			posts = append(posts, link{Href: p.Path, Text: p.anchor})
		}
	}
	for i := range s.pages {
		p := &s.pages[i]
		fillContent(p, s.org, products, posts)
		b, err := json.Marshal(p.content)
		if err != nil {
			panic(fmt.Sprintf("testsite: encode %s: %v", p.Slug, err)) // plain structs always encode
		}
		p.json = b
		p.shell = s.shell(p)
	}
	s.robots = []byte("# robots.txt for " + s.org.Name + "\nUser-agent: *\nDisallow: /private/\n\nSitemap: " + s.URL + SitemapPath + "\n")
	s.sitemap = s.renderSitemap()
	s.faults = s.renderFaults()
}

// esc escapes text for HTML content and quoted attributes.
func esc(s string) string { return html.EscapeString(s) }

// head writes the document start shared by every page: title, description,
// OpenGraph tags, stylesheet and icon.
func (s *Site) head(b *strings.Builder, title, description, path string) {
	fmt.Fprintf(b, `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%s</title>
<meta name="description" content="%s">
<link rel="canonical" href="%s">
<meta property="og:type" content="website">
<meta property="og:site_name" content="%s">
<meta property="og:title" content="%s">
<meta property="og:description" content="%s">
<meta property="og:url" content="%s">
<meta property="og:image" content="%s">
<meta name="twitter:card" content="summary_large_image">
<link rel="stylesheet" href="%s">
<link rel="icon" type="image/png" href="%s">
`, esc(title), esc(description), esc(s.URL+path), esc(s.org.Name), esc(title), esc(description),
		esc(s.URL+path), esc(s.URL+HeroPath), StylesheetPath, faviconPath)
}

// header writes the site header with the main navigation.
func (s *Site) header(b *strings.Builder) {
	fmt.Fprintf(b, `<header class="site-header">
<a class="brand" href="/"><img src="%s" alt="%s logo" width="40" height="40"> %s</a>
<nav aria-label="Main">`, LogoPath, esc(s.org.Name), esc(s.org.Name))
	for _, path := range []string{"/about", "/products", "/pricing", "/customers", "/careers", "/blog", "/contact"} {
		if p := s.byPath[path]; p != nil {
			fmt.Fprintf(b, `<a href="%s">%s</a> `, p.Path, esc(p.anchor))
		}
	}
	b.WriteString("</nav>\n</header>\n")
}

// footer writes the footer; the home page's lists every page (and the
// private one), so a crawler starting at / reaches the whole site.
func (s *Site) footer(b *strings.Builder, home bool) {
	b.WriteString(`<footer class="site-footer">` + "\n")
	if home {
		var products, posts []*page
		for i := range s.pages {
			p := &s.pages[i]
			switch {
			case strings.HasPrefix(p.Path, "/products/"):
				products = append(products, p)
			case strings.HasPrefix(p.Path, "/blog/"):
				posts = append(posts, p)
			}
		}
		list := func(title string, ps []*page) {
			if len(ps) == 0 {
				return
			}
			fmt.Fprintf(b, "<section><h2>%s</h2>\n<ul>\n", esc(title))
			for _, p := range ps {
				fmt.Fprintf(b, "<li><a href=\"%s\">%s</a></li>\n", esc(p.Path), esc(p.anchor))
			}
			b.WriteString("</ul></section>\n")
		}
		list("Products", products)
		list("From the blog", posts)
		fmt.Fprintf(b, "<p><a href=\"%s\">Partner portal</a></p>\n", PrivatePath)
	}
	o := s.org
	fmt.Fprintf(b, "<p>&copy; 2025 %s &middot; %s, %s %s &middot; <a href=\"mailto:%s\">%s</a> &middot; %s</p>\n</footer>\n",
		esc(o.Name), esc(o.StreetAddress), esc(o.PostalCode), esc(o.Locality), esc(o.Email), esc(o.Email), esc(o.Telephone))
}

// shell renders a content page: static head, header and footer around an
// empty <main> that the inline script fills from the page's JSON.
func (s *Site) shell(p *page) []byte {
	var b strings.Builder
	s.head(&b, p.Title, p.Description, p.Path)
	if p.Category == "home" {
		b.WriteString(`<script type="application/ld+json">` + s.orgJSONLD() + "</script>\n")
	}
	fmt.Fprintf(&b, "</head>\n<body class=\"page-%s\">\n", p.Category)
	s.header(&b)
	if p.Category == "home" {
		fmt.Fprintf(&b, `<section class="hero"><img src="%s" alt="Planners at %s reviewing the day's loads" width="1200" height="400"></section>`+"\n",
			HeroPath, esc(s.org.Name))
	}
	b.WriteString(`<main id="content" aria-busy="true"><p class="loading">Loading&hellip;</p>` +
		"\n<noscript><p>Please enable JavaScript to read this page.</p></noscript></main>\n")
	s.footer(&b, p.Category == "home")
	b.WriteString(s.script(p))
	b.WriteString("</body>\n</html>\n")
	return []byte(b.String())
}

// script is the inline renderer. It waits RenderDelay, fetches the page's
// JSON and builds <article> inside <main>; data-rendered on <html> turns
// "true" (or "error") when it is done, for tests to wait on.
func (s *Site) script(p *page) string {
	src, _ := json.Marshal(p.APIPath) // json.Marshal escapes <, > and &, safe in <script>
	return fmt.Sprintf(`<script>
(function () {
  var src = %s;
  var delay = %d;
  function el(tag, text) {
    var e = document.createElement(tag);
    if (text) e.textContent = text;
    return e;
  }
  function render(d) {
    var article = el("article");
    article.appendChild(el("h1", d.heading));
    if (d.figure) {
      var fig = el("figure"), img = el("img");
      img.src = d.figure.src;
      img.alt = d.figure.alt;
      img.width = 800;
      img.height = 450;
      fig.appendChild(img);
      fig.appendChild(el("figcaption", d.figure.caption));
      article.appendChild(fig);
    }
    d.sections.forEach(function (s) {
      if (s.heading) article.appendChild(el("h2", s.heading));
      s.paragraphs.forEach(function (t) { article.appendChild(el("p", t)); });
    });
    if (d.links && d.links.length) {
      var ul = el("ul");
      d.links.forEach(function (l) {
        var li = el("li"), a = el("a", l.text);
        a.href = l.href;
        li.appendChild(a);
        ul.appendChild(li);
      });
      article.appendChild(ul);
    }
    var main = document.getElementById("content");
    main.replaceChildren(article);
    main.removeAttribute("aria-busy");
    if (!document.title) document.title = d.title;
    document.documentElement.setAttribute("data-rendered", "true");
  }
  setTimeout(function () {
    fetch(src, { headers: { "Accept": "application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then(render)
      .catch(function () {
        document.getElementById("content").textContent = "Sorry, this page could not be loaded.";
        document.documentElement.setAttribute("data-rendered", "error");
      });
  }, delay);
})();
</script>
`, src, s.opts.RenderDelay.Milliseconds())
}

// orgJSONLD is the home page's schema.org Organization.
func (s *Site) orgJSONLD() string {
	o := s.org
	ld := map[string]any{
		"@context":     "https://schema.org",
		"@type":        "Organization",
		"name":         o.Name,
		"url":          s.URL + "/",
		"logo":         s.URL + LogoPath,
		"description":  s.pages[0].Description,
		"email":        o.Email,
		"telephone":    o.Telephone,
		"foundingDate": fmt.Sprint(o.Founded),
		"address": map[string]any{
			"@type":           "PostalAddress",
			"streetAddress":   o.StreetAddress,
			"addressLocality": o.Locality,
			"postalCode":      o.PostalCode,
			"addressCountry":  o.Country,
		},
		"numberOfEmployees": map[string]any{"@type": "QuantitativeValue", "value": o.Employees},
		"sameAs":            []string{o.LinkedIn},
	}
	b, err := json.MarshalIndent(ld, "", "  ") // map keys are sorted: deterministic
	if err != nil {
		panic(fmt.Sprintf("testsite: encode JSON-LD: %v", err)) // plain maps always encode
	}
	return string(b)
}

// renderSitemap lists every page in Site.Pages with absolute URLs.
func (s *Site) renderSitemap() []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">` + "\n")
	for _, p := range s.pages {
		prio := "0.5"
		if p.Category == "home" {
			prio = "1.0"
		}
		fmt.Fprintf(&b, "  <url><loc>%s</loc><lastmod>%s</lastmod><changefreq>weekly</changefreq><priority>%s</priority></url>\n",
			esc(s.URL+p.Path), p.lastmod, prio)
	}
	b.WriteString("</urlset>\n")
	return []byte(b.String())
}

// staticPage renders a page whose content is in the HTML itself (error and
// fault pages), with the site's head, header and footer.
func (s *Site) staticPage(title, path, body, extraHead string) []byte {
	var b strings.Builder
	s.head(&b, title+" | "+s.org.Name, title, path)
	b.WriteString(extraHead)
	b.WriteString("</head>\n<body class=\"page-static\">\n")
	s.header(&b)
	b.WriteString("<main id=\"content\"><article>\n<h1>" + esc(title) + "</h1>\n" + body + "</article></main>\n")
	s.footer(&b, false)
	b.WriteString("</body>\n</html>\n")
	return []byte(b.String())
}
