package profile

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// unknownValues are the answers the prompt asks for, or models give, when
// the pages do not state a fact; they are left out rather than stored.
var unknownValues = []string{"unknown", "n/a", "none", "not stated", "not available", "-"}

// FromFields builds a Profile from the parsed JSON answer of the
// "company-profile" prompt template. It keeps only facts that cite one of
// pages (compared without fragment, trailing slash or case of scheme and
// host) and cites them by that page's URL exactly; every dropped fact gets
// a warning, returned and also stored in Profile.Warnings. Empty and
// "unknown" values are left out silently, as the prompt asks for them when
// the pages are silent. The caller sets Provider and Model.
func FromFields(fields map[string]any, pages []Page) (Profile, []string) {
	b := fieldBuilder{pages: map[string]string{}}
	for _, p := range pages {
		if k := normURL(p.URL); k != "" {
			if _, dup := b.pages[k]; !dup {
				b.pages[k] = p.URL
			}
		}
	}
	prof := Profile{
		Summary:      b.one(fields, "summary"),
		Industry:     b.one(fields, "industry"),
		Products:     b.list(fields, "products"),
		Customers:    b.list(fields, "customers"),
		PricingModel: b.one(fields, "pricing_model"),
		Size:         b.one(fields, "size"),
		Hiring:       b.one(fields, "hiring"),
		Contacts:     b.contacts(fields),
	}
	prof.Warnings = b.warnings
	return prof, slices.Clone(b.warnings)
}

// fieldBuilder checks the facts of one answer against the fetched pages.
type fieldBuilder struct {
	// pages maps normalised page URLs to the URLs as fetched.
	pages    map[string]string
	warnings []string
}

func (b *fieldBuilder) warn(format string, args ...any) {
	b.warnings = append(b.warnings, fmt.Sprintf(format, args...))
}

// fact checks one {value, source} object found at path and returns it
// cited by the matching page's URL, or nil.
func (b *fieldBuilder) fact(path string, v any) (Fact, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		if v != nil {
			b.warn("%s: dropped: expected an object with value and source, got %T", path, v)
		}
		return Fact{}, false
	}
	value := clean(m["value"])
	if value == "" || isUnknown(value) {
		return Fact{}, false
	}
	source := clean(m["source"])
	if source == "" {
		b.warn("%s: dropped %q: it cites no source", path, clip(value, 80))
		return Fact{}, false
	}
	page, ok := b.pages[normURL(source)]
	if !ok {
		b.warn("%s: dropped %q: its source %q is not one of the fetched pages", path, clip(value, 80), clip(source, 200))
		return Fact{}, false
	}
	return Fact{Value: value, Source: page}, true
}

// one reads the single fact at key.
func (b *fieldBuilder) one(fields map[string]any, key string) *Fact {
	f, ok := b.fact(key, fields[key])
	if !ok {
		return nil
	}
	return &f
}

// list reads the array of facts at key, dropping repeats.
func (b *fieldBuilder) list(fields map[string]any, key string) []Fact {
	out := []Fact{}
	seen := map[string]bool{}
	for i, v := range b.array(fields, key) {
		f, ok := b.fact(fmt.Sprintf("%s[%d]", key, i), v)
		if !ok || seen[strings.ToLower(f.Value)] {
			continue
		}
		seen[strings.ToLower(f.Value)] = true
		out = append(out, f)
	}
	return out
}

// array returns the array at key, warning when the key holds anything else.
func (b *fieldBuilder) array(fields map[string]any, key string) []any {
	v, ok := fields[key]
	if !ok || v == nil {
		return nil
	}
	a, ok := v.([]any)
	if !ok {
		b.warn("%s: dropped: expected an array, got %T", key, v)
	}
	return a
}

// contacts reads the contacts array, whose objects also carry a kind.
func (b *fieldBuilder) contacts(fields map[string]any) []Contact {
	out := []Contact{}
	seen := map[string]bool{}
	for i, v := range b.array(fields, "contacts") {
		path := fmt.Sprintf("contacts[%d]", i)
		f, ok := b.fact(path, v)
		if !ok {
			continue
		}
		kind := strings.ToLower(clean(v.(map[string]any)["kind"]))
		if !slices.Contains(contactKinds, kind) {
			b.warn("%s: dropped %q: kind %q is not one of %s", path, clip(f.Value, 80), clip(kind, 40), strings.Join(contactKinds, ", "))
			continue
		}
		key := kind + "\x00" + strings.ToLower(f.Value)
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, Contact{Kind: kind, Value: f.Value, Source: f.Source})
	}
	// Group by kind, as Extract does, so both builders read alike.
	slices.SortStableFunc(out, func(a, b Contact) int {
		return slices.Index(contactKinds, a.Kind) - slices.Index(contactKinds, b.Kind)
	})
	return out
}

// clean returns v as a string with whitespace collapsed: models sometimes
// answer a headcount as a number. Anything else is "".
func clean(v any) string {
	var s string
	switch v := v.(type) {
	case string:
		s = v
	case float64:
		s = strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strings.Join(strings.Fields(s), " ")
}

// isUnknown reports whether a value says the fact is not known.
func isUnknown(v string) bool {
	return slices.Contains(unknownValues, strings.ToLower(strings.Trim(v, " .")))
}
