package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/groundwork-dev/groundwork"
	"github.com/groundwork-dev/groundwork/db/sqlc"
	"github.com/groundwork-dev/groundwork/internal/prompts"
)

// RulesProvider names the deterministic answer of a template that has one,
// given when no LLM provider is configured.
const RulesProvider = "rules"

// ruleAnswers are the templates answered by rules without a provider: the
// answer is built from the inputs alone, so it says nothing they do not.
var ruleAnswers = map[string]func(inputs map[string]any) map[string]any{
	"customer-insights": insightsByRules,
}

// nextSteps is the action each insight kind suggests, most urgent kinds first.
var nextSteps = []struct{ kind, step string }{
	{"stalled", "Reach out this week to re-engage the account and find out what stopped."},
	{"milestone_overdue", "Agree a new date for the overdue milestone with the customer and what it needs."},
	{"milestone_at_risk", "Plan with the customer how the next milestone will be reached before its due date."},
	{"engagement_down", "Review what changed in the account's usage and check in with its champion."},
	{"weakest_category", "Offer enablement on the weakest assessment area."},
}

// insightsByRules summarises the insight lines of the customer-insights
// facts ("- [severity] kind: detail") and picks the next step of the most
// urgent kind.
func insightsByRules(inputs map[string]any) map[string]any {
	customer, _ := inputs["customer"].(string)
	facts, _ := inputs["facts"].(string)
	var sentences []string
	kinds := map[string]bool{}
	for _, l := range strings.Split(facts, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(l), "- [")
		if !ok {
			continue
		}
		_, rest, _ = strings.Cut(rest, "] ")
		kind, detail, _ := strings.Cut(rest, ": ")
		kinds[kind] = true
		sentences = append(sentences, strings.TrimSpace(detail))
	}
	summary := customer + " shows no warning signs: no insight needs attention."
	if len(sentences) > 0 {
		summary = customer + ": " + strings.Join(sentences, " ")
	}
	step := "Keep the current cadence and check again next week."
	for _, s := range nextSteps {
		if kinds[s.kind] {
			step = s.step
			break
		}
	}
	return map[string]any{"summary": summary, "next_step": step}
}

// answerByRules stores the rules' answer of a template as the run's
// generation, with no provider call, cost or tokens.
func (a *LLM) answerByRules(ctx context.Context, runID, owner string, tmpl prompts.Template, req groundwork.GenerateRequest, rule func(map[string]any) map[string]any) (groundwork.GenerateOutcome, error) {
	fields := rule(req.InputsOrEmpty())
	b, err := json.Marshal(fields)
	if err != nil {
		return groundwork.GenerateOutcome{}, fmt.Errorf("marshal rules answer: %w", err)
	}
	var text strings.Builder
	for _, f := range tmpl.OutputFields {
		if v, ok := fields[f.Name].(string); ok && v != "" {
			text.WriteString(v + "\n\n")
		}
	}
	_, err = sqlc.New(a.Pool).GenerationInsert(ctx, sqlc.GenerationInsertParams{
		RunID: runID, OwnerID: owner, Template: tmpl.Name, TemplateVersion: int32(tmpl.Version),
		Provider: RulesProvider, Model: RulesProvider, Text: strings.TrimSpace(text.String()), Fields: b,
		Warnings: []string{"no LLM provider is configured: this answer was built by rules from the inputs"}, StopReason: "rules",
	})
	if err != nil {
		return groundwork.GenerateOutcome{}, fmt.Errorf("store rules answer: %w", err)
	}
	return groundwork.GenerateOutcome{Provider: RulesProvider, Model: RulesProvider}, nil
}
