package dataset

import (
	"bytes"
	"math"
	"strconv"
	"unsafe"
)

// parseSales validates a (trimmed) sales value and returns the text to write
// for it, or a reason it is invalid.
func parseSales(b []byte) (string, string) {
	if len(b) == 0 {
		return "", "empty sales"
	}
	v, err := strconv.ParseFloat(bytesString(b), 64)
	switch {
	case err != nil && math.IsInf(v, 0):
		return "", "sales out of range"
	case err != nil:
		return "", "sales is not a number"
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "", "sales is not finite"
	}
	if plainDecimal(b) {
		return string(b), ""
	}
	return strconv.FormatFloat(v, 'g', -1, 64), ""
}

// parseNumber parses an optional numeric value; empty or invalid is NaN.
func parseNumber(b []byte) float64 {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return math.NaN()
	}
	v, err := strconv.ParseFloat(bytesString(b), 64)
	if err != nil || math.IsInf(v, 0) {
		return math.NaN()
	}
	return v
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
