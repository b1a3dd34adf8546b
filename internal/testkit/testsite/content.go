package testsite

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode"
)

// Org holds the facts a Site publishes about its company (JSON-LD, contact
// page), so tests can compare them with what was extracted.
type Org struct {
	// Name is Options.Company.
	Name string
	// Domain is the domain of every email address, such as "northwindlogistics.example".
	Domain string
	// Email is the general address in the JSON-LD, hello@Domain.
	Email string
	// SalesEmail is sales@Domain, named on the pricing and contact pages.
	SalesEmail string
	// Telephone is the JSON-LD telephone number.
	Telephone string
	// StreetAddress, Locality, PostalCode and Country make the JSON-LD PostalAddress.
	StreetAddress, Locality, PostalCode, Country string
	// Employees is the JSON-LD numberOfEmployees.
	Employees int
	// OpenPositions is the number of jobs the careers page lists.
	OpenPositions int
	// Founded is the year the about page gives.
	Founded int
	// LinkedIn is the JSON-LD sameAs profile.
	LinkedIn string
}

// section is a run of paragraphs under an optional h2.
type section struct {
	Heading    string   `json:"heading,omitempty"`
	Paragraphs []string `json:"paragraphs"`
}

// link is an anchor the script renders in a list after the sections.
type link struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

// figure is an image the script renders under the h1.
type figure struct {
	Src     string `json:"src"`
	Alt     string `json:"alt"`
	Caption string `json:"caption"`
}

// pageJSON is what APIPath serves and the page's script renders.
type pageJSON struct {
	Slug     string    `json:"slug"`
	Title    string    `json:"title"`
	Heading  string    `json:"heading"`
	Figure   *figure   `json:"figure,omitempty"`
	Sections []section `json:"sections"`
	Links    []link    `json:"links,omitempty"`
}

// page is a content page: its spec, content and rendered bodies.
type page struct {
	PageSpec
	anchor  string // link text in navigation
	item    int    // index among the products or among the blog posts
	lastmod string // sitemap date
	content pageJSON
	shell   []byte
	json    []byte
}

// customers are the reference customers every page draws on; the first
// four are named in the customers page's opening sentence.
var customers = []string{
	"Baltic Dairy Cooperative", "Nordic Pharma", "Vistula Building Supplies", "Hanseatic Furniture",
	"Aurora Fresh Foods", "Kaunas Steelworks", "Riga Beverage Company", "Lakeland Paper Mills",
}

var cities = []string{"Tallinn", "Riga", "Vilnius", "Helsinki", "Stockholm", "Gdansk", "Warsaw", "Hamburg", "Copenhagen", "Oslo"}

// jobs has one entry per open position (Org.OpenPositions).
var jobs = []string{
	"Senior Go engineer, platform team", "Frontend engineer (React)", "Site reliability engineer",
	"Product designer", "Product manager, carrier network", "Data scientist, route optimisation",
	"Customer success manager (German speaking)", "Implementation consultant", "Account executive, Nordics",
	"Account executive, Poland", "Technical writer", "Support specialist (Finnish speaking)",
}

// productLine is one family of products: a name prefix and what it does.
type productLine struct{ prefix, noun, purpose, benefit string }

var productLines = []productLine{
	{"Route", "route planning", "plans multi-drop delivery routes", "build a day of routes in minutes instead of hours"},
	{"Dock", "dock scheduling", "schedules loading dock appointments", "stop trucks queueing at the gate every morning"},
	{"Fleet", "fleet monitoring", "monitors vehicles, drivers and rest times", "see every vehicle and driver on one map"},
	{"Freight", "freight tendering", "tenders loads to carriers and compares quotes", "award loads to the best carrier in one click"},
	{"Cargo", "multimodal tracking", "tracks cargo across road, rail and sea", "answer where is my order questions without a phone call"},
	{"Yard", "yard management", "manages trailers and containers waiting in the yard", "find any trailer in the yard in seconds"},
	{"Parcel", "parcel shipping", "books parcel shipments with national and international couriers", "print labels for every courier from one screen"},
	{"Carrier", "carrier management", "manages carrier contracts, rates and performance", "keep every carrier contract and scorecard in one place"},
	{"Customs", "customs documents", "prepares customs declarations and transit documents", "file export declarations without retyping invoices"},
	{"Pallet", "pallet accounting", "keeps track of pallet balances with partners", "settle pallet balances with partners every month"},
}

var productSuffixes = []string{"IQ", "Sync", "Pulse", "Flow", "View", "Planner", "Hub", "Track", "Ledger", "Scout"}

// product is the k-th product: pairs (line, suffix) are distinct for k < 100
// and numbered after that.
func product(k int) (name string, line productLine) {
	line = productLines[k%10]
	name = line.prefix + productSuffixes[(k%10+k/10)%10]
	if k >= 100 {
		name += " " + strconv.Itoa(k/100+1)
	}
	return name, line
}

var blogTitles = []string{
	"How {customer} cut empty kilometres by {pct} percent",
	"What the new EU customs rules mean for shippers",
	"Five lessons from planning {n} thousand deliveries",
	"Dock scheduling: why the first hour of the morning matters",
	"A practical guide to carrier scorecards",
	"Why we rebuilt our route optimiser",
	"Reducing CO2 per pallet without raising costs",
	"From spreadsheets to a transport management system in six weeks",
	"What planners really need from a tracking screen",
	"Peak season checklist for mid-sized shippers",
	"How freight audit pays for itself",
	"A night shift at a cross-dock in {city}",
}

// General sentences fill every page; the other pools are per category.
var (
	generalPool = []string{
		"{Company} builds software that helps mid-sized shippers plan, track and settle freight across road, rail and sea.",
		"The platform connects transport management, warehouse operations and customs paperwork in one place, so planners stop copying data between spreadsheets.",
		"Most customers go live within six weeks, because integrations with SAP, Microsoft Dynamics and NetSuite come ready to use.",
		"Dispatchers see every load, every carrier and every delivery window on one screen, and exceptions surface before they turn into missed deliveries.",
		"{customer} used the platform to cut empty kilometres by {pct} percent in its first year.",
		"We believe logistics software should be boring in the best sense: predictable, auditable and easy to explain to a new planner on the first day.",
		"All data is hosted in the European Union, encrypted at rest and in transit, and the platform is audited every year against ISO 27001.",
		"Carriers join the network for free, receive tenders, confirm pickups and upload proof of delivery from a mobile app.",
		"Finance teams match freight invoices against agreed rates automatically, which removes most of the manual checking that delays the month-end close.",
		"Our support team answers in English, German, Polish, Finnish and Estonian, usually within two business hours.",
		"Every change to a shipment is recorded with a timestamp and the name of the person who made it, which keeps audits short.",
		"Planners in {city} and {city} share one view of capacity, so a late truck at one depot is visible at the other before it becomes a problem.",
		"A typical customer handles about {n} thousand shipments a year and works with more than {n} carriers on the platform.",
		"Reports on cost per pallet, on-time delivery and CO2 emissions per shipment come out of the box and export to Excel or Power BI.",
		"Shippers in {city} use the same workflows as shippers in {city}, with local holidays, driving bans and tax rules handled for them.",
		"When a carrier misses a pickup, the next best carrier is offered the load automatically, with the price agreed in advance.",
	}
	homePool = []string{
		"Planners spend their time on decisions instead of data entry, because orders arrive from the ERP already grouped into loads.",
		"{customer} and {customer} both moved from spreadsheets to {Company} in a single quarter.",
		"Planners, dispatchers and warehouse supervisors at more than {n} companies use the platform every day.",
		"Tenders go out to your preferred carriers first and to the open network only when nobody accepts within the hour.",
		"Drivers receive their stops, slots and documents on their phones, and customers get a tracking link without anyone sending an email.",
		"The first week of a trial is usually enough to import a month of orders and compare the proposed plans with what your team did by hand.",
		"Freight costs are allocated to orders, customers and products automatically, so sales knows what each delivery really cost.",
		"You can start with one module and add the rest as your team is ready, without a new implementation project.",
		"Customers measure the return in fewer late deliveries, lower freight spend and calmer mornings at the loading docks.",
	}
	aboutPool = []string{
		"The founders spent a decade planning freight for a distributor in {city} before they wrote the first line of code.",
		"We still sit with planners at least once a month, because the best product ideas come from watching a real dispatch office.",
		"Our engineering team works in small groups that own a product from the database to the screen.",
		"We publish our security practices, our uptime and our sub-processors, because customers trust what they can check.",
		"The company is profitable and owned by its founders and employees, so we plan in decades rather than funding rounds.",
		"Offices in {city} and {city} are open to customers who want to see how we work.",
	}
	productPool = []string{
		"{product} reads orders directly from the ERP and groups them into loads by destination, weight and delivery window.",
		"Setup takes a few days: you upload depots, vehicles and carrier contracts, and {product} proposes the first plans the same week.",
		"{customer} runs {product} across {n} depots and reports {pct} percent fewer late deliveries.",
		"An open REST API and webhooks let your developers connect {product} to in-house systems without waiting for us.",
		"{product} works in the browser and on tablets, so yard staff and drivers see the same data as the planning office.",
		"Alerts go out by email, SMS or Microsoft Teams when a shipment risks missing its slot.",
		"Every plan {product} produces can be adjusted by hand, and it learns from the changes your planners make.",
		"{product} is included in the Growth and Enterprise plans and can be added to Starter for a small monthly fee.",
		"With {product}, planners {benefit}.",
	}
	customerPool = []string{
		"{customer} moved {n} depots onto the platform in one quarter and cut overtime in its planning team by {pct} percent.",
		"At {customer}, dock waiting times fell from over an hour to under twenty minutes after the first month.",
		"{customer} uses the carrier portal to tender about {n} hundred loads a week to regional hauliers.",
		"The transport manager at {customer} says the biggest change is that nobody prints the daily plan any more.",
		"{customer} reduced its freight spend by {pct} percent by consolidating partial loads from {city} and {city}.",
		"Customers in food, pharmaceuticals, building materials and furniture trust us with their most time-critical shipments.",
	}
	careersPool = []string{
		"We hire people who like real-world problems: trucks, docks, weather and the people who keep goods moving.",
		"Everyone gets a learning budget, a good laptop and two days a year to spend in a customer's dispatch office.",
		"Teams meet in {city} once a quarter and work the rest of the time wherever they are most productive.",
		"Our interview process has three steps and takes about two weeks, and we give feedback to every candidate.",
		"Salaries are published internally by level, so nobody has to negotiate to be paid fairly.",
	}
	blogPool = []string{
		"The idea for this post came from a conversation with a transport manager at {customer}.",
		"The numbers below come from anonymised data across {n} customer accounts over the last twelve months.",
		"The biggest surprise was how much time was lost before a truck even left the depot.",
		"In most depots we visited, {pct} percent of the waiting time happened at the gate, not at the dock.",
		"Small changes added up: fixed loading slots, a shared calendar with carriers and a clear rule for late arrivals.",
		"None of this requires new hardware; it requires agreeing who owns each step of the process.",
		"We asked planners in {city} what they would change first, and the answer was almost always the same: fewer phone calls.",
		"If you want to try this in your own operation, start with one depot and one carrier and measure for a month.",
		"Seasonal peaks make every weakness in a process visible at once, which is why we measure them separately.",
		"Carriers told us they value predictable slots more than a slightly higher rate.",
		"The planners who got the most out of the change were the ones who were sceptical at first and asked the hardest questions.",
		"Questions and comments about this article are welcome at hello@{domain}.",
	}
)

