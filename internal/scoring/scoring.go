// Package scoring scores assessment answers against their definition:
// each answer 0-100 (linear on a scale, the option's score otherwise), a
// category the weighted mean of its questions, the overall score the
// weighted mean of the categories, and the maturity level of the overall
// score. It also writes the deterministic recommendations.
package scoring

import (
	"fmt"
	"math"
	"sort"

	"github.com/groundwork-dev/groundwork"
)

// Question is one answered question's score.
type Question struct {
	Key, Category, Text string
	Score               float64
}

// Result is a scored assessment.
type Result struct {
	Overall    float64
	Level      string
	Categories []groundwork.CategoryScore
	Questions  []Question
}

// Score scores answers, which CheckAnswers accepted, against def. Scores
// are rounded to two decimals; a category whose questions all weigh 0, or
// whose own weight is 0, does not count towards the overall score.
func Score(def groundwork.AssessmentDefinition, answers map[string]any) (Result, error) {
	if errs := def.CheckAnswers(answers); len(errs) > 0 {
		return Result{}, fmt.Errorf("invalid answers: %s", errs[0].Error())
	}
	type acc struct{ sum, weight float64 }
	cats := map[string]*acc{}
	var res Result
	for _, q := range def.Questions {
		s, err := q.Score(answers[q.Key])
		if err != nil {
			return Result{}, fmt.Errorf("answer %s: %w", q.Key, err)
		}
		a := cats[q.Category]
		if a == nil {
			a = &acc{}
			cats[q.Category] = a
		}
		a.sum += s * q.Weight
		a.weight += q.Weight
		res.Questions = append(res.Questions, Question{Key: q.Key, Category: q.Category, Text: q.Text, Score: round2(s)})
	}
	var sum, weight float64
	for _, c := range def.Categories {
		a := cats[c.Key]
		if a == nil || a.weight == 0 {
			continue
		}
		score := a.sum / a.weight
		res.Categories = append(res.Categories, groundwork.CategoryScore{Key: c.Key, Name: c.Name, Score: round2(score)})
		sum += score * c.Weight
		weight += c.Weight
	}
	if weight > 0 {
		res.Overall = round2(sum / weight)
	}
	res.Level = Level(def.Levels, res.Overall)
	return res, nil
}

// Level is the highest level whose min_score the score reaches.
func Level(levels []groundwork.AssessmentLevel, score float64) string {
	best, bestMin := "", math.Inf(-1)
	for _, l := range levels {
		if score >= l.MinScore && l.MinScore > bestMin {
			best, bestMin = l.Name, l.MinScore
		}
	}
	return best
}

// Percentile is the share of a cohort scoring below, ties (this one
// included) counted half, in percent: below and equal count the others.
func Percentile(below, equal, others int64) float64 {
	return round2((float64(below) + float64(equal+1)/2) / float64(others+1) * 100)
}

// MaxRecommendations is how many categories get a recommendation.
const MaxRecommendations = 3

// Recommend writes the deterministic recommendations: the weakest
// categories below 100, weakest first, each with the category's own advice
// or its lowest-scoring question.
func Recommend(def groundwork.AssessmentDefinition, r Result) []groundwork.Recommendation {
	cats := append([]groundwork.CategoryScore(nil), r.Categories...)
	sort.SliceStable(cats, func(i, j int) bool { return cats[i].Score < cats[j].Score })
	out := []groundwork.Recommendation{}
	for _, c := range cats {
		if len(out) == MaxRecommendations || c.Score >= 100 {
			break
		}
		text := ""
		if dc, ok := def.Category(c.Key); ok && dc.Recommendation != "" {
			text = fmt.Sprintf("%s (scored %.1f): %s", c.Name, c.Score, dc.Recommendation)
		} else {
			var low *Question
			for i := range r.Questions {
				q := &r.Questions[i]
				if q.Category == c.Key && (low == nil || q.Score < low.Score) {
					low = q
				}
			}
			text = fmt.Sprintf("Strengthen %s (scored %.1f), starting with %q, which scored %.0f.", c.Name, c.Score, low.Text, low.Score)
		}
		out = append(out, groundwork.Recommendation{Category: c.Key, Text: text})
	}
	return out
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }
