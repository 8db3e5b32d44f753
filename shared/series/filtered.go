package series

import (
	"errors"
	"math"
	"time"
)

// FilteredPartial returns the partial sums of the rows of t that f selects, keyed by f.Key():
// what one shard gives of an ad-hoc series. The named covariates are summed as Partials sums
// them (an unknown name is unknown on every date). Added up over every shard (PartialSums), they
// give the series and covariate means one table of all the rows would (Filtered,
// FilteredCovariates). A filter that selects no row of t gives a partial without dates: another
// shard may have its rows. A NaN threshold is an error, as for Filtered.
func (t *Table) FilteredPartial(f Filter, covariates []string) (Partial, error) {
	p := Partial{Key: f.Key(), Covariates: make(map[string]CovariateSums, len(covariates))}
	match, err := t.matcher(f)
	if errors.Is(err, ErrNoMatch) {
		for _, name := range covariates {
			p.Covariates[name] = CovariateSums{}
		}
		return p, nil
	}
	if err != nil {
		return Partial{}, err
	}
	sales := newBuilder(1)
	cols := make([][]float64, len(covariates))
	means := make([]*meanBuilder, len(covariates))
	for c, name := range covariates {
		cols[c], means[c] = t.covariate(name), newMeanBuilder(1)
	}
	for i, d := range t.day {
		if !match(i) {
			continue
		}
		sales.add(0, d, t.sales[i])
		for c, col := range cols {
			v := math.NaN()
			if col != nil {
				v = col[i]
			}
			means[c].add(0, d, v)
		}
	}
	p.Dates, p.Sales, p.Rows = make([]time.Time, len(sales.days[0])), sales.values[0], sales.rows[0]
	for i, d := range sales.days[0] {
		p.Dates[i] = d.Time()
	}
	for c, name := range covariates {
		p.Covariates[name] = CovariateSums{Sums: means[c].sum[0], Counts: means[c].counts[0]}
	}
	return p, nil
}
