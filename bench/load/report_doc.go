package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"

	"github.com/groundwork-dev/groundwork/internal/document"
)

// reportDocument is the benchmark's 20-page report: headings, paragraphs
// with spans and links, UTF-8, lists, key–value blocks, a long table that
// spans pages, three charts and an image.
func reportDocument() *document.Document {
	d := &document.Document{Title: "Acme Corp — account review", Subtitle: "Benchmark report", Author: "bench/load"}
	add := func(b document.Block) { d.Blocks = append(d.Blocks, b) }
	para := "Acme Corp sells workflow software to mid-market manufacturers. Café – naïve “quotes” survive every renderer. " +
		"Their buying committee spans operations, finance and IT, and renewals cluster in the fourth quarter."
	for section := 1; section <= 9; section++ {
		add(document.Block{Type: document.BlockHeading, Level: 1, Text: fmt.Sprintf("Section %d: findings", section)})
		for p := 0; p < 5; p++ {
			add(document.Block{Type: document.BlockParagraph, Spans: []document.Span{
				{Text: fmt.Sprintf("Finding %d.%d. ", section, p), Bold: true},
				{Text: para + " "},
				{Text: "Source", Italic: true, Link: "https://example.com/acme"},
			}})
		}
		add(document.Block{Type: document.BlockList, Items: []document.Item{{Text: "Champion in operations"}, {Text: "Budget approved for Q3"}, {Text: "Security review pending"}}})
		add(document.Block{Type: document.BlockKV, Items: []document.Item{{Key: "Industry", Value: "Manufacturing software", IsKV: true}, {Key: "Employees", Value: "1,200", IsKV: true}, {Key: "HQ", Value: "Zürich", IsKV: true}}})
	}
	add(document.Block{Type: document.BlockHeading, Level: 1, Text: "Pipeline"})
	rows := make([][]document.Cell, 470)
	for i := range rows {
		rows[i] = []document.Cell{
			document.StringCell(fmt.Sprintf("Opportunity %03d", i)),
			document.StringCell([]string{"Discovery", "Evaluation", "Proposal", "Negotiation"}[i%4]),
			document.StringCell(fmt.Sprintf("%d", 1000+i*37)),
			document.StringCell(fmt.Sprintf("2026-%02d-%02d", 1+i%12, 1+i%28)),
		}
	}
	add(document.Block{Type: document.BlockTable, Columns: []string{"Opportunity", "Stage", "Value (USD)", "Close date"}, Rows: rows})
	labels := []string{"Q1", "Q2", "Q3", "Q4"}
	add(document.Block{Type: document.BlockChart, Kind: document.ChartBar, Title: "Revenue by quarter", Labels: labels,
		Series: []document.Series{{Name: "2025", Values: []float64{120, 150, 170, 210}}, {Name: "2026", Values: []float64{140, 180, 190, 260}}}})
	add(document.Block{Type: document.BlockChart, Kind: document.ChartLine, Title: "Active users", Labels: labels,
		Series: []document.Series{{Name: "Users", Values: []float64{800, 950, 1020, 1300}}}})
	add(document.Block{Type: document.BlockChart, Kind: document.ChartPie, Title: "Pipeline by stage", Labels: []string{"Discovery", "Evaluation", "Proposal", "Negotiation"},
		Series: []document.Series{{Name: "Stage", Values: []float64{40, 30, 20, 10}}}})
	add(document.Block{Type: document.BlockImage, DataBase64: benchPNG(), Caption: "Figure 1: site map"})
	return d
}

func benchPNG() string {
	img := image.NewRGBA(image.Rect(0, 0, 400, 240))
	for x := 0; x < 400; x++ {
		for y := 0; y < 240; y++ {
			img.Set(x, y, color.RGBA{uint8(x / 2), uint8(y), 160, 255})
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}
