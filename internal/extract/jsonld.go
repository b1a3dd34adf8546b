package extract

import (
	"encoding/json"
	"html"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	xhtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// findOrganization returns the first Organization-typed JSON-LD node of the
// page, preferring top-level and @graph nodes over ones nested inside other
// nodes (a WebPage's publisher), because the top-level node is the site
// describing itself. Malformed blocks are skipped: one broken script tag
// should not cost the rest of the page.
func findOrganization(doc *xhtml.Node, base *url.URL) *Organization {
	var roots []any
	walk(doc, func(n *xhtml.Node) bool {
		if n.Type == xhtml.ElementNode && n.DataAtom == atom.Script && isJSONLD(attr(n, "type")) {
			var v any
			if err := json.Unmarshal([]byte(cleanJSONLD(scriptText(n))), &v); err == nil {
				roots = append(roots, v)
			}
			return false
		}
		return true
	})

	// Breadth-first over the JSON trees so shallower nodes win.
	queue := roots
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		switch t := v.(type) {
		case []any:
			queue = append(queue, t...)
		case map[string]any:
			if isOrgType(t["@type"]) {
				return toOrganization(t, base)
			}
			// @graph first keeps the site's own graph ahead of nested values.
			if g, ok := t["@graph"]; ok {
				queue = append(queue, g)
			}
			// Sorted keys keep the choice deterministic when two nested
			// organizations sit at the same depth.
			for _, k := range slices.Sorted(maps.Keys(t)) {
				if k != "@graph" {
					queue = append(queue, t[k])
				}
			}
		}
	}
	return nil
}

// scriptText returns the raw text of a script element; textContent skips
// scripts by design, so JSON-LD needs its own accessor.
func scriptText(n *xhtml.Node) string {
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == xhtml.TextNode {
			b.WriteString(c.Data)
		}
	}
	return b.String()
}

// isJSONLD matches type="application/ld+json", tolerating case and
// parameters such as ";charset=utf-8".
func isJSONLD(typ string) bool {
	typ, _, _ = strings.Cut(typ, ";")
	return strings.EqualFold(strings.TrimSpace(typ), "application/ld+json")
}

// cleanJSONLD strips wrappers that CMSs put around JSON-LD (HTML comments,
// CDATA markers, a trailing semicolon) and that browsers tolerate.
func cleanJSONLD(s string) string {
	s = strings.TrimSpace(s)
	for _, w := range [][2]string{{"<!--", "-->"}, {"//<![CDATA[", "//]]>"}, {"<![CDATA[", "]]>"}} {
		if strings.HasPrefix(s, w[0]) {
			s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(strings.TrimPrefix(s, w[0])), w[1]))
		}
	}
	return strings.TrimSuffix(s, ";")
}

// orgTypes is schema.org's Organization type and its subtypes (including
// the LocalBusiness tree) as they appear on company sites.
var orgTypes = map[string]bool{}

func init() {
	for _, t := range strings.Fields(`
Organization Airline Consortium Cooperative Corporation EducationalOrganization
CollegeOrUniversity ElementarySchool HighSchool MiddleSchool Preschool School
FundingScheme GovernmentOrganization LibrarySystem LocalBusiness MedicalOrganization
Dentist DiagnosticLab Hospital MedicalClinic Pharmacy Physician VeterinaryCare NGO
NewsMediaOrganization OnlineBusiness OnlineStore PerformingGroup DanceGroup MusicGroup
TheaterGroup PoliticalParty Project FundingAgency ResearchProject ResearchOrganization
SearchRescueOrganization SportsOrganization SportsTeam WorkersUnion
AnimalShelter ArchiveOrganization AutomotiveBusiness AutoBodyShop AutoDealer
AutoPartsStore AutoRental AutoRepair AutoWash GasStation MotorcycleDealer
MotorcycleRepair ChildCare DryCleaningOrLaundry EmergencyService FireStation
PoliceStation EmploymentAgency EntertainmentBusiness AdultEntertainment AmusementPark
ArtGallery Casino ComedyClub MovieTheater NightClub FinancialService AccountingService
AutomatedTeller BankOrCreditUnion InsuranceAgency FoodEstablishment Bakery BarOrPub
Brewery CafeOrCoffeeShop Distillery FastFoodRestaurant IceCreamShop Restaurant Winery
GovernmentOffice PostOffice HealthAndBeautyBusiness BeautySalon DaySpa HairSalon
HealthClub NailSalon TattooParlor HomeAndConstructionBusiness Electrician
GeneralContractor HVACBusiness HousePainter Locksmith MovingCompany Plumber
RoofingContractor InternetCafe LegalService Attorney Notary Library LodgingBusiness
BedAndBreakfast Campground Hostel Hotel Motel Resort VacationRental MedicalBusiness
Optician ProfessionalService RadioStation RealEstateAgent RecyclingCenter SelfStorage
ShoppingCenter SportsActivityLocation BowlingAlley ExerciseGym GolfCourse
PublicSwimmingPool SkiResort SportsClub StadiumOrArena TennisComplex Store BikeStore
BookStore ClothingStore ComputerStore ConvenienceStore DepartmentStore ElectronicsStore
Florist FurnitureStore GardenStore GroceryStore HardwareStore HobbyShop HomeGoodsStore
JewelryStore LiquorStore MensClothingStore MobilePhoneStore MovieRentalStore MusicStore
OfficeEquipmentStore OutletStore PawnShop PetStore ShoeStore SportingGoodsStore TireShop
ToyStore WholesaleStore TelevisionStation TouristInformationCenter TravelAgency`) {
		orgTypes[strings.ToLower(t)] = true
	}
}

