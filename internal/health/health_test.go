package health

import (
	"math"
	"slices"
	"testing"
	"time"
)

func day(today time.Time, ago int) time.Time { return today.AddDate(0, 0, -ago) }

func TestCompute(t *testing.T) {
	today := time.Date(2026, 12, 7, 15, 4, 5, 0, time.UTC)
	days := []Day{
		{Day: day(today, 0), Type: "meeting", Events: 1},          // 5
		{Day: day(today, 6), Type: "login", Events: 3},            // 3
		{Day: day(today, 7), Type: "feature_used", Events: 4},     // previous week: 8
		{Day: day(today, 13), Type: "unknown_type", Events: 2},    // previous week: 2
		{Day: day(today, 29), Type: "report_exported", Events: 1}, // 30 days: 3
		{Day: day(today, 30), Type: "meeting", Events: 9},         // outside
		{Day: day(today, -1), Type: "meeting", Events: 9},         // tomorrow: ignored
	}
	e := Compute(days, today)
	want := int(math.Round(100 * (0.6*(1-math.Exp(-8.0/10)) + 0.4*(1-math.Exp(-21.0/40)))))
	if e.Weighted7 != 8 || e.Previous7 != 10 || e.Weighted30 != 21 || e.Events7 != 4 || e.Events30 != 11 || e.Score != want {
		t.Errorf("Compute = %+v, want score %d", e, want)
	}
	if e.TrendPercent == nil || *e.TrendPercent != -20 || e.Trend != "down" {
		t.Errorf("trend = %v %s", e.TrendPercent, e.Trend)
	}
	for _, c := range []struct {
		days  []Day
		trend string
	}{
		{nil, "flat"},
		{[]Day{{Day: today, Type: "login", Events: 1}}, "new"},
		{[]Day{{Day: today, Type: "login", Events: 11}, {Day: day(today, 8), Type: "login", Events: 10}}, "up"},
		{[]Day{{Day: today, Type: "login", Events: 10}, {Day: day(today, 8), Type: "login", Events: 10}}, "flat"},
	} {
		if got := Compute(c.days, today).Trend; got != c.trend {
			t.Errorf("trend of %v = %s, want %s", c.days, got, c.trend)
		}
	}
	if s := Compute([]Day{{Day: today, Type: "meeting", Events: 1000}}, today).Score; s != 100 {
		t.Errorf("a saturated score is %d", s)
	}
}

func TestInsights(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	past, soon, later := now.Add(-72*time.Hour), now.Add(72*time.Hour), now.Add(30*24*time.Hour)
	last := now.Add(-20 * 24 * time.Hour)
	down := -45.0
	f := Facts{
		Now: now, StartedAt: now.Add(-90 * 24 * time.Hour), LastActivity: &last, StalledAfter: 14 * 24 * time.Hour,
		Engagement: Engagement{Weighted7: 5.5, Previous7: 10, TrendPercent: &down},
		Milestones: []Milestone{
			{ID: "a", Name: "Done", DueAt: &past, AchievedAt: &past},
			{ID: "b", Name: "Late", DueAt: &past},
			{ID: "c", Name: "Soon", DueAt: &soon, EventType: "meeting", MinEvents: 5, Current: 1, Recent7: 7},
			{ID: "d", Name: "Later", DueAt: &later},
		},
		Assessment: &Assessment{ID: "x", Definition: "d", Overall: 60, Categories: []Category{{Key: "k1", Name: "One", Score: 70}, {Key: "k2", Name: "Two", Score: 40}}},
	}
	kinds := func(f Facts) []string {
		var out []string
		for _, in := range Insights(f) {
			out = append(out, in.Kind)
		}
		return out
	}
	// 4 meetings needed in 3 days at 1 a day: 3 expected, at risk.
	if got := kinds(f); !slices.Equal(got, []string{KindStalled, KindMilestoneOverdue, KindEngagementDown, KindMilestoneAtRisk, KindWeakestCategory}) {
		t.Errorf("insights = %v", got)
	}
	if in := Insights(f)[4]; in.Numbers["category"] != "k2" {
		t.Errorf("weakest = %+v", in)
	}
	f.Milestones[2].Recent7 = 14 // 6 expected: reachable
	f.LastActivity = &now
	notDown := -29.0
	f.Engagement.TrendPercent = &notDown
	f.Assessment = nil
	if got := kinds(f); !slices.Equal(got, []string{KindMilestoneOverdue}) {
		t.Errorf("insights = %v", got)
	}
}