// sectionHeadings name the h2s that split the generated paragraphs.
var sectionHeadings = map[string][]string{
	"home":      {"Why shippers choose {Company}", "Built with planners", "Security and hosting", "Getting started"},
	"about":     {"Our story", "How we work", "Where we are", "What we believe"},
	"product":   {"How it works", "Integrations", "Results", "Plans and availability"},
	"pricing":   {"Frequently asked questions", "Billing"},
	"customers": {"Case studies", "Results", "Industries"},
	"careers":   {"Working here", "Benefits", "How we hire"},
	"blog":      {"Background", "What we found", "What changed", "Results", "What we learned", "Next steps"},
	"contact":   {"Support", "Visit us"},
	"private":   {"Partner resources"},
}

// orgFor derives the company facts from its name.
func orgFor(company string) Org {
	domain := strings.ReplaceAll(slugify(company), "-", "") + ".example"
	if domain == ".example" {
		domain = "company.example"
	}
	return Org{
		Name:          company,
		Domain:        domain,
		Email:         "hello@" + domain,
		SalesEmail:    "sales@" + domain,
		Telephone:     "+44 20 7946 0958",
		StreetAddress: "Sadama 25",
		Locality:      "Tallinn",
		PostalCode:    "10111",
		Country:       "EE",
		Employees:     140,
		OpenPositions: len(jobs),
		Founded:       2014,
		LinkedIn:      "https://www.linkedin.com/company/" + slugify(company),
	}
}

