package profile

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkExtract measures Extract on research's worst case: 50 pages at
// extract's 200 kB content cap.
func BenchmarkExtract(b *testing.B) {
	para := "Northwind Logistics runs temperature-controlled freight across the Nordics for dairies and pharmacies. " +
		"Customers include Baltic Dairy Cooperative, Nordic Pharmacy Group and many more. We are a team of 450 people.\n\n"
	body := strings.Repeat(para, 200_000/len(para))
	categories := []string{"home", "about", "product", "pricing", "customers", "careers", "blog", "contact", "other"}
	pages := make([]Page, 50)
	for i := range pages {
		pages[i] = Page{URL: fmt.Sprintf("https://northwind.example/p%d", i), Category: categories[i%len(categories)], Markdown: body, Text: body}
	}
	b.ResetTimer()
	for b.Loop() {
		Extract("Northwind Logistics", "northwind.example", pages)
	}
}
