package groundwork

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
)

var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// AssessmentDefinition is a versioned questionnaire: categories with
// weights, questions answered on a numeric scale or by choosing an option,
// and maturity levels by overall score. Scores run from 0 to 100.
type AssessmentDefinition struct {
	Slug       string               `json:"slug" pattern:"^[a-z0-9][a-z0-9-]{0,63}$" doc:"Stable name; each change makes a new version under it." example:"sales-maturity"`
	Name       string               `json:"name" minLength:"1" maxLength:"200" example:"Sales maturity"`
	Categories []AssessmentCategory `json:"categories" minItems:"1" maxItems:"50"`
	Questions  []AssessmentQuestion `json:"questions" minItems:"1" maxItems:"500"`
	Levels     []AssessmentLevel    `json:"levels" minItems:"1" maxItems:"20" doc:"Maturity levels; a result has the highest level whose min_score it reaches."`
}

// AssessmentCategory is one scored area of a definition.
type AssessmentCategory struct {
	Key            string  `json:"key" pattern:"^[a-z0-9][a-z0-9_-]{0,63}$" example:"pipeline"`
	Name           string  `json:"name" minLength:"1" maxLength:"200" example:"Pipeline management"`
	Weight         float64 `json:"weight" minimum:"0" maximum:"1000" doc:"Weight in the overall score."`
	Recommendation string  `json:"recommendation,omitempty" maxLength:"2000" doc:"Advice given when the category is among the weakest (deterministic recommendations)."`
}

// AssessmentQuestion is one question; it has either a scale or options.
type AssessmentQuestion struct {
	Key      string         `json:"key" pattern:"^[a-z0-9][a-z0-9_-]{0,63}$" example:"q1"`
	Category string         `json:"category" maxLength:"64"`
	Text     string         `json:"text" minLength:"1" maxLength:"2000"`
	Weight   float64        `json:"weight" minimum:"0" maximum:"1000" doc:"Weight within its category."`
	Scale    *AnswerScale   `json:"scale,omitempty" doc:"A numeric answer from min to max (integers), scored linearly 0-100."`
	Options  []AnswerOption `json:"options,omitempty" maxItems:"50" doc:"A choice among values, each with its own score."`
}

// AnswerScale is a numeric answer's range.
type AnswerScale struct {
	Min int `json:"min" minimum:"-1000" maximum:"1000"`
	Max int `json:"max" minimum:"-1000" maximum:"1000"`
}

// AnswerOption is one choice of a question.
type AnswerOption struct {
	Value string  `json:"value" minLength:"1" maxLength:"100"`
	Label string  `json:"label,omitempty" maxLength:"200"`
	Score float64 `json:"score" minimum:"0" maximum:"100"`
}

// AssessmentLevel is a maturity level by overall score.
type AssessmentLevel struct {
	Name     string  `json:"name" minLength:"1" maxLength:"100" example:"Established"`
	MinScore float64 `json:"min_score" minimum:"0" maximum:"100"`
}

// Validate checks the definition's internal consistency: unique keys,
// every question in a known category with a scale or options, positive
// total weights, and a level from 0.
func (d AssessmentDefinition) Validate() []FieldError {
	var errs []FieldError
	add := func(field, format string, a ...any) {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, a...)})
	}
	if !slugPattern.MatchString(d.Slug) {
		add("slug", "lower-case letters, digits and '-', up to 64")
	}
	cats := map[string]float64{}
	catWeight := 0.0
	for i, c := range d.Categories {
		if _, dup := cats[c.Key]; dup {
			add(fmt.Sprintf("categories[%d].key", i), "%q is used twice", c.Key)
		}
		cats[c.Key] = 0
		catWeight += c.Weight
	}
	if catWeight <= 0 {
		add("categories", "the categories' weights must add up to more than 0")
	}
	seen := map[string]bool{}
	for i, q := range d.Questions {
		f := fmt.Sprintf("questions[%d]", i)
		if seen[q.Key] {
			add(f+".key", "%q is used twice", q.Key)
		}
		seen[q.Key] = true
		if _, ok := cats[q.Category]; !ok {
			add(f+".category", "no category %q", q.Category)
		} else {
			cats[q.Category] += q.Weight
		}
		switch {
		case (q.Scale == nil) == (len(q.Options) == 0):
			add(f, "give either a scale or options")
		case q.Scale != nil && q.Scale.Max <= q.Scale.Min:
			add(f+".scale", "max must be above min")
		}
		values := map[string]bool{}
		for j, o := range q.Options {
			if values[o.Value] {
				add(fmt.Sprintf("%s.options[%d].value", f, j), "%q is used twice", o.Value)
			}
			values[o.Value] = true
		}
	}
	for i, c := range d.Categories {
		if w, ok := cats[c.Key]; ok && w <= 0 && c.Weight > 0 {
			add(fmt.Sprintf("categories[%d]", i), "category %q has no question with a weight above 0", c.Key)
		}
	}
	hasZero := false
	names := map[string]bool{}
	for i, l := range d.Levels {
		if names[l.Name] {
			add(fmt.Sprintf("levels[%d].name", i), "%q is used twice", l.Name)
		}
		names[l.Name] = true
		hasZero = hasZero || l.MinScore == 0
	}
	if !hasZero {
		add("levels", "one level must start at min_score 0, so every result has a level")
	}
	return errs
}