// plan lists the pages of a site with n public pages: the eight section
// pages, then products and blog posts in turn, then the private page.
func plan(org Org, n int) []page {
	c := org.Name
	fixed := []page{
		{PageSpec: PageSpec{Path: "/", Slug: "home", Category: "home",
			Title:       c + " | Transport management software for shippers",
			Description: c + " builds transport management software that helps mid-sized shippers plan, track and settle freight across Northern Europe."},
			anchor: "Home"},
		{PageSpec: PageSpec{Path: "/about", Slug: "about", Category: "about",
			Title:       "About us | " + c,
			Description: fmt.Sprintf("Founded in %d in %s, %s is a team of %d people building software for shippers and carriers.", org.Founded, org.Locality, c, org.Employees)},
			anchor: "About us"},
		{PageSpec: PageSpec{Path: "/products", Slug: "products", Category: "product",
			Title:       "Products | " + c,
			Description: "The " + c + " platform: route planning, dock scheduling, freight tendering, tracking and customs documents in one system."},
			anchor: "Products"},
		{PageSpec: PageSpec{Path: "/pricing", Slug: "pricing", Category: "pricing",
			Title:       "Pricing | " + c,
			Description: "Simple per-user pricing: Starter $29, Growth $59, Enterprise on request. Every plan starts with a free 14-day trial."},
			anchor: "Pricing"},
		{PageSpec: PageSpec{Path: "/customers", Slug: "customers", Category: "customers",
			Title:       "Customers | " + c,
			Description: "Manufacturers and distributors across Northern Europe, including " + customers[0] + " and " + customers[1] + ", run their freight on " + c + "."},
			anchor: "Customers"},
		{PageSpec: PageSpec{Path: "/careers", Slug: "careers", Category: "careers",
			Title:       "Careers | " + c,
			Description: fmt.Sprintf("Join %s: %d open positions in engineering, product, sales and customer success.", c, org.OpenPositions)},
			anchor: "Careers"},
		{PageSpec: PageSpec{Path: "/blog", Slug: "blog", Category: "blog",
			Title:       "Blog | " + c,
			Description: "Practical articles on freight planning, dock scheduling and carrier management from the " + c + " team."},
			anchor: "Blog"},
		{PageSpec: PageSpec{Path: "/contact", Slug: "contact", Category: "contact",
			Title:       "Contact | " + c,
			Description: "Talk to " + c + " sales or support: " + org.SalesEmail + ", " + org.Telephone + "."},
			anchor: "Contact"},
	}
	pages := fixed[:min(n, len(fixed))]
	used := map[string]bool{}
	for i := len(fixed); i < n; i++ {
		k := (i - len(fixed)) / 2
		if (i-len(fixed))%2 == 0 {
			name, line := product(k)
			slug := slugify(name)
			pages = append(pages, page{PageSpec: PageSpec{
				Path: "/products/" + slug, Slug: "products-" + slug, Category: "product",
				Title:       name + " | " + c,
				Description: fmt.Sprintf("%s %s, part of the %s platform.", name, line.purpose, c),
			}, anchor: name + " " + line.noun, item: k})
			continue
		}
		g := newGen(org, "blog-title-"+strconv.Itoa(k))
		title := g.fill(blogTitles[k%len(blogTitles)])
		if k >= len(blogTitles) {
			title += fmt.Sprintf(" (part %d)", k/len(blogTitles)+1)
		}
		slug := slugify(title)
		for base, j := slug, 2; used[slug]; j++ {
			slug = base + "-" + strconv.Itoa(j)
		}
		used[slug] = true
		pages = append(pages, page{PageSpec: PageSpec{
			Path: "/blog/" + slug, Slug: "blog-" + slug, Category: "blog",
			Title:       title + " | " + c,
			Description: "From the " + c + " blog: " + strings.ToLower(title[:1]) + title[1:] + ".",
		}, anchor: title, item: k})
	}
	pages = append(pages, page{PageSpec: PageSpec{
		Path: PrivatePath, Slug: "private-secret", Category: "private", Disallowed: true,
		Title:       "Partner portal | " + c,
		Description: "Internal partner portal for " + c + " carriers and resellers.",
	}, anchor: "Partner portal"})
	code := initials(c)
	for i := range pages {
		p := &pages[i]
		p.APIPath = APIPrefix + p.Slug + ".json"
		// The marker is plain ASCII without markup characters so it survives
		// JSON encoding, HTML rendering and Markdown conversion verbatim.
		p.Marker = fmt.Sprintf("Render check %s-%04d confirms that the page script ran.", code, i)
		p.lastmod = fmt.Sprintf("2025-%02d-%02d", 1+i%12, 1+(i*7)%28)
	}
	return pages
}

