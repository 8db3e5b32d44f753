package dataset

import (
	"bytes"
	"math"
	"strconv"
	"unsafe"

	"github.com/stockcast/stockcast/shared/decimal"
)

// parseSales validates a (trimmed) sales value and returns the text to write
// for it, or a reason it is invalid.
func parseSales(b []byte) (string, string) {
	if len(b) == 0 {
		return "", "empty sales"
	}
	if !decimal.Valid(b) {
		if nonFinite(b) {
			return "", "sales is not finite"
		}
		return "", "sales is not a number"
	}
	v, err := strconv.ParseFloat(bytesString(b), 64)
	if err != nil {
		return "", "sales out of range"
	}
	if plainDecimal(b) {
		return string(b), ""
	}
	return strconv.FormatFloat(v, 'g', -1, 64), ""
}

// parseNumber parses an optional numeric value; empty or invalid is NaN.
func parseNumber(b []byte) float64 {
	if v, ok := parseDecimal(b); ok {
		return v
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return math.NaN()
	}
	if !decimal.Valid(b) {
		return math.NaN()
	}
	v, err := strconv.ParseFloat(bytesString(b), 64)
	if err != nil {
		return math.NaN()
	}
	return v
}

// nonFinite reports whether b spells an infinity or NaN the way strconv reads them.
func nonFinite(b []byte) bool {
	v, err := strconv.ParseFloat(bytesString(b), 64)
	return err == nil && (math.IsNaN(v) || math.IsInf(v, 0))
}

// pow10 holds the powers of ten that float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// parseDecimal is the fast path of parseNumber for -?digits(.digits)? with at
// most 15 digits: the mantissa and the power of ten are exact, so one IEEE
// division gives the correctly rounded value, as strconv.ParseFloat would
// (Clinger's fast path). ok is false for anything else.
func parseDecimal(b []byte) (float64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 16 || b[0] == '.' || b[len(b)-1] == '.' {
		return 0, false
	}
	var mant uint64
	n, frac := 0, -1
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			mant = mant*10 + uint64(c-'0')
			n++
			if frac >= 0 {
				frac++
			}
		case c == '.' && frac < 0:
			frac = 0
		default:
			return 0, false
		}
	}
	if n > 15 {
		return 0, false
	}
	v := float64(mant)
	if frac > 0 {
		v /= pow10[frac]
	}
	if neg {
		v = -v
	}
	return v, true
}

// plainDecimal reports whether b is -?digits(.digits)?.
func plainDecimal(b []byte) bool {
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
	}
	intPart := 0
	for intPart < len(b) && b[intPart] >= '0' && b[intPart] <= '9' {
		intPart++
	}
	if intPart == 0 {
		return false
	}
	if intPart == len(b) {
		return true
	}
	if b[intPart] != '.' || intPart+1 == len(b) {
		return false
	}
	for _, c := range b[intPart+1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// bytesString views b as a string without copying; the string must not
// outlive b's contents.
func bytesString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
