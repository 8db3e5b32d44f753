// Package decimal reads numbers written the one way stockcast accepts them, in CSV files and in
// API parameters alike: decimal digits, optionally with a sign, a fraction and an exponent
// (-12.5, +7, .5, 3., 1e3, 2.5E-2). Go's other spellings — digit separators (1_000), hex
// (0x10p0), inf, nan — are not numbers here.
package decimal

import (
	"errors"
	"strconv"
)

// ErrSyntax reports text that is not a decimal number.
var ErrSyntax = errors.New("not a decimal number")

// ErrRange reports a decimal number too large for a float64.
var ErrRange = errors.New("number out of range")

// Valid reports whether s is [+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?.
func Valid[T string | []byte](s T) bool {
	i, n := 0, len(s)
	if i < n && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < n && isDigit(s[i]) {
		i, digits = i+1, digits+1
	}
	if i < n && s[i] == '.' {
		i++
		for i < n && isDigit(s[i]) {
			i, digits = i+1, digits+1
		}
	}
	if digits == 0 {
		return false
	}
	if i < n && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < n && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < n && isDigit(s[i]) {
			i, exp = i+1, exp+1
		}
		if exp == 0 {
			return false
		}
	}
	return i == n
}

// Parse reads a decimal number: ErrSyntax for anything Valid refuses, ErrRange for a value
// beyond a float64's range. The result is always finite.
func Parse(s string) (float64, error) {
	if !Valid(s) {
		return 0, ErrSyntax
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		// Valid text fails only by range; an underflow to zero is not an error.
		return 0, ErrRange
	}
	return v, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