// fillContent writes the page's script-rendered content; children are the
// product and blog pages for the two index pages to link.
func fillContent(p *page, org Org, products, posts []link) {
	g := newGen(org, p.Slug)
	c := org.Name
	var fixed []string // opening paragraphs, before the generated ones
	var pool []string  // the category's sentences, mixed with generalPool
	heavy := false     // whether the category's sentences dominate
	count := 4         // generated paragraphs
	var extra []section
	var links []link
	heading := strings.TrimSuffix(p.Title, " | "+c)
	switch p.Slug {
	case "home":
		heading = "Freight planning without the spreadsheets"
		fixed = []string{
			c + " is transport management software for mid-sized shippers. Plan loads, book carriers, schedule docks and track every delivery from one screen.",
			fmt.Sprintf("Customers include %s, %s and %s. Try it yourself with a free 14-day trial, or write to %s for a demo.", customers[0], customers[1], customers[4], org.SalesEmail),
		}
		pool = homePool
		count = 5
	case "about":
		heading = "About " + c
		fixed = []string{
			fmt.Sprintf("%s was founded in %d in %s by three former freight planners who were tired of running a transport operation from spreadsheets and phone calls.", c, org.Founded, org.Locality),
			fmt.Sprintf("Today we are %d people in Tallinn, Riga and Warsaw, and our software plans freight for more than two hundred shippers in %d countries.", org.Employees, 11),
		}
		pool = aboutPool
		count = 5
	case "products":
		heading = "One platform for every step of a shipment"
		fixed = []string{"The " + c + " platform is made of modules that share one database of orders, loads, carriers and documents. Start with the module that hurts most and add the others when you are ready."}
		for k := range 5 {
			name, line := product(k)
			fixed = append(fixed, fmt.Sprintf("%s %s, so planners can %s.", name, line.purpose, line.benefit))
		}
		pool = productPool
		g.product = "the " + c + " platform"
		count = 3
		links = products
	case "pricing":
		heading = "Simple pricing that grows with your team"
		fixed = []string{"Every plan starts with a free 14-day trial. No credit card is required, and you keep your data if you decide to subscribe."}
		extra = []section{{Heading: "Plans", Paragraphs: []string{
			"Starter $29 per user per month, for small teams that plan up to 500 shipments a month. It includes shipment tracking, the carrier portal and standard reports.",
			"Growth $59 per user per month, for shippers with several depots. It adds route optimisation, dock scheduling, freight audit and API access.",
			"Enterprise pricing on request, for groups that need single sign-on, custom security reviews and a dedicated success manager. Write to " + org.SalesEmail + " for a quote.",
			"Annual billing saves 15 percent. Prices exclude VAT, and non-profit organisations receive a 30 percent discount.",
		}}}
		count = 3
	case "customers":
		heading = "Our customers"
		fixed = []string{fmt.Sprintf("Customers include %s, %s, %s and %s. More than two hundred manufacturers and distributors run their freight on %s.",
			customers[0], customers[1], customers[2], customers[3], c)}
		pool = customerPool
		count = 6
	case "careers":
		heading = "Careers at " + c
		fixed = []string{fmt.Sprintf("We have %d open positions in Tallinn, Riga and Warsaw, and most roles can be done remotely from anywhere in the EU. Send your CV to careers@%s.", org.OpenPositions, org.Domain)}
		extra = []section{{Heading: "Open positions", Paragraphs: jobsParagraphs()}}
		pool = careersPool
		count = 3
	case "blog":
		heading = "The " + c + " blog"
		fixed = []string{"Practical articles about freight planning, written by our planners, engineers and customers. New posts appear every two weeks."}
		pool = blogPool
		count = 2
		links = posts
	case "contact":
		heading = "Contact us"
		fixed = []string{
			fmt.Sprintf("Sales: write to %s or call %s, Monday to Friday from 9:00 to 17:00 Central European Time.", org.SalesEmail, org.Telephone),
			fmt.Sprintf("Support: customers reach us at support@%s or through the help button in the application. Press enquiries go to press@%s.", org.Domain, org.Domain),
			fmt.Sprintf("Visit us at %s, %s %s, Estonia. Our office is a ten-minute walk from the passenger port.", org.StreetAddress, org.PostalCode, org.Locality),
		}
		count = 2
	case "private-secret":
		fixed = []string{"This portal is for signed partners only. Price lists, contract templates and the carrier onboarding guide are available after login."}
		count = 2
	default:
		switch p.Category {
		case "product":
			name, line := product(p.item)
			g.product = name
			g.benefit = line.benefit
			heading = name + ": " + line.noun + " for shippers"
			fixed = []string{fmt.Sprintf("%s is the part of the %s platform that %s.", name, c, line.purpose)}
			pool = productPool
			count = 4 + p.item%4
			p.content.Figure = &figure{Src: "/static/product-" + strconv.Itoa(p.item%3) + ".png",
				Alt: name + " planning screen", Caption: name + " shows today's loads, carriers and delivery windows."}
		case "blog":
			fixed = []string{fmt.Sprintf("Published %s by the %s team.", p.lastmod, c)}
			pool, heavy = blogPool, true
			count = 6 + (p.item*5)%9
		}
	}
	paras := make([]string, 0, len(fixed)+count)
	paras = append(paras, fixed...)
	for range count {
		paras = append(paras, g.paragraph(pool, heavy))
	}
	// The marker goes inside a real paragraph, where readability keeps it.
	at := min(1, len(paras)-1)
	paras[at] += " " + p.Marker
	heads := sectionHeadings[p.Category]
	secs := []section{{Paragraphs: paras[:min(len(paras), len(fixed)+1)]}}
	for j, rest := 0, paras[len(secs[0].Paragraphs):]; len(rest) > 0; j++ {
		k := min(len(rest), 2+j%2)
		secs = append(secs, section{Heading: g.fill(heads[j%len(heads)]), Paragraphs: rest[:k]})
		rest = rest[k:]
	}
	p.content.Slug = p.Slug
	p.content.Title = p.Title
	p.content.Heading = heading
	p.content.Sections = append(append(secs[:1:1], extra...), secs[1:]...)
	p.content.Links = links
}