// isOrgType reports whether a JSON-LD @type (a string or an array, possibly
// a full IRI like "https://schema.org/Corporation") names an organization.
// Unknown names ending in Organization/Business/Store count too, so
// extensions and newer subtypes are not missed.
func isOrgType(v any) bool {
	for _, t := range strs(v) {
		if i := strings.LastIndexAny(t, "/:#"); i >= 0 {
			t = t[i+1:]
		}
		t = strings.ToLower(strings.TrimSpace(t))
		if orgTypes[t] || strings.HasSuffix(t, "organization") || strings.HasSuffix(t, "organisation") ||
			strings.HasSuffix(t, "business") || strings.HasSuffix(t, "store") {
			return true
		}
	}
	return false
}

// toOrganization normalises one JSON-LD node.
func toOrganization(m map[string]any, base *url.URL) *Organization {
	o := &Organization{
		Name:              text(m["name"]),
		LegalName:         text(m["legalName"]),
		URL:               link(m["url"], base),
		Logo:              link(m["logo"], base),
		Description:       text(m["description"]),
		Email:             strings.TrimSpace(trimScheme(text(m["email"]), "mailto:")),
		Telephone:         strings.TrimSpace(trimScheme(text(m["telephone"]), "tel:")),
		FoundingDate:      text(m["foundingDate"]),
		NumberOfEmployees: employees(m["numberOfEmployees"]),
		Address:           address(m["address"]),
	}
	if o.Name == "" {
		o.Name = text(m["alternateName"])
	}
	seen := map[string]bool{}
	for _, v := range list(m["sameAs"]) {
		if s := link(v, base); s != "" && !seen[s] {
			seen[s] = true
			o.SameAs = append(o.SameAs, s)
		}
	}
	return o
}

// trimScheme removes a case-insensitive URI scheme prefix.
func trimScheme(s, scheme string) string {
	if len(s) >= len(scheme) && strings.EqualFold(s[:len(scheme)], scheme) {
		return s[len(scheme):]
	}
	return s
}

// list turns a JSON-LD value that may be a single value or an array into a slice.
func list(v any) []any {
	if a, ok := v.([]any); ok {
		return a
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

// strs returns the string members of a string-or-array value.
func strs(v any) []string {
	var out []string
	for _, x := range list(v) {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// scalar renders a JSON string, number or boolean; "" for anything else.
func scalar(v any) string {
	switch t := v.(type) {
	case string:
		// Entities are common in CMS-generated JSON-LD ("Smith &amp; Co").
		return collapse(html.UnescapeString(t))
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(t)
	}
	return ""
}

// pick normalises a value to a string: scalars as is, objects by the first
// of keys present, arrays by their first non-empty member.
func pick(v any, keys ...string) string {
	switch t := v.(type) {
	case []any:
		for _, x := range t {
			if s := pick(x, keys...); s != "" {
				return s
			}
		}
	case map[string]any:
		for _, k := range keys {
			if s := pick(t[k], keys...); s != "" {
				return s
			}
		}
	default:
		return scalar(v)
	}
	return ""
}

// text normalises a textual property; objects contribute their name.
func text(v any) string { return pick(v, "name", "@value", "value") }

// link normalises a URL-valued property (ImageObject, @id references) and
// resolves it against the page, since sites often write "/logo.png".
func link(v any, base *url.URL) string {
	s := pick(v, "url", "contentUrl", "@id", "@value")
	if s == "" {
		return ""
	}
	if r := resolveHTTP(base, s); r != "" {
		return r
	}
	return s
}

// employees renders numberOfEmployees, which is usually a
// QuantitativeValue with either value or a minValue/maxValue range.
func employees(v any) string {
	if m, ok := v.(map[string]any); ok {
		if s := scalar(m["value"]); s != "" {
			return s
		}
		lo, hi := scalar(m["minValue"]), scalar(m["maxValue"])
		switch {
		case lo != "" && hi != "":
			return lo + "-" + hi
		case lo != "":
			return lo + "+"
		case hi != "":
			return "up to " + hi
		}
		return ""
	}
	if a, ok := v.([]any); ok {
		for _, x := range a {
			if s := employees(x); s != "" {
				return s
			}
		}
		return ""
	}
	return scalar(v)
}

// address renders a string or PostalAddress (or an array of them, taking
// the first) as one comma-separated line.
func address(v any) string {
	switch t := v.(type) {
	case []any:
		for _, x := range t {
			if s := address(x); s != "" {
				return s
			}
		}
	case map[string]any:
		var parts []string
		for _, k := range []string{"streetAddress", "addressLocality", "addressRegion", "postalCode", "addressCountry"} {
			if s := text(t[k]); s != "" {
				parts = append(parts, s)
			}
		}
		if len(parts) == 0 {
			return text(t)
		}
		return strings.Join(parts, ", ")
	default:
		return scalar(v)
	}
	return ""
}
