package stats

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// Frequency is the step of a regular series.
type Frequency string

// The frequencies FromDates detects.
const (
	Daily   Frequency = "daily"
	Weekly  Frequency = "weekly"
	Monthly Frequency = "monthly"
)

// Period is the seasonal period of the frequency: 7 for daily data (the
// week), 52 for weekly data (the year), 12 for monthly data.
func (f Frequency) Period() int {
	switch f {
	case Weekly:
		return 52
	case Monthly:
		return 12
	}
	return 7
}

// Step returns the date k steps after t.
func (f Frequency) Step(t time.Time, k int) time.Time {
	switch f {
	case Weekly:
		return t.AddDate(0, 0, 7*k)
	case Monthly:
		return t.AddDate(0, k, 0)
	}
	return t.AddDate(0, 0, k)
}

// Steps returns the number of steps from a to b (b on or after a, both on
// the frequency's grid).
func (f Frequency) Steps(a, b time.Time) int {
	switch f {
	case Monthly:
		return (b.Year()-a.Year())*12 + int(b.Month()) - int(a.Month())
	case Weekly:
		return days(a, b) / 7
	}
	return days(a, b)
}

func days(a, b time.Time) int { return int(math.Round(b.Sub(a).Hours() / 24)) }

// History is a regular series: Values[i] is the value at Freq.Step(Start,
// i), NaN where it is not observed.
type History struct {
	Key    string
	Start  time.Time
	Freq   Frequency
	Values []float64
}

// Len is the number of steps.
func (h History) Len() int { return len(h.Values) }

// Date is the date of step i.
func (h History) Date(i int) time.Time { return h.Freq.Step(h.Start, i) }

// Period is the seasonal period of the history's frequency.
func (h History) Period() int { return h.Freq.Period() }

// Head is the history of the first n steps (sharing Values).
func (h History) Head(n int) History {
	h.Values = h.Values[:n:n]
	return h
}

// Observed counts the observed steps.
func (h History) Observed() int {
	n := 0
	for _, v := range h.Values {
		if !math.IsNaN(v) {
			n++
		}
	}
	return n
}

// ErrNoHistory is returned for a history without any observed step.
var ErrNoHistory = errors.New("no observed values")

// FromDates builds the regular history of dated values (dates ascending,
// 00:00 UTC, at most one value per date). The frequency is weekly when
// every gap between dates is a whole number of weeks, monthly when every
// date is the first of a month and gaps are whole months, else daily.
// Dates between the first and the last without a value are NaN.
func FromDates(key string, dates []time.Time, values []float64) (History, error) {
	return FromDatesAt(key, dates, values, Detect(dates))
}

// FromDatesAt is FromDates at a given frequency (for example the whole
// dataset's, so that a sparse daily series is not read as weekly). Dates off
// the frequency's grid from the first date are an error.
func FromDatesAt(key string, dates []time.Time, values []float64, freq Frequency) (History, error) {
	if len(dates) != len(values) {
		return History{}, fmt.Errorf("series %s: %d dates for %d values", key, len(dates), len(values))
	}
	if len(dates) == 0 {
		return History{}, fmt.Errorf("series %s: %w", key, ErrNoHistory)
	}
	h := History{Key: key, Start: dates[0], Freq: freq}
	n := freq.Steps(dates[0], dates[len(dates)-1]) + 1
	h.Values = make([]float64, n)
	for i := range h.Values {
		h.Values[i] = math.NaN()
	}
	for i, d := range dates {
		k := freq.Steps(dates[0], d)
		if k < 0 || k >= n || (i > 0 && !d.After(dates[i-1])) {
			return History{}, fmt.Errorf("series %s: dates are not strictly increasing at %s", key, d.Format(time.DateOnly))
		}
		if !freq.Step(dates[0], k).Equal(d) {
			return History{}, fmt.Errorf("series %s: %s is not on the %s grid from %s", key, d.Format(time.DateOnly), freq, dates[0].Format(time.DateOnly))
		}
		h.Values[k] = values[i]
	}
	return h, nil
}

// Detect chooses the frequency of ascending dates: weekly when every gap
// is a whole number of weeks, monthly when every date is the first of a
// month, else daily (also for fewer than 3 dates).
func Detect(dates []time.Time) Frequency {
	if len(dates) < 3 {
		return Daily
	}
	weekly, monthly := true, true
	for i, d := range dates {
		if d.Day() != 1 {
			monthly = false
		}
		if i > 0 && days(dates[i-1], d)%7 != 0 {
			weekly = false
		}
	}
	switch {
	case monthly:
		return Monthly
	case weekly:
		return Weekly
	}
	return Daily
}

// Interpolate returns a copy of values with every NaN step between two
// observed steps filled linearly, leading and trailing NaNs filled with the
// nearest observed value, and the number of steps filled.
func Interpolate(values []float64) ([]float64, int) {
	out := slices.Clone(values)
	filled := 0
	prev := -1
	for i, v := range out {
		if math.IsNaN(v) {
			continue
		}
		switch {
		case prev < 0:
			for j := 0; j < i; j++ {
				out[j] = v
			}
			filled += i
		case i-prev > 1:
			a := out[prev]
			for j := prev + 1; j < i; j++ {
				out[j] = a + (v-a)*float64(j-prev)/float64(i-prev)
			}
			filled += i - prev - 1
		}
		prev = i
	}
	if prev >= 0 {
		for j := prev + 1; j < len(out); j++ {
			out[j] = out[prev]
			filled++
		}
	}
	return out, filled
}
