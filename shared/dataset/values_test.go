package dataset

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		in, want, reason string
	}{
		{"2024-02-29", "2024-02-29", ""},
		{"1970-01-01", "1970-01-01", ""},
		{"0001-01-01", "0001-01-01", ""},
		{"9999-12-31", "9999-12-31", ""},
		{"2024-03-01T00:00", "2024-03-01", ""},
		{"2024-03-01T23:59:59", "2024-03-01", ""},
		{"2024-03-01 23:59:59.123456789", "2024-03-01", ""},
		{"2024-03-01T12:00:00Z", "2024-03-01", ""},
		{"2024-03-01T12:00:00z", "2024-03-01", ""},
		{"2024-03-01T23:30:00-08:00", "2024-03-01", ""}, // cut, not converted
		{"2024-03-01T23:30:00+0530", "2024-03-01", ""},
		{"2024-03-01T23:30+05", "2024-03-01", ""},
		{"2024-03-01T23:59:60Z", "2024-03-01", ""},
		{"2024-03-01T12:00:00,5", "2024-03-01", ""},
		{"", "", "empty date"},
		{"2023-02-29", "", "no such calendar date"},
		{"1900-02-29", "", "no such calendar date"},
		{"2024-00-10", "", "no such calendar date"},
		{"2024-04-31", "", "no such calendar date"},
		{"2024-1-01", "", "not an ISO date (YYYY-MM-DD)"},
		{"24-01-01", "", "not an ISO date (YYYY-MM-DD)"},
		{"2024/01/01", "", "not an ISO date (YYYY-MM-DD)"},
		{"01/02/2024", "", "not an ISO date (YYYY-MM-DD)"},
		{"2024-0a-01", "", "not an ISO date (YYYY-MM-DD)"},
		{"2024-01-01x", "", "not an ISO date or date-time"},
		{"2024-01-01T", "", "not an ISO date or date-time"},
		{"2024-01-01T1200", "", "not an ISO date or date-time"},
		{"2024-01-01T24:00", "", "not an ISO date or date-time"},
		{"2024-01-01T12:60", "", "not an ISO date or date-time"},
		{"2024-01-01T12:00:61", "", "not an ISO date or date-time"},
		{"2024-01-01T12:00:00.", "", "not an ISO date or date-time"},
		{"2024-01-01T12:00:00+1", "", "not an ISO date or date-time"},
		{"2024-01-01T12:00:00+24:00", "", "not an ISO date or date-time"},
		{"2024-01-01T12:00:00+05:60", "", "not an ISO date or date-time"},
		{"2024-01-01T12:00:00+05:3", "", "not an ISO date or date-time"},
		{"2024-01-01T12:00:00ZZ", "", "not an ISO date or date-time"},
		{"2024-01-01T12:00:00 UTC", "", "not an ISO date or date-time"},
	}
	for _, tt := range tests {
		d, reason := parseDate([]byte(tt.in))
		if reason != tt.reason {
			t.Errorf("parseDate(%q) reason = %q, want %q", tt.in, reason, tt.reason)
			continue
		}
		if reason == "" && d.String() != tt.want {
			t.Errorf("parseDate(%q) = %s, want %s", tt.in, d, tt.want)
		}
	}
}

func TestDayAgreesWithTime(t *testing.T) {
	for _, start := range []time.Time{
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1899, 12, 25, 0, 0, 0, 0, time.UTC),
		time.Date(1969, 12, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2096, 2, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9997, 9, 1, 0, 0, 0, 0, time.UTC),
	} {
		for i := range 800 {
			tm := start.AddDate(0, 0, i)
			d := DayOf(tm.Add(13 * time.Hour))
			if want := Day(tm.Unix() / 86400); d != want {
				t.Fatalf("DayOf(%v) = %d, want %d", tm, d, want)
			}
			if !d.Time().Equal(tm) || d.String() != tm.Format(time.DateOnly) {
				t.Fatalf("Day(%d) = %v / %s, want %v", d, d.Time(), d, tm)
			}
			parsed, err := ParseDay(tm.Format(time.RFC3339))
			if err != nil || parsed != d {
				t.Fatalf("ParseDay(%s) = %d, %v; want %d", tm.Format(time.RFC3339), parsed, err, d)
			}
		}
	}
	if _, err := ParseDay("2024-13-01"); err == nil {
		t.Error("ParseDay accepted month 13")
	}
	if got := DayOf(time.Date(2024, 3, 1, 23, 30, 0, 0, time.FixedZone("", -8*3600))); got.String() != "2024-03-02" {
		t.Errorf("DayOf uses the UTC date: got %s", got)
	}
}

func TestParseSales(t *testing.T) {
	tests := []struct{ in, want, reason string }{
		{"12", "12", ""},
		{"-3", "-3", ""},
		{"0", "0", ""},
		{"85.50", "85.50", ""},
		{"007", "007", ""},
		{"+5", "5", ""},
		{"1e3", "1000", ""},
		{"1.5E-3", "0.0015", ""},
		{".5", "0.5", ""},
		{"5.", "5", ""},
		{"0x1p4", "", "sales is not a number"},
		{"1_000", "", "sales is not a number"},
		{"0x10", "", "sales is not a number"},
		{"0b11", "", "sales is not a number"},
		{"7;DROP TABLE", "", "sales is not a number"},
		{"1e21", "1e+21", ""},
		{"", "", "empty sales"},
		{"abc", "", "sales is not a number"},
		{"1,5", "", "sales is not a number"},
		{"12 units", "", "sales is not a number"},
		{"NaN", "", "sales is not finite"},
		{"-Inf", "", "sales is not finite"},
		{"infinity", "", "sales is not finite"},
		{"1e999", "", "sales out of range"},
	}
	for _, tt := range tests {
		got, reason := parseSales([]byte(tt.in))
		if got != tt.want || reason != tt.reason {
			t.Errorf("parseSales(%q) = %q, %q; want %q, %q", tt.in, got, reason, tt.want, tt.reason)
		}
	}
}

func TestParseNumber(t *testing.T) {
	for in, want := range map[string]float64{"4.5": 4.5, " 10 ": 10, "-1": -1, "1e2": 100} {
		if got := parseNumber([]byte(in)); got != want {
			t.Errorf("parseNumber(%q) = %v, want %v", in, got, want)
		}
	}
	for _, in := range []string{"", "  ", "n/a", "Inf", "1e400", "1_000", "0x1p4"} {
		if got := parseNumber([]byte(in)); !math.IsNaN(got) {
			t.Errorf("parseNumber(%q) = %v, want NaN", in, got)
		}
	}
}

func TestParseDecimalMatchesStrconv(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 200_000 {
		s := strconv.FormatFloat(r.NormFloat64()*math.Pow(10, float64(r.IntN(12)-4)), 'f', r.IntN(10), 64)
		if len(s) > 17 {
			continue
		}
		want, _ := strconv.ParseFloat(s, 64)
		got, ok := parseDecimal([]byte(s))
		if ok && math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("parseDecimal(%q) = %v, strconv %v", s, got, want)
		}
		if got := parseNumber([]byte(s)); math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("parseNumber(%q) = %v, strconv %v", s, got, want)
		}
	}
	for _, s := range []string{"", "-", ".5", "5.", "1.2.3", "1e5", "+1", " 1", "1234567890123456", "12a"} {
		if _, ok := parseDecimal([]byte(s)); ok {
			t.Errorf("parseDecimal(%q) took the fast path", s)
		}
	}
}