func jobsParagraphs() []string {
	out := make([]string, len(jobs))
	for i, j := range jobs {
		out[i] = fmt.Sprintf("%s, %s or remote.", j, cities[i%3])
	}
	return out
}

// gen draws template sentences with a generator seeded by the company and
// page, so content is deterministic.
type gen struct {
	r       *rand.Rand
	org     Org
	product string
	benefit string
	decks   map[*string][]int // remaining sentence indices per pool
}

func newGen(org Org, key string) *gen {
	h := fnv.New64a()
	_, _ = h.Write([]byte(org.Name + "\x00" + key)) // hash.Hash never fails
	sum := h.Sum64()
	return &gen{r: rand.New(rand.NewPCG(sum, sum^0x9e3779b97f4a7c15)), org: org,
		product: "the platform", benefit: "plan faster", decks: map[*string][]int{}}
}

// paragraph is four or five sentences mixing pool (two of them, or three
// when heavy) with generalPool.
func (g *gen) paragraph(pool []string, heavy bool) string {
	n := 4 + g.r.IntN(2)
	var b strings.Builder
	for j := range n {
		from := generalPool
		if pool != nil && (j == 0 || j == 3 || (heavy && j == 2)) {
			from = pool
		}
		if j > 0 {
			b.WriteByte(' ')
		}
		// A placeholder may open the sentence with a lower-case phrase.
		sentence := g.fill(g.draw(from))
		b.WriteString(strings.ToUpper(sentence[:1]) + sentence[1:])
	}
	return b.String()
}

