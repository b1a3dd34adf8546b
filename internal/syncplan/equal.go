package syncplan

import (
	"encoding/json"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// DefaultEqual reports whether a and b would encode to the same JSON value,
// up to number notation: values reach the sync decoded by different drivers
// (Airtable's JSON gives float64, pgx gives int64 or a numeric, Temporal
// payloads give json.Number), so 1, 1.0, int32(1) and json.Number("1e0")
// are equal. Nil, nil slices, nil maps and nil pointers are all empty;
// times are equal when they are the same instant; slices and string-keyed
// maps compare element-wise. Anything else falls back to reflect.DeepEqual.
func DefaultEqual(a, b any) bool {
	return reflect.DeepEqual(normalize(a), normalize(b))
}

// isEmpty reports whether v is nil in JSON terms.
func isEmpty(v any) bool { return normalize(v) == nil }

// number is a number in canonical exact form: big.Rat's RatString, or the
// float's text for NaN and infinities. A distinct type keeps it from ever
// equalling a string.
type number string

// instant is a time in canonical form, UTC with nanoseconds.
type instant string

// normalize rewrites v into a canonical form that reflect.DeepEqual can
// compare.
func normalize(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case json.Number:
		return decimalNumber(string(x))
	case time.Time:
		return instant(x.UTC().Format(time.RFC3339Nano))
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return number(strconv.FormatInt(rv.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return number(strconv.FormatUint(rv.Uint(), 10))
	case reflect.Float32:
		return floatNumber(rv.Float(), 32)
	case reflect.Float64:
		return floatNumber(rv.Float(), 64)
	case reflect.String:
		return rv.String()
	case reflect.Bool:
		return rv.Bool()
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil
		}
		return normalize(rv.Elem().Interface())
	case reflect.Slice:
		if rv.IsNil() {
			return nil
		}
		return normalizeList(rv)
	case reflect.Array:
		return normalizeList(rv)
	case reflect.Map:
		if rv.IsNil() {
			return nil
		}
		if rv.Type().Key().Kind() != reflect.String {
			return v
		}
		out := make(map[string]any, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			out[it.Key().String()] = normalize(it.Value().Interface())
		}
		return out
	}
	return v
}

// normalizeList normalises the elements of a slice or array.
func normalizeList(rv reflect.Value) []any {
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = normalize(rv.Index(i).Interface())
	}
	return out
}

// floatNumber canonicalises a float through its shortest decimal text, so
// that 0.1 equals json.Number("0.1") rather than the binary fraction the
// float actually holds.
func floatNumber(f float64, bits int) any {
	s := strconv.FormatFloat(f, 'g', -1, bits)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return number(s)
	}
	return decimalNumber(s)
}

// maxExponent bounds the decimal exponents decimalNumber expands exactly:
// big.Rat would otherwise build 10^exp in memory, and a value beyond any
// float64 or Postgres numeric is compared by its text instead.
const maxExponent = 400

// decimalNumber canonicalises a decimal literal; text that is not a JSON
// number, or whose exponent is out of range, is compared as written.
func decimalNumber(s string) any {
	// big.Rat also reads fractions, hex and binary exponents, which a JSON
	// number cannot hold and which could smuggle in a huge exponent.
	if s == "" || !(s[0] == '-' || s[0] >= '0' && s[0] <= '9') || !json.Valid([]byte(s)) {
		return json.Number(s)
	}
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		exp, err := strconv.Atoi(s[i+1:])
		if err != nil || exp > maxExponent || exp < -maxExponent {
			return json.Number(s)
		}
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return json.Number(s)
	}
	return number(r.RatString())
}
