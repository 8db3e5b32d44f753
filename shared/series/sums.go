package series

import (
	"errors"
	"fmt"
	"math"

	"github.com/stockcast/stockcast/shared/dataset"
)

// Sums are the per-date sums of the rows one filter selects in part of a dataset (one shard of
// it): each date's sales and row count, and each named covariate's sum and count of known values.
// Added up over every part (Add), they give the series one table of all the rows would (Series):
// the completeness rule and the covariate means apply to the whole. A filter's sums take the
// memory of its series, whatever the number of rows.
type Sums struct {
	key   string
	names []string
	days  []dataset.Day
	sales []float64
	rows  []int32
	// covSum[c][i] and covN[c][i] are covariate names[c]'s sum and count of known values on days[i].
	covSum [][]float64
	covN   [][]int32
}

// FilteredSums returns the sums of the rows of t that f selects, with those of the named
// covariates (an unknown name is unknown on every day). A filter that selects no row of t gives
// empty sums: another part may have its rows. A NaN threshold is an error, as for Filtered.
func (t *Table) FilteredSums(f Filter, covariates []string) (*Sums, error) {
	s := &Sums{key: f.Key(), names: covariates, covSum: make([][]float64, len(covariates)), covN: make([][]int32, len(covariates))}
	match, err := t.matcher(f)
	if err != nil {
		if errors.Is(err, ErrNoMatch) {
			return s, nil
		}
		return nil, err
	}
	cols := make([][]float64, len(covariates))
	for c, name := range covariates {
		cols[c] = t.covariate(name)
	}
	for i, d := range t.day {
		if !match(i) {
			continue
		}
		n := len(s.days)
		if n == 0 || s.days[n-1] != d {
			s.days, s.sales, s.rows = append(s.days, d), append(s.sales, 0), append(s.rows, 0)
			for c := range cols {
				s.covSum[c], s.covN[c] = append(s.covSum[c], 0), append(s.covN[c], 0)
			}
			n++
		}
		s.sales[n-1] += t.sales[i]
		s.rows[n-1]++
		for c, col := range cols {
			if col != nil && !math.IsNaN(col[i]) {
				s.covSum[c][n-1] += col[i]
				s.covN[c][n-1]++
			}
		}
	}
	return s, nil
}

// Add adds o, the sums of the same filter and covariates over other rows, to s.
func (s *Sums) Add(o *Sums) error {
	if o.key != s.key || len(o.names) != len(s.names) {
		return fmt.Errorf("add the sums of %s to those of %s", o.key, s.key)
	}
	for c := range s.names {
		if o.names[c] != s.names[c] {
			return fmt.Errorf("add sums of covariates %q to sums of %q", o.names, s.names)
		}
	}
	n := len(s.days) + len(o.days)
	out := &Sums{key: s.key, names: s.names, days: make([]dataset.Day, 0, n), sales: make([]float64, 0, n), rows: make([]int32, 0, n),
		covSum: make([][]float64, len(s.names)), covN: make([][]int32, len(s.names))}
	i, j := 0, 0
	take := func(from *Sums, k int, merge bool) {
		last := len(out.days) - 1
		if merge {
			out.sales[last] += from.sales[k]
			out.rows[last] += from.rows[k]
			for c := range out.names {
				out.covSum[c][last] += from.covSum[c][k]
				out.covN[c][last] += from.covN[c][k]
			}
			return
		}
		out.days, out.sales, out.rows = append(out.days, from.days[k]), append(out.sales, from.sales[k]), append(out.rows, from.rows[k])
		for c := range out.names {
			out.covSum[c], out.covN[c] = append(out.covSum[c], from.covSum[c][k]), append(out.covN[c], from.covN[c][k])
		}
	}
	for i < len(s.days) || j < len(o.days) {
		switch {
		case j == len(o.days) || (i < len(s.days) && s.days[i] < o.days[j]):
			take(s, i, false)
			i++
		case i == len(s.days) || o.days[j] < s.days[i]:
			take(o, j, false)
			j++
		default:
			take(s, i, false)
			take(o, j, true)
			i++
			j++
		}
	}
	*s = *out
	return nil
}

// Series returns the series of the sums, as Table.Filtered gives it, and the daily means of their
// covariates, aligned with the dates with rows, the incomplete dates after the series' (nil without covariates). Sums of no row give
// an error wrapping ErrNoMatch.
func (s *Sums) Series() (Series, map[string][]float64, error) {
	if len(s.days) == 0 {
		return Series{}, nil, fmt.Errorf("series %s: %w", s.key, ErrNoMatch)
	}
	b := &builder{days: [][]dataset.Day{s.days}, values: [][]float64{s.sales}, rows: [][]int32{s.rows}}
	out := b.series(0, s.key)
	if len(s.names) == 0 {
		return out, nil, nil
	}
	cov := make(map[string][]float64, len(s.names))
	for c, name := range s.names {
		means := make([]float64, len(s.days))
		for i, n := range s.covN[c] {
			means[i] = math.NaN()
			if n > 0 {
				means[i] = s.covSum[c][i] / float64(n)
			}
		}
		cov[name] = means
	}
	return out, cov, nil
}
