package main

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/groundwork-dev/groundwork"
)

// The data set is a customer-success team's book of business: customers
// that started over the last 13 months, in stages that follow their age,
// with activity skewed the way real accounts are (a few very active, many
// moderate, some stalled or churned and silent for weeks).
const (
	// customerHistory is how far back customers started.
	customerHistory = 395 * 24 * time.Hour
	// eventHistory is how far back seeded events go: inside the default
	// event retention (395 days) with a month to spare.
	eventHistory = 365 * 24 * time.Hour
	day          = 24 * time.Hour
)

// customerSpec is one generated customer; ID is set once the API created it.
type customerSpec struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Domain     string    `json:"domain"`
	Stage      string    `json:"stage"`
	Owner      string    `json:"owner_user_id"`
	ExternalID string    `json:"external_id"`
	StartedAt  time.Time `json:"started_at"`
	Plan       string    `json:"-"`
	Seats      int       `json:"-"`
	Region     string    `json:"-"`
	// Stalled customers stopped being active weeks ago (churned ones too).
	Stalled bool `json:"-"`
	// LastActive is when the customer's seeded events stop.
	LastActive time.Time `json:"-"`
	// Weight is the customer's share of the seeded events, before their
	// active window is taken into account.
	Weight float64 `json:"-"`
	// Maturity (0–1) steers the customer's assessment answers.
	Maturity float64 `json:"-"`
	// Events is how many events seeding gives the customer.
	Events int `json:"-"`
}

// body is the customer as POST /v1/customers takes it.
func (c *customerSpec) body() map[string]any {
	return map[string]any{
		"name": c.Name, "domain": c.Domain, "stage": c.Stage, "owner_user_id": c.Owner,
		"external_id": c.ExternalID, "started_at": c.StartedAt.Format(time.RFC3339),
		"custom_fields": map[string]any{"plan": c.Plan, "seats": c.Seats, "region": c.Region},
	}
}

// window is the span the customer's seeded events fall in.
func (c *customerSpec) window(now time.Time) (time.Time, time.Time) {
	start := c.StartedAt
	if h := now.Add(-eventHistory); start.Before(h) {
		start = h
	}
	end := c.LastActive
	if l := now.Add(-time.Minute); end.After(l) {
		end = l
	}
	return start, end
}

// dataset is every generated customer, with the clock it was made at.
type dataset struct {
	now       time.Time
	customers []*customerSpec
}

var (
	namePrefixes = []string{"Acme", "Northwind", "Bluefin", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay",
		"Pied Piper", "Cyberdyne", "Soylent", "Tyrell", "Wonka", "Oscorp", "Aperture", "Black Mesa", "Massive", "Dunder",
		"Brightline", "Cobalt", "Evergreen", "Harbor", "Ironwood", "Juniper", "Keystone", "Lighthouse", "Meridian", "Nimbus",
		"Orchard", "Pinnacle", "Quarry", "Redwood", "Summit", "Tidewater", "Upland", "Vertex", "Willow", "Zephyr"}
	nameSuffixes = []string{"Analytics", "Logistics", "Labs", "Health", "Systems", "Capital", "Foods", "Robotics", "Media", "Energy",
		"Software", "Partners", "Retail", "Bio", "Security", "Networks", "Studios", "Freight", "Insurance", "Learning"}
	tlds    = []string{"com", "com", "com", "io", "co", "ai", "net"}
	owners  = []string{"csm-ana", "csm-ben", "csm-chloe", "csm-dev", "csm-elif", "csm-farid", "csm-grace", "csm-hugo"}
	plans   = []string{"starter", "growth", "growth", "business", "enterprise"}
	regions = []string{"na", "na", "emea", "emea", "apac", "latam"}
)

// newDataset makes n customers as of now.
func newDataset(r *rand.Rand, n int, now time.Time) *dataset {
	ds := &dataset{now: now}
	taken := map[string]int{}
	for i := range n {
		name := namePrefixes[r.IntN(len(namePrefixes))] + " " + nameSuffixes[r.IntN(len(nameSuffixes))]
		taken[name]++
		if k := taken[name]; k > 1 {
			name = fmt.Sprintf("%s %d", name, k)
		}
		c := &customerSpec{
			Name:       name,
			Domain:     strings.ReplaceAll(strings.ToLower(name), " ", "") + "." + tlds[r.IntN(len(tlds))],
			Owner:      owners[r.IntN(len(owners))],
			ExternalID: fmt.Sprintf("crm-%06d", 100000+i),
			Plan:       plans[r.IntN(len(plans))],
			Region:     regions[r.IntN(len(regions))],
		}
		c.Seats = 5 + int(r.ExpFloat64()*40)
		// Sign-ups grow over time: more recent starts are likelier.
		age := time.Duration(math.Pow(r.Float64(), 1.3) * float64(customerHistory))
		c.StartedAt = now.Add(-age).Truncate(time.Second)
		c.Stage = stageFor(r, age)
		c.Weight = math.Exp(r.NormFloat64() * 1.1)
		switch {
		case c.Stage == groundwork.StageChurned:
			c.Stalled = true
			c.Weight *= 0.4
			c.LastActive = now.Add(-time.Duration(20+r.IntN(160)) * day)
		case r.Float64() < 0.15:
			c.Stalled = true
			c.LastActive = now.Add(-time.Duration(15+r.IntN(75)) * day)
		default:
			c.LastActive = now.Add(-time.Duration(r.Float64() * float64(2*day)))
		}
		if r.Float64() < 0.03 { // never got going
			c.Weight = 0
		}
		c.Maturity = min(1, max(0, 0.25+0.15*math.Log1p(c.Weight)+0.5*min(1, float64(age)/float64(customerHistory))+0.1*r.NormFloat64()))
		ds.customers = append(ds.customers, c)
	}
	return ds
}

