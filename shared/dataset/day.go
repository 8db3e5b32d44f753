package dataset

import (
	"fmt"
	"time"
)

// Day is a calendar day, counted in days from 1970-01-01 (day 0).
type Day int32

// DayOf returns the day of t's UTC calendar date.
func DayOf(t time.Time) Day {
	y, m, d := t.UTC().Date()
	return civilDay(y, int(m), d)
}

// Time returns the day at 00:00 UTC.
func (d Day) Time() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// String formats the day as YYYY-MM-DD.
func (d Day) String() string { return d.Time().Format(time.DateOnly) }

// ParseDay parses a date as the contract accepts it: YYYY-MM-DD or an ISO
// date-time, which is cut to its date.
func ParseDay(s string) (Day, error) {
	day, reason := parseDate([]byte(s))
	if reason != "" {
		return 0, fmt.Errorf("parse date %q: %s", s, reason)
	}
	return day, nil
}

// civilDay converts a proleptic Gregorian date to a Day (Howard Hinnant's
// days_from_civil).
func civilDay(y, m, d int) Day {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return Day(era*146097 + doe - 719468)
}

// daysIn returns the number of days in month m of year y.
func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// parseDate validates an ISO date or date-time (already trimmed) and returns
// its day, or a reason it is not one.
func parseDate(b []byte) (Day, string) {
	if len(b) == 0 {
		return 0, "empty date"
	}
	if len(b) < 10 || b[4] != '-' || b[7] != '-' {
		return 0, "not an ISO date (YYYY-MM-DD)"
	}
	y, ok1 := digits(b[0:4])
	m, ok2 := digits(b[5:7])
	d, ok3 := digits(b[8:10])
	if !ok1 || !ok2 || !ok3 {
		return 0, "not an ISO date (YYYY-MM-DD)"
	}
	if m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, "no such calendar date"
	}
	if len(b) > 10 {
		if (b[10] != 'T' && b[10] != ' ') || !validClock(b[11:]) {
			return 0, "not an ISO date or date-time"
		}
	}
	return civilDay(y, m, d), ""
}

// isCanonicalDate reports whether b is exactly a valid YYYY-MM-DD date.
func isCanonicalDate(b []byte) bool {
	if len(b) != 10 {
		return false
	}
	_, reason := parseDate(b)
	return reason == ""
}

// validClock validates the time part of an ISO date-time:
// HH:MM[:SS[.fraction]] followed by an optional zone Z, ±HH, ±HHMM or ±HH:MM.
func validClock(b []byte) bool {
	if len(b) < 5 || b[2] != ':' {
		return false
	}
	h, ok1 := digits(b[0:2])
	mi, ok2 := digits(b[3:5])
	if !ok1 || !ok2 || h > 23 || mi > 59 {
		return false
	}
	b = b[5:]
	if len(b) >= 3 && b[0] == ':' {
		s, ok := digits(b[1:3])
		if !ok || s > 60 {
			return false
		}
		b = b[3:]
		if len(b) >= 1 && (b[0] == '.' || b[0] == ',') {
			n := 1
			for n < len(b) && b[n] >= '0' && b[n] <= '9' {
				n++
			}
			if n == 1 {
				return false
			}
			b = b[n:]
		}
	}
	switch {
	case len(b) == 0:
		return true
	case len(b) == 1 && (b[0] == 'Z' || b[0] == 'z'):
		return true
	case b[0] != '+' && b[0] != '-':
		return false
	}
	b = b[1:]
	zh, ok := digits(b[:min(2, len(b))])
	if !ok || len(b) < 2 || zh > 23 {
		return false
	}
	switch rest := b[2:]; {
	case len(rest) == 0:
		return true
	case len(rest) == 2:
		zm, ok := digits(rest)
		return ok && zm <= 59
	case len(rest) == 3 && rest[0] == ':':
		zm, ok := digits(rest[1:])
		return ok && zm <= 59
	}
	return false
}

// digits parses a run of ASCII digits.
func digits(b []byte) (int, bool) {
	if len(b) == 0 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
