package lstm

import (
	"fmt"
	"math"
	"time"
)

// Series is one daily series: Values[i] is the value on Start plus i days.
// Start is a calendar day, 00:00 UTC.
type Series struct {
	ID     string
	Start  time.Time
	Values []float64
}

// End is the day of the last value (the day before Start for an empty series).
func (s Series) End() time.Time { return s.Start.AddDate(0, 0, len(s.Values)-1) }

// Day is t's calendar day in UTC, at 00:00 UTC.
func Day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// days is the number of calendar days from a to b.
func days(a, b time.Time) int { return int(b.Sub(a).Hours()/24 + 0.5) }

// Daily builds a series from dated values: each date counts as its UTC
// calendar day, values on the same day add up, and the days between the
// first and the last without a value are zero.
func Daily(id string, dates []time.Time, values []float64) (Series, error) {
	if len(dates) != len(values) {
		return Series{}, fmt.Errorf("series %q: %d dates for %d values", id, len(dates), len(values))
	}
	if len(dates) == 0 {
		return Series{ID: id}, nil
	}
	first, last := Day(dates[0]), Day(dates[0])
	for _, d := range dates[1:] {
		d = Day(d)
		if d.Before(first) {
			first = d
		}
		if d.After(last) {
			last = d
		}
	}
	if n := days(first, last) + 1; n > 1<<22 {
		return Series{}, fmt.Errorf("series %q: %s to %s is too long a span", id, first.Format(time.DateOnly), last.Format(time.DateOnly))
	}
	s := Series{ID: id, Start: first, Values: make([]float64, days(first, last)+1)}
	for i, d := range dates {
		s.Values[days(first, Day(d))] += values[i]
	}
	return s, nil
}

// Scaler is a series' min-max scaling: Min maps to 0 and Max to 1.
type Scaler struct {
	Min float64 `json:"min"`
	Max float64 `json:"max"`
}

// span is the width of the range; a constant series scales by 1.
func (s Scaler) span() float64 {
	if s.Max > s.Min {
		return s.Max - s.Min
	}
	return 1
}

// Scale maps a raw value into the scaled space.
func (s Scaler) Scale(v float64) float64 { return (v - s.Min) / s.span() }

// Unscale maps a scaled value back to raw units.
func (s Scaler) Unscale(v float64) float64 { return v*s.span() + s.Min }

// fitScaler is the range of values (which are not empty).
func fitScaler(values []float64) Scaler {
	sc := Scaler{Min: values[0], Max: values[0]}
	return sc.cover(values)
}

// cover widens s to include every value.
func (s Scaler) cover(values []float64) Scaler {
	for _, v := range values {
		s.Min, s.Max = min(s.Min, v), max(s.Max, v)
	}
	return s
}

// checkSeries rejects series a model cannot train on or forecast from.
func checkSeries(all []Series) error {
	seen := make(map[string]bool, len(all))
	for i, s := range all {
		switch {
		case s.ID == "":
			return fmt.Errorf("series %d: empty id", i)
		case seen[s.ID]:
			return fmt.Errorf("series %q: given twice", s.ID)
		case !s.Start.Equal(Day(s.Start)):
			return fmt.Errorf("series %q: start %s is not 00:00 UTC", s.ID, s.Start)
		}
		seen[s.ID] = true
		if err := checkFinite(s.Values); err != nil {
			return fmt.Errorf("series %q: %w", s.ID, err)
		}
	}
	return nil
}

// checkFinite rejects NaN and infinite values.
func checkFinite[F float](values []F) error {
	for i, v := range values {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("value %d is %v", i, v)
		}
	}
	return nil
}