// draw deals sentences from a shuffled deck, so a page repeats a sentence
// only after it used the whole pool.
func (g *gen) draw(pool []string) string {
	key := &pool[0]
	deck := g.decks[key]
	if len(deck) == 0 {
		deck = g.r.Perm(len(pool))
	}
	g.decks[key] = deck[1:]
	return pool[deck[0]]
}

// fill replaces the {placeholders} of tpl, drawing a fresh customer, city
// or number for each occurrence.
func (g *gen) fill(tpl string) string {
	var b strings.Builder
	picked := map[string]bool{}
	for {
		i := strings.IndexByte(tpl, '{')
		if i < 0 {
			b.WriteString(tpl)
			return b.String()
		}
		j := strings.IndexByte(tpl[i:], '}')
		if j < 0 {
			b.WriteString(tpl)
			return b.String()
		}
		b.WriteString(tpl[:i])
		switch name := tpl[i+1 : i+j]; name {
		case "Company":
			b.WriteString(g.org.Name)
		case "domain":
			b.WriteString(g.org.Domain)
		case "product":
			b.WriteString(g.product)
		case "benefit":
			b.WriteString(g.benefit)
		case "customer":
			b.WriteString(g.pick(customers, name, picked))
		case "city":
			b.WriteString(g.pick(cities, name, picked))
		case "pct":
			b.WriteString(strconv.Itoa(8 + g.r.IntN(34)))
		case "n":
			b.WriteString(strconv.Itoa(3 + g.r.IntN(58)))
		default:
			b.WriteString(tpl[i : i+j+1])
		}
		tpl = tpl[i+j+1:]
	}
}

// pick draws a name from list that tpl has not used yet, so a sentence never
// says "Riga and Riga".
func (g *gen) pick(list []string, kind string, picked map[string]bool) string {
	for {
		v := list[g.r.IntN(len(list))]
		if !picked[kind+v] {
			picked[kind+v] = true
			return v
		}
	}
}

// slugify lower-cases s and joins its words with hyphens.
func slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	return b.String()
}

// initials are the capital letters of the company's words, for markers.
func initials(s string) string {
	var b strings.Builder
	for _, w := range strings.Fields(s) {
		if r := []rune(w)[0]; r < 128 && unicode.IsLetter(r) {
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	if b.Len() == 0 {
		return "TS"
	}
	return b.String()
}
