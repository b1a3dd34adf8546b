package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strconv"
	"strings"

	"github.com/groundwork-dev/groundwork/internal/document"
)

// Texts of sampleReport that renderer tests look for by name.
const (
	sampleTitle   = "Northwind Robotics — Market Report Q3"
	sampleUTF8    = "Café – naïve “quotes” déjà vu"
	sampleCJK     = "東京"
	sampleEmoji   = "🚀"
	sampleSymbol  = "✓"
	sampleLinkURL = "https://example.com/reports/q3"
)

// sampleReport is a realistic report of about 20 A4 pages exercising every
// block type: a title block, headings, paragraphs with bold, italic and
// linked spans, UTF-8 with CJK, an emoji and a symbol (fallback fonts),
// bulleted and numbered lists, a kv block, a 400-row table spanning
// several pages, a bar, a line and a pie chart, a PNG image and page
// breaks. It is deterministic (no clock, no randomness) and already
// validated, so images are decoded. Shared by the PDF and DOCX tests.
func sampleReport() *document.Document {
	doc := &document.Document{
		Title:    sampleTitle,
		Subtitle: "Accounts, pipeline and competitive landscape for the third quarter",
		Author:   "Groundwork Research · Ana Müller",
		Subject:  "Quarterly market report",
		Keywords: "robotics, market, Q3, 東京",
	}
	add := func(b ...document.Block) { doc.Blocks = append(doc.Blocks, b...) }
	para := func(text string) document.Block { return document.Block{Type: document.BlockParagraph, Text: text} }
	heading := func(level int, text string) document.Block {
		return document.Block{Type: document.BlockHeading, Level: level, Text: text}
	}
	list := func(ordered bool, items ...string) document.Block {
		b := document.Block{Type: document.BlockList, Ordered: ordered}
		for _, it := range items {
			b.Items = append(b.Items, document.Item{Text: it})
		}
		return b
	}

	add(heading(1, "Executive summary"),
		document.Block{Type: document.BlockParagraph, Spans: []document.Span{
			{Text: "Northwind Robotics grew "},
			{Text: "annual recurring revenue by 38%", Bold: true},
			{Text: " over the last four quarters, "},
			{Text: "well ahead of the market", Italic: true},
			{Text: ". The full methodology is in the "},
			{Text: "online appendix", Link: sampleLinkURL},
			{Text: ", and the "},
			{Text: "key risks", Bold: true, Italic: true},
			{Text: " are summarised below."},
		}},
		para("International names survive the round trip: "+sampleUTF8+", the "+sampleCJK+
			" office opened in March "+sampleEmoji+", and every target was met "+sampleSymbol+"."),
		list(false,
			"Pipeline coverage is 3.1× quota for the next two quarters.",
			"Win rate against the two largest competitors improved to 41%.",
			"Churn stayed below 4% for the sixth quarter in a row, the best in the segment.",
		),
		document.Block{Type: document.BlockKV, Items: []document.Item{
			{Key: "Company", Value: "Northwind Robotics GmbH", IsKV: true},
			{Key: "Headquarters", Value: "München, Germany", IsKV: true},
			{Key: "Founded", Value: "2011", IsKV: true},
			{Key: "Employees", Value: "1,240 (+180 year over year)", IsKV: true},
			{Key: "Website", Value: "northwind-robotics.example", IsKV: true},
			{Key: "Description", Value: "Designs collaborative robot arms and the fleet software that schedules them across warehouses, with customers in logistics, food processing and electronics assembly.", IsKV: true},
		}},
	)

	quarters := []string{"Q4 2024", "Q1 2025", "Q2 2025", "Q3 2025"}
	add(heading(2, "Revenue and pipeline"),
		para("Revenue rose in every quarter; the pipeline grew faster than bookings, which points to a strong fourth quarter."),
		document.Block{Type: document.BlockChart, Kind: document.ChartBar, Title: "Bookings by quarter (k€)",
			Labels: quarters, Series: []document.Series{
				{Name: "New business", Values: []float64{820, 910, 1040, 1195}},
				{Name: "Expansion", Values: []float64{310, 365, 402, 480}},
			}},
		document.Block{Type: document.BlockChart, Kind: document.ChartLine, Title: "Weighted pipeline (k€)",
			Labels: quarters, Series: []document.Series{{Name: "Pipeline", Values: []float64{2400, 2650, 3010, 3720}}}},
		document.Block{Type: document.BlockChart, Kind: document.ChartPie, Title: "Revenue by segment",
			Labels: []string{"Logistics", "Food", "Electronics", "Other"},
			Series: []document.Series{{Name: "Share", Values: []float64{46, 22, 19, 13}}}},
	)
	img := document.Block{Type: document.BlockImage, Caption: "Figure 1: Warehouse floor plan with robot cells (generated)."}
	img.SetImage(samplePNG(480, 240))
	add(img, document.Block{Type: document.BlockPageBreak})

	add(heading(1, "Accounts"),
		para("The table lists every active account with its country, segment and annual recurring revenue. Figures are in euros and rounded to the nearest thousand."),
		sampleTable(400),
		document.Block{Type: document.BlockPageBreak},
	)

	add(heading(1, "Market analysis"))
	for s, topic := range sampleTopics {
		add(heading(2, fmt.Sprintf("%d. %s", s+1, topic)))
		for k := 0; k < 3; k++ {
			add(para(sampleSentences(s*7+k, 6)))
		}
		add(heading(3, "Recommendations"),
			list(true,
				"Prioritise "+strings.ToLower(topic)+" accounts with more than 200 employees.",
				"Pair every new deal with an onboarding plan agreed before signature.",
				"Review pricing for multi-site customers at the next quarterly business review.",
			),
			para(sampleSentences(s*7+5, 4)),
		)
	}
	add(document.Block{Type: document.BlockPageBreak},
		heading(1, "Appendix"),
		para("Sources: company filings, customer interviews and the Groundwork research pipeline. Contact research@example.com for the raw data."))
	return doc
}

