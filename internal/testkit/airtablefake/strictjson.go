package airtablefake

import (
	"bytes"
	"encoding/json"
	"slices"
)

// decodeStrict decodes a JSON object body into v, refusing what Airtable
// refuses and encoding/json would let through: unknown keys and keys in
// the wrong case ("typeCast" for "typecast"), checked at the top level and
// in the objects the keys name in nested. A client that misspells an option
// would otherwise pass against the fake and be refused by Airtable.
func decodeStrict(body []byte, v any, top []string, nested map[string][]string) bool {
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) != nil || obj == nil || !keysIn(obj, top) {
		return false
	}
	for key, allowed := range nested {
		raw, ok := obj[key]
		if !ok {
			continue
		}
		var one map[string]json.RawMessage
		if json.Unmarshal(raw, &one) == nil {
			if !keysIn(one, allowed) {
				return false
			}
			continue
		}
		var list []map[string]json.RawMessage
		if json.Unmarshal(raw, &list) == nil {
			for _, item := range list {
				if !keysIn(item, allowed) {
					return false
				}
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	return dec.Decode(v) == nil && !dec.More()
}

func keysIn(obj map[string]json.RawMessage, allowed []string) bool {
	for k := range obj {
		if !slices.Contains(allowed, k) {
			return false
		}
	}
	return true
}
