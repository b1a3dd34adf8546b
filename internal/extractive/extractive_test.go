package extractive

import (
	"reflect"
	"strings"
	"testing"
)

func TestSentences(t *testing.T) {
	text := `Acme Inc. builds robots for warehouses. Founded in 2015 by Dr. Jane Smith, it employs 200 people!
Is it profitable? "Yes," says J. Smith. Revenue grew 3.5 percent.

- Fast delivery
- Global support
# Pricing
Plans start at $99 per month.`
	want := []string{
		"Acme Inc. builds robots for warehouses.",
		"Founded in 2015 by Dr. Jane Smith, it employs 200 people!",
		"Is it profitable?",
		`"Yes," says J. Smith.`,
		"Revenue grew 3.5 percent.",
		"Fast delivery",
		"Global support",
		"Pricing",
		"Plans start at $99 per month.",
	}
	if got := Sentences(text); !reflect.DeepEqual(got, want) {
		t.Fatalf("Sentences:\n got %q\nwant %q", got, want)
	}
}

func TestSummarizePicksCentralSentencesInOrder(t *testing.T) {
	docs := []Doc{
		{Source: "https://acme.test/about", Text: `Acme builds warehouse robots that move pallets for retailers.
Our warehouse robots move pallets safely next to people. The office dog is called Rex and likes walks.
Retailers use Acme warehouse robots to move pallets faster at night.`},
		{Source: "https://acme.test/careers", Text: `We are hiring robotics engineers in Berlin.
Acme robots move pallets in over 300 retailer warehouses worldwide.`},
	}
	s := Summarize(docs, 3)
	if s.Provider != "extractive" || len(s.Sentences) != 3 {
		t.Fatalf("summary = %+v", s)
	}
	for _, st := range s.Sentences {
		if strings.Contains(st.Text, "dog") {
			t.Errorf("picked the off-topic sentence %q", st.Text)
		}
		if st.Source == "" || st.Score <= 0 {
			t.Errorf("sentence lacks source or score: %+v", st)
		}
	}
	for i := 1; i < len(s.Sentences); i++ {
		if s.Sentences[i].Position <= s.Sentences[i-1].Position {
			t.Fatalf("not in reading order: %+v", s.Sentences)
		}
	}
	// Deterministic: the same input gives the same summary.
	for range 5 {
		if again := Summarize(docs, 3); !reflect.DeepEqual(again, s) {
			t.Fatalf("not deterministic:\n%+v\n%+v", again, s)
		}
	}
}

func TestSummarizeDropsDuplicatesAndHandlesEmptyInput(t *testing.T) {
	docs := []Doc{{Text: "Acme sells industrial robots to retailers worldwide. Acme sells industrial robots to retailers worldwide. " +
		"Support engineers answer tickets within one business day."}}
	s := Summarize(docs, 2)
	if len(s.Sentences) != 2 || s.Sentences[0].Text == s.Sentences[1].Text {
		t.Fatalf("duplicates kept: %+v", s.Sentences)
	}
	if got := Summarize(nil, 3); got.Provider != "extractive" || len(got.Sentences) != 0 {
		t.Fatalf("empty input: %+v", got)
	}
	if got := Summarize([]Doc{{Text: "Too short."}}, 3); len(got.Sentences) != 0 {
		t.Fatalf("fragments kept: %+v", got)
	}
	if got := Summarize(docs, 0); len(got.Sentences) != 0 {
		t.Fatalf("n=0: %+v", got)
	}
}

func FuzzSummarize(f *testing.F) {
	f.Add("Acme Inc. builds robots. They are great! Are they? Yes.", 2)
	f.Add("", 0)
	f.Fuzz(func(t *testing.T, text string, n int) {
		n = n % 10
		s := Summarize([]Doc{{Text: text}, {Text: text}}, n)
		if len(s.Sentences) > max(n, 0) {
			t.Fatalf("%d sentences for n=%d", len(s.Sentences), n)
		}
	})
}

func BenchmarkSummarizeLargeInput(b *testing.B) {
	var sb strings.Builder
	for i := range 3000 {
		sb.WriteString("Acme robots move pallets in warehouse number ")
		sb.WriteString(strings.Repeat("x", i%7+1))
		sb.WriteString(" for retail customers every night. ")
	}
	docs := []Doc{{Text: sb.String()}}
	for b.Loop() {
		Summarize(docs, 5)
	}
}
