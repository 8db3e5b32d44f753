package decimal

import (
	"errors"
	"strconv"
	"testing"
)

func TestValid(t *testing.T) {
	for _, s := range []string{"0", "7", "-3", "+7", "12.50", ".5", "3.", "1e3", "1E+3", "2.5e-2", "-.5e1", "007"} {
		if !Valid(s) || !Valid([]byte(s)) {
			t.Errorf("Valid(%q) = false", s)
		}
	}
	for _, s := range []string{"", "+", "-", ".", "e3", "1e", "1e+", "1_000", "1_0", "0x10", "0x10p0", "0b11", "inf", "Inf",
		"-Infinity", "NaN", "1,5", "1.2.3", "12 units", " 7", "7 ", "7;DROP TABLE", "1e3.5", "--1", "+-1", "1\x00", "٣"} {
		if Valid(s) {
			t.Errorf("Valid(%q) = true", s)
		}
	}
}

func TestParse(t *testing.T) {
	for s, want := range map[string]float64{"0": 0, "+7": 7, "-12.50": -12.5, ".5": 0.5, "3.": 3, "1e3": 1000, "2.5E-2": 0.025, "1e-400": 0} {
		got, err := Parse(s)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for s, want := range map[string]error{"1_000": ErrSyntax, "0x10p0": ErrSyntax, "inf": ErrSyntax, "nan": ErrSyntax, "1e999": ErrRange, "-1e999": ErrRange} {
		if _, err := Parse(s); !errors.Is(err, want) {
			t.Errorf("Parse(%q) error = %v, want %v", s, err, want)
		}
	}
}

// FuzzParse checks that whatever Parse accepts, strconv reads to the same finite value, and
// that Parse accepts only text made of digits, signs, one point and an exponent marker.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"1", "-2.5e3", "1_000", "0x10", "inf", ".5", "3.", "7;DROP TABLE"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Parse(s)
		if err != nil {
			return
		}
		want, perr := strconv.ParseFloat(s, 64)
		if perr != nil || want != v {
			t.Fatalf("Parse(%q) = %v, strconv: %v, %v", s, v, want, perr)
		}
		for _, c := range []byte(s) {
			if !isDigit(c) && c != '+' && c != '-' && c != '.' && c != 'e' && c != 'E' {
				t.Fatalf("Parse(%q) accepted byte %q", s, c)
			}
		}
	})
}
