// Package health computes a customer's engagement score, its trend and
// the deterministic insights about the customer from the aggregates
// Postgres maintains. It is pure: the same aggregates and clock give the
// same answer, which is what lets every number be explained.
package health

import (
	"math"
	"time"
)

// Weights are the engagement weights of event types; any other type
// weighs DefaultWeight. They say how much an event tells of a customer's
// engagement: a meeting more than a login.
var Weights = map[string]float64{
	"login":           1,
	"page_view":       0.25,
	"feature_used":    2,
	"report_exported": 3,
	"invite_sent":     3,
	"meeting":         5,
	"training":        4,
	"support_ticket":  0.5,
	"email_opened":    0.5,
}

// DefaultWeight is the weight of an event type not in Weights.
const DefaultWeight = 1.0

// Saturation scales of the score: a week with weighted activity Scale7
// earns 63 % (1 - 1/e) of the 7-day part, a month with Scale30 the same of
// the 30-day part.
const (
	Scale7  = 10.0
	Scale30 = 40.0
)

// Weight returns the engagement weight of an event type.
func Weight(eventType string) float64 {
	if w, ok := Weights[eventType]; ok {
		return w
	}
	return DefaultWeight
}

// Day is one day's count of one event type for a customer.
type Day struct {
	Day    time.Time
	Type   string
	Events int64
}

// Engagement is a customer's engagement score with the numbers behind it.
type Engagement struct {
	// Score is 0-100: round(100 × (0.6 × (1 − e^(−W7/10)) + 0.4 × (1 − e^(−W30/40)))).
	Score int `json:"score" doc:"0-100: round(100 × (0.6 × (1 − e^(−W7/10)) + 0.4 × (1 − e^(−W30/40)))), W7 and W30 the weighted events of the last 7 and 30 days."`
	// Weighted7 and Weighted30 are the weighted events of the last 7 and
	// 30 UTC days (today included); Previous7 those of the 7 days before.
	Weighted7  float64 `json:"weighted_7d"`
	Weighted30 float64 `json:"weighted_30d"`
	Previous7  float64 `json:"weighted_previous_7d"`
	Events7    int64   `json:"events_7d"`
	Events30   int64   `json:"events_30d"`
	// TrendPercent is (W7 − P7) / P7 × 100; absent when P7 is 0.
	TrendPercent *float64 `json:"trend_percent,omitempty" doc:"(W7 − P7) / P7 × 100, P7 the weighted events of the 7 days before; absent when P7 is 0."`
	// Trend is up (≥ +10 %), down (≤ −10 %), flat, or new (activity after
	// a silent week).
	Trend string `json:"trend" enum:"up,down,flat,new" doc:"up: trend ≥ +10 %; down: ≤ −10 %; new: activity after a silent week; flat otherwise."`
}

// Compute returns the engagement of a customer's daily counts as of today
// (a UTC date).
func Compute(days []Day, today time.Time) Engagement {
	today = utcDay(today)
	var e Engagement
	for _, d := range days {
		age := int(today.Sub(utcDay(d.Day)).Hours() / 24)
		w := Weight(d.Type) * float64(d.Events)
		switch {
		case age < 0:
			continue // a day ahead of ours (an event up to 24 h in the future)
		case age < 7:
			e.Weighted7 += w
			e.Events7 += d.Events
		case age < 14:
			e.Previous7 += w
		}
		if age < 30 {
			e.Weighted30 += w
			e.Events30 += d.Events
		}
	}
	e.Score = int(math.Round(100 * (0.6*(1-math.Exp(-e.Weighted7/Scale7)) + 0.4*(1-math.Exp(-e.Weighted30/Scale30)))))
	switch {
	case e.Previous7 == 0 && e.Weighted7 > 0:
		e.Trend = "new"
	case e.Previous7 == 0:
		e.Trend = "flat"
	default:
		pct := math.Round((e.Weighted7-e.Previous7)/e.Previous7*1000) / 10
		e.TrendPercent = &pct
		switch {
		case pct >= 10:
			e.Trend = "up"
		case pct <= -10:
			e.Trend = "down"
		default:
			e.Trend = "flat"
		}
	}
	e.Weighted7, e.Weighted30, e.Previous7 = round2(e.Weighted7), round2(e.Weighted30), round2(e.Previous7)
	return e
}

func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }
