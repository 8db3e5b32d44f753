package series

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stockcast/stockcast/shared/dataset"
)

// Partial is one group series (the total, a category, a region) summed over part of a dataset's
// rows — one shard's —: per date, the sales sum and the row count, and the sum and count of every
// covariate's known values. Partials of disjoint sets of rows add up (AddPartials) to the group
// series of their union, completeness rule included, which a sum of series could not give.
type Partial struct {
	Key   string      `json:"key"`
	Dates []time.Time `json:"dates"`
	Sales []float64   `json:"sales"`
	Rows  []int32     `json:"rows"`
	// Covariates are the sums of each covariate (price, discount and every column outside the
	// data contract) over the rows that have it, per date.
	Covariates map[string]CovariateSums `json:"covariates,omitempty"`
}

// CovariateSums are one covariate's per-date sum and count of known values, aligned with its
// Partial's dates.
type CovariateSums struct {
	Sums   []float64 `json:"sums"`
	Counts []int32   `json:"counts"`
}

// Partials returns the table's partial sums of the group series: the total, then each category
// and each region in name order. An empty table gives none.
func (t *Table) Partials() []Partial {
	if len(t.day) == 0 {
		return nil
	}
	total, _, categories, regions := t.builders(false)
	out := make([]Partial, 0, 1+len(t.categories)+len(t.regions))
	groups := []struct {
		b     *builder
		order []int32
		dict  []string
		key   func(string) string
	}{{total, []int32{0}, []string{Total}, func(string) string { return Total }},
		{categories, t.sortedCats, t.categories, CategoryKey}, {regions, t.sortedRegions, t.regions, RegionKey}}
	for _, gs := range groups {
		for _, g := range gs.order {
			p := Partial{Key: gs.key(gs.dict[g]), Dates: make([]time.Time, len(gs.b.days[g])), Sales: gs.b.values[g], Rows: gs.b.rows[g],
				Covariates: map[string]CovariateSums{}}
			for i, d := range gs.b.days[g] {
				p.Dates[i] = d.Time()
			}
			out = append(out, p)
		}
	}
	for _, name := range append([]string{dataset.ColPrice, dataset.ColDiscount}, t.covNames...) {
		total, _, categories, regions := t.covariateBuilders(name, false)
		k := 0
		for _, gs := range []struct {
			b     *meanBuilder
			order []int32
		}{{total, []int32{0}}, {categories, t.sortedCats}, {regions, t.sortedRegions}} {
			for _, g := range gs.order {
				out[k].Covariates[name] = CovariateSums{Sums: gs.b.sum[g], Counts: gs.b.counts[g]}
				k++
			}
		}
	}
	return out
}

// Groups are the group series added up from the partials of every shard of a dataset.
type Groups struct {
	// Series are the total, then each category and each region in name order, each up to its
	// last complete date over the whole dataset: exactly Table.Standard's group series of the
	// dataset.
	Series []Series
	// Covariates are, for each of Series, the daily mean of each covariate over its rows, as
	// Table.StandardCovariates gives them (its incomplete dates after its dates).
	Covariates []map[string][]float64
}

// AddPartials adds up the partials of disjoint sets of rows — the shards of one dataset, in any
// order — into the group series of their union. A partial whose dates are not strictly
// increasing, or whose columns differ in length, is an error.
func AddPartials(shards ...[]Partial) (Groups, error) {
	type entry struct {
		day   dataset.Day
		shard int
		index int
		p     *Partial
	}
	byKey := map[string][]entry{}
	for k, partials := range shards {
		for i := range partials {
			p := &partials[i]
			if len(p.Sales) != len(p.Dates) || len(p.Rows) != len(p.Dates) {
				return Groups{}, fmt.Errorf("partial %s of shard %d: %d dates, %d sales, %d row counts", p.Key, k, len(p.Dates), len(p.Sales), len(p.Rows))
			}
			for name, c := range p.Covariates {
				if len(c.Sums) != len(p.Dates) || len(c.Counts) != len(p.Dates) {
					return Groups{}, fmt.Errorf("partial %s of shard %d: covariate %s has %d sums and %d counts for %d dates", p.Key, k, name, len(c.Sums), len(c.Counts), len(p.Dates))
				}
			}
			for j, d := range p.Dates {
				day := dataset.DayOf(d)
				if j > 0 && day <= dataset.DayOf(p.Dates[j-1]) {
					return Groups{}, fmt.Errorf("partial %s of shard %d: dates not increasing at %s", p.Key, k, d.Format(time.DateOnly))
				}
				byKey[p.Key] = append(byKey[p.Key], entry{day: day, shard: k, index: j, p: p})
			}
		}
	}
	keys := make([]string, 0, len(byKey))
	for key := range byKey {
		keys = append(keys, key)
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(groupRank(a), groupRank(b)), cmp.Compare(a, b)) })
	out := Groups{Series: make([]Series, 0, len(keys)), Covariates: make([]map[string][]float64, 0, len(keys))}
	for _, key := range keys {
		entries := byKey[key]
		// By date, then shard: each date's sums are added in shard order, whatever the order of
		// the partials, so the result does not depend on it.
		slices.SortFunc(entries, func(a, b entry) int { return cmp.Or(cmp.Compare(a.day, b.day), cmp.Compare(a.shard, b.shard)) })
		b := newBuilder(1)
		means := map[string]*meanBuilder{}
		for _, e := range entries {
			b.addRows(0, e.day, e.p.Sales[e.index], e.p.Rows[e.index])
			for name, c := range e.p.Covariates {
				m := means[name]
				if m == nil {
					m = newMeanBuilder(1)
					means[name] = m
				}
				m.addSum(0, e.day, c.Sums[e.index], c.Counts[e.index])
			}
		}
		covs := make(map[string][]float64, len(means))
		for name, m := range means {
			if len(m.days[0]) != len(b.days[0]) { // a shard without this covariate's column
				return Groups{}, fmt.Errorf("partials of %s: covariate %s is not in every shard", key, name)
			}
			covs[name] = m.means(0)
		}
		out.Series = append(out.Series, b.series(0, key))
		out.Covariates = append(out.Covariates, covs)
	}
	return out, nil
}

// groupRank orders the group keys as Standard does: the total, the categories, the regions.
func groupRank(key string) int {
	switch {
	case key == Total:
		return 0
	case strings.HasPrefix(key, CategoryKey("")):
		return 1
	case strings.HasPrefix(key, RegionKey("")):
		return 2
	}
	return 3
}
