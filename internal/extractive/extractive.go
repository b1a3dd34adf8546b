// Package extractive is the offline summarizer: a deterministic,
// dependency-free TextRank over sentences. Research summaries fall back to
// it when no LLM provider is configured, and every result it produces is
// labelled Provider "extractive" so nobody mistakes it for an LLM.
package extractive

import (
	"math"
	"sort"
	"strings"
)

// Provider is the provider name of every extractive result.
const Provider = "extractive"

// Doc is one input text and where it came from (a page URL).
type Doc struct {
	Source string
	Text   string
}

// Sentence is one chosen sentence.
type Sentence struct {
	Text   string  `json:"text"`
	Source string  `json:"source,omitempty"`
	Score  float64 `json:"score"`
	// Position is the sentence's index across all inputs, in order.
	Position int `json:"position"`
}

// Summary is the chosen sentences in reading order.
type Summary struct {
	Provider  string     `json:"provider"`
	Sentences []Sentence `json:"sentences"`
}

// Text joins the summary's sentences.
func (s Summary) Text() string {
	parts := make([]string, len(s.Sentences))
	for i, st := range s.Sentences {
		parts[i] = st.Text
	}
	return strings.Join(parts, " ")
}

// PageRank parameters of TextRank (Mihalcea & Tarau, 2004).
const (
	damping    = 0.85
	maxIter    = 100
	tolerance  = 1e-6
	minWords   = 4
	maxWords   = 80
	duplicateJ = 0.8
	// maxCandidates bounds the O(n²) similarity graph: 1,500 sentences
	// (~18 MB, well under a second) cover dozens of pages; later ones go.
	maxCandidates = 1500
)

type candidate struct {
	Sentence
	words map[string]bool
}

// Summarize picks at most n sentences that best represent docs. The same
// input always gives the same output.
func Summarize(docs []Doc, n int) Summary {
	out := Summary{Provider: Provider, Sentences: []Sentence{}}
	if n <= 0 {
		return out
	}
	var cands []candidate
	pos := 0
	for _, d := range docs {
		for _, s := range Sentences(d.Text) {
			words := contentWords(s)
			if len(words) >= minWords && len(strings.Fields(s)) <= maxWords && len(cands) < maxCandidates {
				cands = append(cands, candidate{Sentence: Sentence{Text: s, Source: d.Source, Position: pos}, words: words})
			}
			pos++
		}
	}
	if len(cands) == 0 {
		return out
	}
	scores := rank(cands)
	order := make([]int, len(cands))
	for i := range order {
		order[i] = i
	}
	// Highest score first; earlier sentences win ties, as leads do in
	// news and "about" pages.
	sort.SliceStable(order, func(a, b int) bool {
		sa, sb := scores[order[a]], scores[order[b]]
		if math.Abs(sa-sb) > 1e-12 {
			return sa > sb
		}
		return order[a] < order[b]
	})
	var chosen []candidate
	for _, i := range order {
		if len(chosen) == n {
			break
		}
		c := cands[i]
		c.Score = math.Round(scores[i]*1e6) / 1e6
		if !duplicates(c, chosen) {
			chosen = append(chosen, c)
		}
	}
	sort.Slice(chosen, func(a, b int) bool { return chosen[a].Position < chosen[b].Position })
	for _, c := range chosen {
		out.Sentences = append(out.Sentences, c.Sentence)
	}
	return out
}

// rank runs PageRank over the sentence-similarity graph.
func rank(cands []candidate) []float64 {
	n := len(cands)
	w := make([][]float64, n)
	outSum := make([]float64, n)
	for i := range w {
		w[i] = make([]float64, n)
	}
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			s := similarity(cands[i].words, cands[j].words)
			w[i][j], w[j][i] = s, s
			outSum[i] += s
			outSum[j] += s
		}
	}
	scores := make([]float64, n)
	for i := range scores {
		scores[i] = 1
	}
	next := make([]float64, n)
	for iter := 0; iter < maxIter; iter++ {
		delta := 0.0
		for i := 0; i < n; i++ {
			sum := 0.0
			for j := 0; j < n; j++ {
				if w[j][i] > 0 && outSum[j] > 0 {
					sum += w[j][i] / outSum[j] * scores[j]
				}
			}
			next[i] = (1 - damping) + damping*sum
			delta += math.Abs(next[i] - scores[i])
		}
		scores, next = next, scores
		if delta < tolerance {
			break
		}
	}
	return scores
}

// similarity is TextRank's normalised word overlap.
func similarity(a, b map[string]bool) float64 {
	overlap := 0
	for w := range a {
		if b[w] {
			overlap++
		}
	}
	if overlap == 0 {
		return 0
	}
	return float64(overlap) / (math.Log(float64(len(a))+1) + math.Log(float64(len(b))+1))
}

func duplicates(c candidate, chosen []candidate) bool {
	for _, o := range chosen {
		inter := 0
		for w := range c.words {
			if o.words[w] {
				inter++
			}
		}
		union := len(c.words) + len(o.words) - inter
		if union > 0 && float64(inter)/float64(union) >= duplicateJ {
			return true
		}
	}
	return false
}