// stageFor picks a lifecycle stage that fits how long ago the customer
// started.
func stageFor(r *rand.Rand, age time.Duration) string {
	x := r.Float64()
	switch days := age / day; {
	case days < 45:
		switch {
		case x < 0.02:
			return groundwork.StageChurned
		case x < 0.90:
			return groundwork.StageOnboarding
		default:
			return groundwork.StageAdoption
		}
	case days < 150:
		switch {
		case x < 0.08:
			return groundwork.StageChurned
		case x < 0.28:
			return groundwork.StageOnboarding
		case x < 0.88:
			return groundwork.StageAdoption
		default:
			return groundwork.StageExpansion
		}
	default:
		switch {
		case x < 0.15:
			return groundwork.StageChurned
		case x < 0.35:
			return groundwork.StageAdoption
		case x < 0.70:
			return groundwork.StageExpansion
		default:
			return groundwork.StageRenewal
		}
	}
}

// assignEvents shares total events among the customers by weight × days
// of their active window; the rounding remainder goes one each to
// customers in random order.
func (ds *dataset) assignEvents(r *rand.Rand, total int) {
	shares := make([]float64, len(ds.customers))
	sum := 0.0
	for i, c := range ds.customers {
		start, end := c.window(ds.now)
		if end.After(start) {
			shares[i] = c.Weight * end.Sub(start).Hours() / 24
		}
		sum += shares[i]
	}
	if sum == 0 {
		return
	}
	given := 0
	var active []int
	for i, c := range ds.customers {
		c.Events = int(float64(total) * shares[i] / sum)
		given += c.Events
		if shares[i] > 0 {
			active = append(active, i)
		}
	}
	r.Shuffle(len(active), func(i, j int) { active[i], active[j] = active[j], active[i] })
	for k := 0; given < total; k++ {
		ds.customers[active[k%len(active)]].Events++
		given++
	}
}

// eventKind is an event type with its share of the traffic and the
// properties its events carry.
type eventKind struct {
	Type  string
	Share float64
	props []json.RawMessage
}

// eventMix is what a B2B product's tracking plan sends: logins and page
// views most, meetings and tickets rarely.
var eventMix = []eventKind{
	{Type: "login", Share: 0.32, props: propsOf("method", "sso", "password", "google", "magic_link")},
	{Type: "page_view", Share: 0.26, props: propsOf("path", "/dashboard", "/pipeline", "/reports", "/settings", "/accounts", "/forecast")},
	{Type: "feature_used", Share: 0.18, props: propsOf("feature", "pipeline_board", "forecast", "sequences", "call_notes", "territories", "playbooks", "ai_summary")},
	{Type: "email_opened", Share: 0.09, props: propsOf("campaign", "onboarding_1", "onboarding_2", "release_notes", "webinar", "nps")},
	{Type: "report_exported", Share: 0.05, props: propsOf("format", "pdf", "csv", "xlsx")},
	{Type: "invite_sent", Share: 0.03, props: propsOf("role", "member", "admin")},
	{Type: "meeting", Share: 0.03, props: propsOf("kind", "kickoff", "check_in", "qbr", "training")},
	{Type: "support_ticket", Share: 0.03, props: propsOf("priority", "low", "normal", "normal", "high", "urgent")},
	{Type: "training", Share: 0.01, props: propsOf("course", "admin_basics", "reporting", "forecasting")},
}

// propsOf makes one small JSON object per value.
func propsOf(key string, values ...string) []json.RawMessage {
	out := make([]json.RawMessage, len(values))
	for i, v := range values {
		b, _ := json.Marshal(map[string]string{key: v})
		out[i] = b
	}
	return out
}

// eventGen draws events; one per goroutine, as it holds a rand.Rand.
type eventGen struct {
	r   *rand.Rand
	cum []float64
}

func newEventGen(r *rand.Rand) *eventGen {
	g := &eventGen{r: r}
	s := 0.0
	for _, k := range eventMix {
		s += k.Share
		g.cum = append(g.cum, s)
	}
	return g
}

// kind draws an event type by its share.
func (g *eventGen) kind() *eventKind {
	x := g.r.Float64() * g.cum[len(g.cum)-1]
	i, _ := slices.BinarySearch(g.cum, x)
	return &eventMix[min(i, len(eventMix)-1)]
}

// event makes one event of customer c with the given ID, at a time drawn
// in [start, end]: more often recently, on weekdays and in office hours.
func (g *eventGen) event(id, customer string, start, end time.Time) groundwork.TrackEvent {
	k := g.kind()
	return groundwork.TrackEvent{ID: id, CustomerID: customer, Type: k.Type, OccurredAt: g.when(start, end),
		Properties: k.props[g.r.IntN(len(k.props))]}
}

func (g *eventGen) when(start, end time.Time) time.Time {
	span := end.Sub(start)
	t := start.Add(time.Duration(math.Pow(g.r.Float64(), 0.8) * float64(span)))
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch d.Weekday() {
	case time.Saturday:
		if g.r.Float64() < 0.8 {
			d = d.Add(-day)
		}
	case time.Sunday:
		if g.r.Float64() < 0.8 {
			d = d.Add(day)
		}
	}
	// Office hours around 13:00 UTC (Europe and the Americas overlap).
	hour := 6 + g.r.IntN(8) + g.r.IntN(8)
	shaped := d.Add(time.Duration(hour)*time.Hour + time.Duration(g.r.IntN(3600))*time.Second)
	if shaped.Before(start) || shaped.After(end) {
		return t.Truncate(time.Millisecond)
	}
	return shaped
}
