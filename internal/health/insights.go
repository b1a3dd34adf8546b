package health

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// Insight kinds.
const (
	KindStalled          = "stalled"
	KindMilestoneOverdue = "milestone_overdue"
	KindEngagementDown   = "engagement_down"
	KindWeakestCategory  = "weakest_category"
	KindMilestoneAtRisk  = "milestone_at_risk"
)

// EngagementDropThreshold is the week-over-week fall of weighted activity
// (in percent) that makes an engagement_down insight.
const EngagementDropThreshold = -30.0

// AtRiskWithin is how close to its due date an unachieved next milestone
// must be to be at risk.
const AtRiskWithin = 7 * 24 * time.Hour

// Insight is one deterministic finding about a customer, with the numbers
// behind it.
type Insight struct {
	Kind     string         `json:"kind" enum:"stalled,milestone_overdue,engagement_down,weakest_category,milestone_at_risk"`
	Severity string         `json:"severity" enum:"high,medium,low"`
	Title    string         `json:"title"`
	Detail   string         `json:"detail" doc:"Why, with the numbers."`
	Numbers  map[string]any `json:"numbers" doc:"The figures the insight rests on."`
}

// Milestone is one milestone's state for a customer.
type Milestone struct {
	ID, Name   string
	DueAt      *time.Time
	AchievedAt *time.Time
	// EventType and MinEvents describe an events rule; Current is the
	// customer's count of EventType, Recent7 its count in the last 7 days.
	EventType                   string
	MinEvents, Current, Recent7 int64
}

// Category is one category score of an assessment.
type Category struct {
	Key, Name string
	Score     float64
}

// Assessment is the latest assessment of a customer.
type Assessment struct {
	ID, Definition string
	Overall        float64
	Categories     []Category
}

// Facts are what the insights are drawn from.
type Facts struct {
	Now          time.Time
	StartedAt    time.Time
	LastActivity *time.Time
	StalledAfter time.Duration
	Engagement   Engagement
	// Milestones are in order; the first not achieved is the next.
	Milestones []Milestone
	Assessment *Assessment
}

// nextUpcoming returns the first milestone neither achieved nor overdue:
// an overdue one has an insight of its own.
func nextUpcoming(ms []Milestone, now time.Time) *Milestone {
	for i := range ms {
		if ms[i].AchievedAt == nil && (ms[i].DueAt == nil || !now.After(*ms[i].DueAt)) {
			return &ms[i]
		}
	}
	return nil
}

// Insights returns the customer's insights, most severe first.
func Insights(f Facts) []Insight {
	out := []Insight{}
	since := f.StartedAt
	if f.LastActivity != nil {
		since = *f.LastActivity
	}
	if quiet := f.Now.Sub(since); f.StalledAfter > 0 && quiet >= f.StalledAfter {
		days := int(quiet.Hours() / 24)
		detail := fmt.Sprintf("No activity for %d days (stalled after %d).", days, int(f.StalledAfter.Hours()/24))
		if f.LastActivity == nil {
			detail = fmt.Sprintf("No activity since the customer started %d days ago (stalled after %d).", days, int(f.StalledAfter.Hours()/24))
		}
		out = append(out, Insight{Kind: KindStalled, Severity: "high", Title: "Stalled", Detail: detail,
			Numbers: map[string]any{"days_without_activity": days, "stalled_after_days": int(f.StalledAfter.Hours() / 24), "last_activity_at": f.LastActivity}})
	}
	for _, m := range f.Milestones {
		if m.AchievedAt == nil && m.DueAt != nil && f.Now.After(*m.DueAt) {
			late := int(f.Now.Sub(*m.DueAt).Hours() / 24)
			out = append(out, Insight{Kind: KindMilestoneOverdue, Severity: "high", Title: "Milestone overdue: " + m.Name,
				Detail:  fmt.Sprintf("%q was due on %s, %d days ago.", m.Name, m.DueAt.UTC().Format("2006-01-02"), late),
				Numbers: map[string]any{"milestone_id": m.ID, "due_at": m.DueAt, "days_overdue": late}})
		}
	}
	e := f.Engagement
	if e.TrendPercent != nil && *e.TrendPercent <= EngagementDropThreshold {
		out = append(out, Insight{Kind: KindEngagementDown, Severity: "medium", Title: "Engagement down",
			Detail:  fmt.Sprintf("Weighted activity fell %.0f%% week over week (%.2f → %.2f).", -*e.TrendPercent, e.Previous7, e.Weighted7),
			Numbers: map[string]any{"weighted_7d": e.Weighted7, "weighted_previous_7d": e.Previous7, "trend_percent": *e.TrendPercent}})
	}
	if a := f.Assessment; a != nil && len(a.Categories) > 0 {
		cats := append([]Category(nil), a.Categories...)
		sort.SliceStable(cats, func(i, j int) bool { return cats[i].Score < cats[j].Score })
		w := cats[0]
		out = append(out, Insight{Kind: KindWeakestCategory, Severity: "low", Title: "Weakest area: " + w.Name,
			Detail:  fmt.Sprintf("%s scored %.1f in the latest %s assessment (overall %.1f).", w.Name, w.Score, a.Definition, a.Overall),
			Numbers: map[string]any{"assessment_id": a.ID, "category": w.Key, "score": w.Score, "overall": a.Overall}})
	}
	if n := nextUpcoming(f.Milestones, f.Now); n != nil && n.DueAt != nil && n.DueAt.Sub(f.Now) <= AtRiskWithin {
		left := n.DueAt.Sub(f.Now)
		nums := map[string]any{"milestone_id": n.ID, "due_at": n.DueAt, "days_left": math.Round(left.Hours()/24*10) / 10}
		detail := fmt.Sprintf("%q is due in %.1f days and not achieved.", n.Name, left.Hours()/24)
		risky := true
		if n.MinEvents > 0 {
			// At the last 7 days' pace, will the count get there in time?
			need := n.MinEvents - n.Current
			pace := float64(n.Recent7) / 7 // events of the type a day
			expected := pace * left.Hours() / 24
			nums["events_needed"], nums["events_expected"] = need, math.Round(expected*10)/10
			risky = float64(need) > expected
			detail = fmt.Sprintf("%q needs %d more %s events in %.1f days; at the last week's pace about %.1f will come.", n.Name, need, n.EventType, left.Hours()/24, expected)
		}
		if risky {
			out = append(out, Insight{Kind: KindMilestoneAtRisk, Severity: "medium", Title: "Next milestone at risk: " + n.Name, Detail: detail, Numbers: nums})
		}
	}
	rank := map[string]int{"high": 0, "medium": 1, "low": 2}
	sort.SliceStable(out, func(i, j int) bool { return rank[out[i].Severity] < rank[out[j].Severity] })
	return out
}
