package series

import (
	"math"
	"slices"

	"github.com/stockcast/stockcast/shared/dataset"
)

// extraColumns are the indices of the columns outside the data contract's
// required and known optional ones.
func extraColumns(columns []string) []int {
	known := append(dataset.RequiredColumns(), dataset.OptionalColumns()...)
	var out []int
	for i, c := range columns {
		if !slices.Contains(known, c) {
			out = append(out, i)
		}
	}
	return out
}

// Covariates lists the table's known covariates, the columns a model may
// read beside sales: price and discount when a row has one, then every
// column outside the data contract, in file order (such as promotion and
// holiday flags; see dataset.Scanner.Covariate for how each value reads).
func (t *Table) Covariates() []string {
	var out []string
	for _, c := range []struct {
		name   string
		values []float64
	}{{dataset.ColPrice, t.price}, {dataset.ColDiscount, t.discount}} {
		if slices.ContainsFunc(c.values, func(v float64) bool { return !math.IsNaN(v) }) {
			out = append(out, c.name)
		}
	}
	return append(out, t.covNames...)
}

// ColumnCovariates lists the covariates of a dataset with these columns, in
// Covariates' order, without reading a row: price and discount when it has the
// column, then every column outside the data contract. It is Covariates for
// a dataset read in parts (the shards of one), where a part may lack values
// another has.
func ColumnCovariates(columns []string) []string {
	var out []string
	for _, name := range []string{dataset.ColPrice, dataset.ColDiscount} {
		if slices.Contains(columns, name) {
			out = append(out, name)
		}
	}
	for _, i := range extraColumns(columns) {
		out = append(out, columns[i])
	}
	return out
}

// covariate is the per-row column of a covariate name, nil if unknown.
func (t *Table) covariate(name string) []float64 {
	switch name {
	case dataset.ColPrice:
		return t.price
	case dataset.ColDiscount:
		return t.discount
	}
	if i := slices.Index(t.covNames, name); i >= 0 {
		return t.cov[i]
	}
	return nil
}

// meanBuilder accumulates, per group and day in day order, the mean of a
// covariate over the rows that have it (NaN on a day none has).
type meanBuilder struct {
	days   [][]dataset.Day
	sum    [][]float64
	counts [][]int32
}

func newMeanBuilder(groups int) *meanBuilder {
	return &meanBuilder{days: make([][]dataset.Day, groups), sum: make([][]float64, groups), counts: make([][]int32, groups)}
}

func (b *meanBuilder) add(g int32, d dataset.Day, v float64) {
	if math.IsNaN(v) {
		b.addSum(g, d, 0, 0)
		return
	}
	b.addSum(g, d, v, 1)
}

// addSum adds the sum of count known values on d to group g (count 0: the date only).
func (b *meanBuilder) addSum(g int32, d dataset.Day, sum float64, count int32) {
	n := len(b.days[g])
	if n == 0 || b.days[g][n-1] != d {
		b.days[g] = append(b.days[g], d)
		b.sum[g] = append(b.sum[g], 0)
		b.counts[g] = append(b.counts[g], 0)
		n++
	}
	b.sum[g][n-1] += sum
	b.counts[g][n-1] += count
}

func (b *meanBuilder) means(g int32) []float64 {
	out := b.sum[g]
	for i, c := range b.counts[g] {
		if c == 0 {
			out[i] = math.NaN()
		} else {
			out[i] /= float64(c)
		}
	}
	return out
}

// StandardCovariates returns, for each series of Standard (in its order),
// the daily mean of each named covariate over the series' rows, aligned
// with the series' dates: out[i][name][k] is the mean on Standard()[i].Dates[k],
// NaN on a date where no row has it. An unknown name gives NaN everywhere.
// The recent incomplete dates a group's series leaves out (Series.Incomplete)
// are kept here, after the series' dates.
func (t *Table) StandardCovariates(names []string) []map[string][]float64 {
	if len(t.day) == 0 {
		return nil
	}
	out := make([]map[string][]float64, 1+len(t.products)+len(t.categories)+len(t.regions))
	for i := range out {
		out[i] = make(map[string][]float64, len(names))
	}
	for _, name := range names {
		total, products, categories, regions := t.covariateBuilders(name, true)
		k := 0
		out[k][name] = total.means(0)
		for _, groups := range []struct {
			b     *meanBuilder
			order []int32
		}{{products, t.sortedProducts}, {categories, t.sortedCats}, {regions, t.sortedRegions}} {
			for _, g := range groups.order {
				k++
				out[k][name] = groups.b.means(g)
			}
		}
	}
	return out
}

// covariateBuilders sums covariate name's known values per date into the total, each category
// and each region and, with products, each product (nil without).
func (t *Table) covariateBuilders(name string, products bool) (total, prods, categories, regions *meanBuilder) {
	return groupBuilders(t, t.covariate(name), products, newMeanBuilder)
}

// FilteredCovariates is StandardCovariates for the series Filtered(f)
// returns: the daily mean of each named covariate over the matching rows,
// aligned with its dates (and its incomplete dates after them). It fails as
// Filtered does.
func (t *Table) FilteredCovariates(f Filter, names []string) (map[string][]float64, error) {
	match, err := t.matcher(f)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]float64, len(names))
	for _, name := range names {
		col := t.covariate(name)
		b := newMeanBuilder(1)
		for i, d := range t.day {
			if !match(i) {
				continue
			}
			v := math.NaN()
			if col != nil {
				v = col[i]
			}
			b.add(0, d, v)
		}
		out[name] = b.means(0)
	}
	return out, nil
}
