package scoring

import (
	"testing"

	"github.com/groundwork-dev/groundwork"
)

var def = groundwork.AssessmentDefinition{
	Slug: "d", Name: "D",
	Categories: []groundwork.AssessmentCategory{{Key: "a", Name: "A", Weight: 3}, {Key: "b", Name: "B", Weight: 1, Recommendation: "Do B."}, {Key: "z", Name: "Zero", Weight: 0}},
	Questions: []groundwork.AssessmentQuestion{
		{Key: "q1", Category: "a", Text: "Q1", Weight: 2, Scale: &groundwork.AnswerScale{Min: 0, Max: 4}},
		{Key: "q2", Category: "a", Text: "Q2", Weight: 1, Options: []groundwork.AnswerOption{{Value: "y", Score: 90}, {Value: "n", Score: 0}}},
		{Key: "q3", Category: "b", Text: "Q3", Weight: 1, Scale: &groundwork.AnswerScale{Min: 1, Max: 3}},
		{Key: "q4", Category: "z", Text: "Q4", Weight: 1, Scale: &groundwork.AnswerScale{Min: 1, Max: 3}},
	},
	Levels: []groundwork.AssessmentLevel{{Name: "Low", MinScore: 0}, {Name: "High", MinScore: 70}, {Name: "Mid", MinScore: 40}},
}

func TestScore(t *testing.T) {
	if errs := def.Validate(); len(errs) > 0 {
		t.Fatal(errs)
	}
	// a = (75×2 + 90×1) / 3 = 80; b = 50; overall = (80×3 + 50) / 4 = 72.5.
	r, err := Score(def, map[string]any{"q1": 3.0, "q2": "y", "q3": 2.0, "q4": 3.0})
	if err != nil {
		t.Fatal(err)
	}
	if r.Overall != 72.5 || r.Level != "High" || len(r.Categories) != 3 || r.Categories[0].Score != 80 || r.Categories[1].Score != 50 {
		t.Errorf("Score = %+v", r)
	}
	recs := Recommend(def, r)
	if len(recs) != 2 || recs[0].Category != "b" || recs[0].Text != "B (scored 50.0): Do B." || recs[1].Category != "a" {
		t.Errorf("Recommend = %+v", recs)
	}
	if _, err := Score(def, map[string]any{"q1": 5.0, "q2": "y", "q3": 2.0, "q4": 1.0}); err == nil {
		t.Error("an answer off the scale was scored")
	}
}

func TestCheckAnswersNamesEachBadAnswer(t *testing.T) {
	errs := def.CheckAnswers(map[string]any{"q1": 1.5, "q2": "maybe", "q4": "3", "extra": 1.0})
	want := []string{"answers.q1", "answers.q2", "answers.q3", "answers.q4", "answers.extra"}
	if len(errs) != len(want) {
		t.Fatalf("errors = %v", errs)
	}
	for i, e := range errs {
		if e.Field != want[i] {
			t.Errorf("error %d = %s, want %s", i, e.Field, want[i])
		}
	}
}

func TestPercentileAndLevel(t *testing.T) {
	for _, c := range []struct {
		below, equal, others int64
		want                 float64
	}{{0, 0, 0, 50}, {1, 0, 1, 75}, {0, 0, 1, 25}, {2, 1, 3, 75}} {
		if got := Percentile(c.below, c.equal, c.others); got != c.want {
			t.Errorf("Percentile(%d, %d, %d) = %v, want %v", c.below, c.equal, c.others, got, c.want)
		}
	}
	if Level(def.Levels, 39.99) != "Low" || Level(def.Levels, 40) != "Mid" || Level(def.Levels, 100) != "High" {
		t.Error("levels by score band")
	}
}

func TestDefinitionValidate(t *testing.T) {
	bad := def
	bad.Questions = append([]groundwork.AssessmentQuestion{{Key: "q1", Category: "nope", Text: "x", Weight: 1}}, def.Questions...)
	bad.Levels = []groundwork.AssessmentLevel{{Name: "Only", MinScore: 10}}
	got := map[string]bool{}
	for _, e := range bad.Validate() {
		got[e.Field] = true
	}
	for _, f := range []string{"questions[0].category", "questions[0]", "questions[1].key", "levels"} {
		if !got[f] {
			t.Errorf("no error for %s: %v", f, got)
		}
	}
}
