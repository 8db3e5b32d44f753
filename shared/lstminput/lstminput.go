// Package lstminput turns the dataset's series into what the global LSTM
// reads: daily series whose dates without a row are not observed (NaN), and
// the known covariates of each series (promotion and holiday flags, price,
// …) laid out on the same days and put on a scale of about one.
package lstminput

import (
	"fmt"
	"math"

	"github.com/stockcast/stockcast/shared/lstm"
	"github.com/stockcast/stockcast/shared/series"
)

// Standard returns the series the LSTM trains on: every standard series of
// the table (the total, each product, category and region) with the named
// covariates (a model's Config.Covariates; none for nil).
func Standard(table *series.Table, covariates []string) ([]lstm.Series, error) {
	return standard(table, covariates, false)
}

// Products returns the product series of the table as Standard does, without
// the total, category and region series: those of one shard of a dataset add
// up its own products only, not the dataset's groups.
func Products(table *series.Table, covariates []string) ([]lstm.Series, error) {
	return standard(table, covariates, true)
}

// standard converts the table's standard series (its products only when
// products is set) with the named covariates.
func standard(table *series.Table, covariates []string, products bool) ([]lstm.Series, error) {
	all := table.Standard()
	var covs []map[string][]float64
	if len(covariates) > 0 {
		covs = table.StandardCovariates(covariates)
	}
	lo, hi := 0, len(all)
	if products && len(all) > 0 {
		lo, hi = 1, 1+len(table.Products()) // Standard's order: the total, then the products
	}
	out := make([]lstm.Series, 0, hi-lo)
	for i := lo; i < hi; i++ {
		var c map[string][]float64
		if covs != nil {
			c = covs[i]
		}
		d, err := FromSeries(all[i], c, covariates)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// FromSeries is one series as the LSTM reads it, with its covariates cov
// (aligned with s.Dates from the first, as series.Table's StandardCovariates
// and FilteredCovariates give them; values past the series' dates are not
// read) in the order of names; a name missing from
// cov is unknown on every day. A covariate whose values are all 0 or 1 is a
// flag and kept as it is; any other is divided by its mean absolute value
// over the series (a price becomes the price relative to its usual level).
func FromSeries(s series.Series, cov map[string][]float64, names []string) (lstm.Series, error) {
	d, err := lstm.Daily(s.Key, s.Dates, s.Values)
	if err != nil {
		return lstm.Series{}, err
	}
	for _, name := range names {
		values, ok := cov[name]
		if !ok {
			values = make([]float64, len(s.Dates))
			for i := range values {
				values[i] = math.NaN()
			}
		}
		if len(values) < len(s.Dates) {
			return lstm.Series{}, fmt.Errorf("series %s: covariate %s has %d values for %d dates", s.Key, name, len(values), len(s.Dates))
		}
		d.Covariates = append(d.Covariates, normalise(d.DailyCovariate(s.Dates, values[:len(s.Dates)])))
	}
	return d, nil
}

// normalise keeps a flag (every known value 0 or 1) and divides any other
// covariate by its mean absolute known value.
func normalise(values []float64) []float64 {
	var sum float64
	n, flag := 0, true
	for _, v := range values {
		if math.IsNaN(v) {
			continue
		}
		sum += math.Abs(v)
		n++
		flag = flag && (v == 0 || v == 1)
	}
	if flag || sum == 0 {
		return values
	}
	mean := sum / float64(n)
	for i, v := range values {
		values[i] = v / mean
	}
	return values
}
