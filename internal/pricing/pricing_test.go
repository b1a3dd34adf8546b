package pricing

import (
	"math"
	"testing"
)

func TestCost(t *testing.T) {
	p := Price{Input: 0.40, Output: 1.60, CachedInput: 0.10}
	got := p.Cost(1_000_000, 500_000, 200_000)
	want := 0.8*0.40 + 0.2*0.10 + 0.5*1.60
	if math.Abs(got-want) > 1e-12 {
		t.Fatalf("Cost = %v, want %v", got, want)
	}
	if c := p.Cost(10, 0, 50); math.Abs(c-10*0.10/1e6) > 1e-15 {
		t.Fatalf("cached tokens beyond the input must be capped, got %v", c)
	}
}

func TestParseOverridesAndLookup(t *testing.T) {
	tab, err := Parse(`{"gpt-4.1-mini": {"input": 1, "output": 2}, "ollama/llama3": {"input": 0, "output": 0}, "fake-model": {"input": 3, "output": 4}}`)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := tab.Lookup("openai", "gpt-4.1-mini"); p.Input != 1 || p.Output != 2 {
		t.Fatalf("override not applied: %+v", p)
	}
	if _, ok := tab.Lookup("ollama", "llama3"); !ok {
		t.Fatal("provider-specific price not found")
	}
	if _, ok := tab.Lookup("openai", "llama3"); ok {
		t.Fatal("a provider-specific price must not apply to another provider")
	}
	if _, ok := tab.Lookup("anthropic", "claude-haiku-4-5"); !ok {
		t.Fatal("built-in price missing")
	}
	if Default()["gpt-4.1-mini"].Input == 1 {
		t.Fatal("Parse must not modify the built-in table")
	}
	for _, bad := range []string{`{`, `{"m": {"input": -1}}`, `[]`} {
		if _, err := Parse(bad); err == nil {
			t.Fatalf("Parse(%s) accepted", bad)
		}
	}
}
