package airtable

import (
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"time"
)

// errUnexpected reports a value of a type the field cannot hold.
var errUnexpected = errors.New("unexpected type")

// maxExactFloat is the largest integer a float64 holds exactly (2^53);
// floats beyond it are not turned into int64.
const maxExactFloat = 1 << 53

// plain unwraps what pgx hands out into plain Go values: pointers are
// followed, nil ones becoming nil, and driver.Valuers (pgtype.Numeric,
// pgtype.Date, …) become their Value, which is nil for NULL.
func plain(v any) (any, error) {
	for range 8 { // a bound, in case a Valuer returns itself
		if v == nil {
			return nil, nil
		}
		rv := reflect.ValueOf(v)
		if rv.Kind() == reflect.Pointer && rv.IsNil() {
			return nil, nil
		}
		switch x := v.(type) {
		case driver.Valuer:
			var err error
			if v, err = x.Value(); err != nil {
				return nil, fmt.Errorf("driver value: %w", err)
			}
		default:
			if rv.Kind() != reflect.Pointer {
				return v, nil
			}
			v = rv.Elem().Interface()
		}
	}
	return nil, errors.New("driver value does not resolve to a plain value")
}

// text converts to a string, nil staying nil.
func text(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return x, nil
	case []byte:
		return string(x), nil
	case [16]byte: // a uuid column, as pgx scans it into any
		h := hex.EncodeToString(x[:])
		return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
	case bool:
		return strconv.FormatBool(x), nil
	case time.Time:
		return formatDateTime(x), nil
	case json.Number:
		return x.String(), nil
	case fmt.Stringer:
		return x.String(), nil
	}
	if n, err := number(v); err == nil && n != nil {
		return fmt.Sprint(n), nil
	}
	return nil, errUnexpected
}

// number converts to int64 when the value is integral and fits, else to
// float64, nil staying nil. Strings are read as decimal numbers, which is
// how pgtype.Numeric presents itself.
func number(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case int:
		return int64(x), nil
	case int8:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case int64:
		return x, nil
	case uint:
		return unsigned(uint64(x)), nil
	case uint8:
		return int64(x), nil
	case uint16:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case uint64:
		return unsigned(x), nil
	case float32:
		// Through its shortest decimal form, so that float32(0.1) is 0.1
		// and not 0.10000000149011612.
		f, _ := strconv.ParseFloat(strconv.FormatFloat(float64(x), 'g', -1, 32), 64)
		return float(f)
	case float64:
		return float(x)
	case json.Number:
		return numberText(string(x))
	case string:
		return numberText(x)
	}
	return nil, errUnexpected
}

func unsigned(u uint64) any {
	if u <= math.MaxInt64 {
		return int64(u)
	}
	return float64(u)
}

func float(f float64) (any, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("%v is not a number Airtable can store", f)
	}
	if f == math.Trunc(f) && math.Abs(f) <= maxExactFloat {
		return int64(f), nil
	}
	return f, nil
}

func numberText(s string) (any, error) {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, fmt.Errorf("%q is not a number", s)
	}
	return float(f)
}

// checkbox converts to a bool; nil is false, since Airtable leaves
// unchecked boxes out of a record.
func checkbox(v any) (bool, error) {
	switch x := v.(type) {
	case nil:
		return false, nil
	case bool:
		return x, nil
	}
	return false, errUnexpected
}

// date converts to midnight UTC of a calendar day, nil staying nil. A
// time.Time keeps the day it has in its own location: pgx returns date
// columns at midnight UTC, and converting a local time to UTC first could
// move it to another day.
func date(v any) (*time.Time, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case time.Time:
		d := time.Date(x.Year(), x.Month(), x.Day(), 0, 0, 0, 0, time.UTC)
		return &d, nil
	case string:
		d, err := time.Parse(time.DateOnly, x)
		if err != nil {
			return nil, fmt.Errorf("%q is not a date like 2006-01-02", x)
		}
		return &d, nil
	}
	return nil, errUnexpected
}

// dateTime converts to a time in UTC, nil staying nil.
func dateTime(v any) (*time.Time, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case time.Time:
		t := x.UTC()
		return &t, nil
	case string:
		t, err := time.Parse(time.RFC3339Nano, x)
		if err != nil {
			return nil, fmt.Errorf("%q is not an RFC 3339 date-time", x)
		}
		t = t.UTC()
		return &t, nil
	}
	return nil, errUnexpected
}

// stringList converts a list of strings, as JSON decoding ([]any) or pgx
// (text[] into any) produce it, nil staying nil.
func stringList(v any) ([]string, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []string:
		return x, nil
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("element %d is %T, not a string", i, e)
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, errUnexpected
}
