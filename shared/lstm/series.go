package lstm

import (
	"fmt"
	"math"
	"time"
)

// Series is one daily series: Values[i] is the value on Start plus i days,
// NaN on a day that was not observed (a date with no row is not a zero).
// Start is a calendar day, 00:00 UTC. Covariates, when the model has any,
// holds one slice per Config.Covariates name, each as long as Values (NaN
// or a missing slice: unknown, read as 0).
type Series struct {
	ID         string
	Start      time.Time
	Values     []float64
	Covariates [][]float64
}

// End is the day of the last value (the day before Start for an empty series).
func (s Series) End() time.Time { return s.Start.AddDate(0, 0, len(s.Values)-1) }

// Day is t's calendar day in UTC, at 00:00 UTC.
func Day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// days is the number of calendar days from a to b.
func days(a, b time.Time) int { return int(math.Round(b.Sub(a).Hours() / 24)) }

// Daily builds a series from dated values: each date counts as its UTC
// calendar day, values on the same day add up, and the days between the
// first and the last without a value are not observed (NaN).
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
	for i := range s.Values {
		s.Values[i] = math.NaN()
	}
	for i, d := range dates {
		k := days(first, Day(d))
		if math.IsNaN(s.Values[k]) {
			s.Values[k] = 0
		}
		s.Values[k] += values[i]
	}
	return s, nil
}

// DailyCovariate lays dated covariate values on s's calendar, NaN on the
// days without one; a date outside s's span is ignored and values on the
// same day are averaged.
func (s Series) DailyCovariate(dates []time.Time, values []float64) []float64 {
	out := make([]float64, len(s.Values))
	n := make([]int, len(s.Values))
	for i, d := range dates {
		k := days(s.Start, Day(d))
		if k < 0 || k >= len(out) || !isFinite(values[i]) {
			continue
		}
		out[k] += values[i]
		n[k]++
	}
	for k := range out {
		if n[k] == 0 {
			out[k] = math.NaN()
		} else {
			out[k] /= float64(n[k])
		}
	}
	return out
}

// observed is the number of observed values.
func observed(values []float64) int {
	n := 0
	for _, v := range values {
		if !math.IsNaN(v) {
			n++
		}
	}
	return n
}

// checkSeries rejects series a model cannot train on or forecast from.
func checkSeries(all []Series, covariates int) error {
	seen := make(map[string]bool, len(all))
	for i, s := range all {
		switch {
		case s.ID == "":
			return fmt.Errorf("series %d: empty id", i)
		case seen[s.ID]:
			return fmt.Errorf("series %q: given twice", s.ID)
		case !s.Start.Equal(Day(s.Start)):
			return fmt.Errorf("series %q: start %s is not 00:00 UTC", s.ID, s.Start)
		case len(s.Covariates) > covariates:
			return fmt.Errorf("series %q: %d covariates, the model reads %d", s.ID, len(s.Covariates), covariates)
		}
		seen[s.ID] = true
		if err := checkValues(s.Values); err != nil {
			return fmt.Errorf("series %q: %w", s.ID, err)
		}
		for c, cv := range s.Covariates {
			if cv != nil && len(cv) != len(s.Values) {
				return fmt.Errorf("series %q: covariate %d has %d values for %d days", s.ID, c, len(cv), len(s.Values))
			}
		}
	}
	return nil
}

// checkValues rejects infinite values; NaN marks a day not observed.
func checkValues(values []float64) error {
	for i, v := range values {
		if math.IsInf(v, 0) {
			return fmt.Errorf("value %d is %v", i, v)
		}
	}
	return nil
}

// checkFinite rejects NaN and infinite values.
func checkFinite[F float](values []F) error {
	for i, v := range values {
		if !isFinite(float64(v)) {
			return fmt.Errorf("value %d is %v", i, v)
		}
	}
	return nil
}

// From is s without its days before day, covariates too (sharing their values): the whole
// series when it starts on or after day, an empty one when it ends before.
func (s Series) From(day time.Time) Series {
	k := min(max(days(s.Start, Day(day)), 0), len(s.Values))
	c := s
	c.Start = s.Start.AddDate(0, 0, k)
	c.Values = s.Values[k:len(s.Values):len(s.Values)]
	c.Covariates = nil
	for _, cv := range s.Covariates {
		c.Covariates = append(c.Covariates, cv[min(k, len(cv)):len(cv):len(cv)])
	}
	return c
}

// Through is every series cut after day, covariates too (sharing their
// values); a series starting after day is left out.
func Through(all []Series, day time.Time) []Series {
	var out []Series
	for _, s := range all {
		n := days(s.Start, Day(day)) + 1
		if n <= 0 {
			continue
		}
		n = min(n, len(s.Values))
		c := s
		c.Values = s.Values[:n:n]
		c.Covariates = nil
		for _, cv := range s.Covariates {
			c.Covariates = append(c.Covariates, cv[:min(n, len(cv)):min(n, len(cv))])
		}
		out = append(out, c)
	}
	return out
}
