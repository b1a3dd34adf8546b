package extractive

import (
	"strings"
	"unicode"
)

// abbreviations end in a period without ending a sentence.
var abbreviations = map[string]bool{
	"inc": true, "ltd": true, "co": true, "corp": true, "llc": true, "dr": true, "mr": true, "mrs": true,
	"ms": true, "prof": true, "st": true, "vs": true, "etc": true, "e.g": true, "i.e": true, "u.s": true,
	"no": true, "approx": true, "jan": true, "feb": true, "mar": true, "apr": true, "jun": true, "jul": true,
	"aug": true, "sep": true, "sept": true, "oct": true, "nov": true, "dec": true,
}

// Sentences splits text into sentences: at . ! ? followed by a space and
// an upper-case letter, digit or quote (not after a known abbreviation or
// an initial), and at blank lines and list-item line breaks.
func Sentences(text string) []string {
	var out []string
	for _, block := range splitBlocks(text) {
		out = append(out, splitSentences(block)...)
	}
	return out
}

// splitBlocks breaks at blank lines and at lines that start list items or
// headings, which carry no final period.
func splitBlocks(text string) []string {
	var blocks []string
	var cur []string
	flush := func() {
		if s := strings.Join(strings.Fields(strings.Join(cur, " ")), " "); s != "" {
			blocks = append(blocks, s)
		}
		cur = cur[:0]
	}
	for _, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(line)
		switch {
		case t == "":
			flush()
		case strings.HasPrefix(t, "- "), strings.HasPrefix(t, "* "), strings.HasPrefix(t, "#"):
			flush()
			cur = append(cur, strings.TrimLeft(t, "-*# "))
			flush()
		default:
			cur = append(cur, t)
		}
	}
	flush()
	return blocks
}

func splitSentences(s string) []string {
	var out []string
	rs := []rune(s)
	start := 0
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if r != '.' && r != '!' && r != '?' {
			continue
		}
		end := i + 1
		// Include closing quotes and brackets.
		for end < len(rs) && strings.ContainsRune(`"'”’)]`, rs[end]) {
			end++
		}
		if end >= len(rs) || rs[end] != ' ' || end+1 >= len(rs) {
			continue
		}
		next := rs[end+1]
		if !unicode.IsUpper(next) && !unicode.IsDigit(next) && !strings.ContainsRune(`"'“‘(`, next) {
			continue
		}
		if r == '.' && isAbbreviation(rs[start:i]) {
			continue
		}
		out = append(out, strings.TrimSpace(string(rs[start:end])))
		start = end + 1
	}
	if rest := strings.TrimSpace(string(rs[start:])); rest != "" {
		out = append(out, rest)
	}
	return out
}

// isAbbreviation reports whether the word before a period is a known
// abbreviation or a single-letter initial ("J. Smith").
func isAbbreviation(before []rune) bool {
	i := len(before)
	for i > 0 && !unicode.IsSpace(before[i-1]) {
		i--
	}
	word := strings.ToLower(strings.Trim(string(before[i:]), `"'(“`))
	if len([]rune(word)) == 1 && unicode.IsLetter([]rune(word)[0]) {
		return true
	}
	return abbreviations[word]
}

// contentWords is the set of a sentence's lower-cased, lightly stemmed
// words, without stop words.
func contentWords(s string) map[string]bool {
	words := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if len([]rune(w)) < 2 || stopWords[w] {
			continue
		}
		words[stem(w)] = true
	}
	return words
}

// stem strips the commonest English suffixes so "customers" and
// "customer" count as one word; crude, but deterministic and enough for
// overlap scoring.
func stem(w string) string {
	for _, suf := range []string{"ies", "es", "s", "ing", "ed"} {
		if strings.HasSuffix(w, suf) && len(w)-len(suf) >= 3 {
			if suf == "ies" {
				return w[:len(w)-3] + "y"
			}
			return w[:len(w)-len(suf)]
		}
	}
	return w
}

var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a about above after again against all am an and any are as at be because been
before being below between both but by can could did do does doing down during each few for from further had has
have having he her here hers herself him himself his how i if in into is it its itself just me more most my myself
no nor not now of off on once only or other our ours ourselves out over own same she should so some such than that
the their theirs them themselves then there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your yours yourself yourselves also our us may might
must shall can't won't it's we're they're i'm via per`) {
		m[w] = true
	}
	return m
}()
