package airtablefake

import (
	"bytes"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
)

// listQuery holds the options of a list request, from the query string of
// a GET or the JSON body of a POST …/listRecords.
type listQuery struct {
	PageSize   *int       `json:"pageSize"`
	MaxRecords *int       `json:"maxRecords"`
	Offset     string     `json:"offset"`
	View       string     `json:"view"`
	Fields     []string   `json:"fields"`
	Formula    string     `json:"filterByFormula"`
	Sort       []sortSpec `json:"sort"`
	CellFormat string     `json:"cellFormat"`
	TimeZone   string     `json:"timeZone"`
	UserLocale string     `json:"userLocale"`
	ByFieldID  bool       `json:"returnFieldsByFieldId"`
	// RecordMetadata can ask for comment counts, which the fake has none of.
	RecordMetadata []string `json:"recordMetadata"`
}

type sortSpec struct {
	Field     string `json:"field"`
	Direction string `json:"direction"`
}

// listKeys are the keys of a listRecords body.
var listKeys = []string{"pageSize", "maxRecords", "offset", "view", "fields", "filterByFormula", "sort",
	"cellFormat", "timeZone", "userLocale", "returnFieldsByFieldId", "recordMetadata"}

var sortParam = regexp.MustCompile(`^sort\[(\d+)\]\[(field|direction)\]$`)

// parseListQuery reads the query string of a list request. Unknown
// parameters are refused, as Airtable does, which catches misspellings
// like "field[]" that would otherwise be silently ignored.
func parseListQuery(q url.Values) (listQuery, *apiError) {
	var lq listQuery
	sorts := map[int]*sortSpec{}
	for key, vals := range q {
		v := vals[len(vals)-1]
		var err *apiError
		switch key {
		case "pageSize":
			lq.PageSize, err = atoi(v)
		case "maxRecords":
			lq.MaxRecords, err = atoi(v)
		case "offset":
			lq.Offset = v
		case "view":
			lq.View = v
		case "fields[]", "fields":
			lq.Fields = vals
		case "filterByFormula":
			lq.Formula = v
		case "cellFormat":
			lq.CellFormat = v
		case "timeZone":
			lq.TimeZone = v
		case "userLocale":
			lq.UserLocale = v
		case "returnFieldsByFieldId":
			lq.ByFieldID, err = parseBool(v)
		case "recordMetadata[]":
			lq.RecordMetadata = vals
		default:
			m := sortParam.FindStringSubmatch(key)
			if m == nil {
				return lq, invalidRequest()
			}
			i, _ := strconv.Atoi(m[1])
			if sorts[i] == nil {
				sorts[i] = &sortSpec{}
			}
			if m[2] == "field" {
				sorts[i].Field = v
			} else {
				sorts[i].Direction = v
			}
		}
		if err != nil {
			return lq, err
		}
	}
	for _, i := range slices.Sorted(maps.Keys(sorts)) {
		lq.Sort = append(lq.Sort, *sorts[i])
	}
	return lq, nil
}

// parseListBody reads the JSON body of POST …/listRecords, which Airtable
// offers for formulas too long for a URL.
func parseListBody(body []byte) (listQuery, *apiError) {
	var lq listQuery
	if len(bytes.TrimSpace(body)) == 0 {
		return lq, nil
	}
	if !decodeStrict(body, &lq, listKeys, map[string][]string{"sort": {"field", "direction"}}) {
		return lq, invalidRequest()
	}
	return lq, nil
}

func atoi(s string) (*int, *apiError) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return nil, invalidRequest()
	}
	return &n, nil
}

func parseBool(s string) (bool, *apiError) {
	switch s {
	case "true", "1":
		return true, nil
	case "false", "0", "":
		return false, nil
	}
	return false, invalidRequest()
}