// Category returns the category with key, and whether there is one.
func (d AssessmentDefinition) Category(key string) (AssessmentCategory, bool) {
	i := slices.IndexFunc(d.Categories, func(c AssessmentCategory) bool { return c.Key == key })
	if i < 0 {
		return AssessmentCategory{}, false
	}
	return d.Categories[i], true
}

// CheckAnswers names each bad answer: a question left unanswered, an
// unknown question, a number off the scale or not a whole number, a value
// that is none of the options.
func (d AssessmentDefinition) CheckAnswers(answers map[string]any) []FieldError {
	var errs []FieldError
	known := map[string]bool{}
	for _, q := range d.Questions {
		known[q.Key] = true
		field := "answers." + q.Key
		a, ok := answers[q.Key]
		if !ok || a == nil {
			errs = append(errs, FieldError{Field: field, Message: "not answered"})
			continue
		}
		if _, err := q.Score(a); err != nil {
			errs = append(errs, FieldError{Field: field, Message: err.Error()})
		}
	}
	var unknown []string
	for k := range answers {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		errs = append(errs, FieldError{Field: "answers." + k, Message: "no such question in this version of the definition"})
	}
	return errs
}

// Score is the answer's score from 0 to 100, or why the answer is invalid.
func (q AssessmentQuestion) Score(answer any) (float64, error) {
	if q.Scale != nil {
		n, ok := answer.(float64)
		if !ok {
			if i, isInt := answer.(int); isInt {
				n, ok = float64(i), true
			}
		}
		if !ok || n != math.Trunc(n) {
			return 0, fmt.Errorf("a whole number from %d to %d", q.Scale.Min, q.Scale.Max)
		}
		if n < float64(q.Scale.Min) || n > float64(q.Scale.Max) {
			return 0, fmt.Errorf("%v is off the scale %d to %d", n, q.Scale.Min, q.Scale.Max)
		}
		return (n - float64(q.Scale.Min)) / float64(q.Scale.Max-q.Scale.Min) * 100, nil
	}
	s, _ := answer.(string)
	for _, o := range q.Options {
		if o.Value == s {
			return o.Score, nil
		}
	}
	values := make([]string, len(q.Options))
	for i, o := range q.Options {
		values[i] = o.Value
	}
	return 0, fmt.Errorf("one of %s", strings.Join(values, ", "))
}

// AssessmentRequest is the body of POST /v1/assessments, stored as the
// run's input.
type AssessmentRequest struct {
	CustomerID string         `json:"customer_id" minLength:"1" maxLength:"64"`
	Definition string         `json:"definition" minLength:"1" maxLength:"64" doc:"The definition's slug." example:"sales-maturity"`
	Version    int            `json:"version,omitempty" minimum:"0" maximum:"1000000" doc:"The definition version; its latest by default. The stored request always names it."`
	Answers    map[string]any `json:"answers" doc:"Question key to answer: a whole number on a scale question, an option's value otherwise."`
}

// CategoryScore is one category's score in an assessment result.
type CategoryScore struct {
	Key   string  `json:"key"`
	Name  string  `json:"name"`
	Score float64 `json:"score" doc:"0 to 100: the weighted mean of its questions' scores."`
}

// Recommendation is one piece of advice of an assessment.
type Recommendation struct {
	Category string `json:"category,omitempty"`
	Text     string `json:"text"`
}

// AssessmentResult is a succeeded Assessment run's result.
type AssessmentResult struct {
	AssessmentID string          `json:"assessment_id"`
	CustomerID   string          `json:"customer_id"`
	Definition   string          `json:"definition"`
	Version      int             `json:"version"`
	Overall      float64         `json:"overall" doc:"0 to 100: the categories' weighted mean."`
	Level        string          `json:"level" doc:"The maturity level of the overall score."`
	Categories   []CategoryScore `json:"categories"`
	Percentile   float64         `json:"percentile" doc:"Share of the workspace's assessments of this definition version that scored lower, ties counted half, in percent."`
	CohortSize   int             `json:"cohort_size" doc:"How many assessments the percentile compares with, this one included."`
	// Recommendations come from the LLM template assessment-recommendations,
	// or the deterministic rules when no provider is configured.
	Recommendations   []Recommendation `json:"recommendations"`
	RecommendationsBy string           `json:"recommendations_by" doc:"The provider that wrote the recommendations, or \"rules\"."`
	ScoredAt          string           `json:"scored_at"`
}

// AssessmentScoreOutput is what AssessmentScore reports to the workflow.
type AssessmentScoreOutput struct {
	AssessmentID string  `json:"assessment_id"`
	Overall      float64 `json:"overall"`
	Level        string  `json:"level"`
	// Milestones counts the milestones the score achieved.
	Milestones int `json:"milestones"`
	// Recommend says an LLM provider is configured, so AssessmentRecommend
	// has something to ask; without one the rules' recommendations stand
	// and the run skips the llm queue (and its rate limit) altogether.
	Recommend bool `json:"recommend"`
}

// AssessmentRecommendOutput is what AssessmentRecommend reports.
type AssessmentRecommendOutput struct {
	By    string `json:"by"`
	Count int    `json:"count"`
}

// AssessmentRecordInput closes a succeeded Assessment run.
type AssessmentRecordInput struct {
	RunID    string   `json:"run_id"`
	Progress Progress `json:"progress"`
}