var sampleTopics = []string{
	"Logistics", "Food processing", "Electronics assembly", "Pharmaceuticals",
	"Automotive suppliers", "Retail distribution", "Third-party fulfilment", "Cold chain",
}

var sampleWords = strings.Fields(`customers warehouses throughput robots integration
pricing margins competitors adoption pilots deployments operators safety uptime
software scheduling analytics contracts renewals expansion procurement budgets
regional partners onboarding training maintenance forecasts capacity demand`)

// sampleSentences makes n deterministic sentences from seed.
func sampleSentences(seed, n int) string {
	var b strings.Builder
	x := uint32(seed*2654435761 + 12345)
	next := func() int {
		x = x*1664525 + 1013904223
		return int(x >> 8)
	}
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		words := 9 + next()%8
		for j := 0; j < words; j++ {
			w := sampleWords[next()%len(sampleWords)]
			if j == 0 {
				w = strings.ToUpper(w[:1]) + w[1:]
			} else {
				b.WriteByte(' ')
			}
			b.WriteString(w)
		}
		b.WriteByte('.')
	}
	return b.String()
}

var sampleCountries = []string{"Deutschland", "France", "España", "Österreich", "Sverige", "Polska", "Italia", "日本", "Côte d’Ivoire", "United Kingdom"}

// sampleTable is a table of n accounts with string, number and boolean
// cells; no cell is wide enough to wrap.
func sampleTable(n int) document.Block {
	b := document.Block{Type: document.BlockTable, Columns: []string{"#", "Account", "Country", "Segment", "ARR (EUR)", "Active"}}
	for i := 1; i <= n; i++ {
		arr := 12000 + (i*7919)%480000
		b.Rows = append(b.Rows, []document.Cell{
			sampleCell(strconv.Itoa(i)),
			document.StringCell(fmt.Sprintf("Account %03d %s", i, sampleWords[i%len(sampleWords)])),
			document.StringCell(sampleCountries[i%len(sampleCountries)]),
			document.StringCell(sampleTopics[i%len(sampleTopics)]),
			sampleCell(strconv.Itoa(arr)),
			sampleCell(strconv.FormatBool(i%5 != 0)),
		})
	}
	return b
}

// sampleCell is a cell from raw JSON (a number or boolean).
func sampleCell(raw string) document.Cell {
	var c document.Cell
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		panic(err)
	}
	return c
}

// samplePNG draws a deterministic w×h image: a gradient with a grid of
// "robot cells".
func samplePNG(w, h int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.NRGBA{uint8(230 - x*60/w), uint8(236 - y*50/h), 245, 255}
			if (x/40+y/40)%2 == 0 && x%40 > 6 && y%40 > 6 {
				c = color.NRGBA{0, 114, 178, 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err)
	}
	return buf.Bytes()
}
