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
// covariate's known values. Partials of disjoint sets of rows add up (PartialSums) to the group
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

// PartialSums adds up the partials of disjoint sets of rows — the shards of one dataset — into
// the group series of their union, one shard's partials at a time, so that only the sums are
// held. Each date's sums are added in the order the partials were; the zero value is empty.
type PartialSums struct {
	groups map[string]*groupSums
}

// groupSums are one group's sums so far, by date in the order the dates came.
type groupSums struct {
	index map[dataset.Day]int
	days  []dataset.Day
	sales []float64
	rows  []int32
	covs  map[string]*CovariateSums
}

// Add adds one shard's partials. A partial whose dates are not strictly increasing, or whose
// columns differ in length from its dates, is an error, and nothing of it is added.
func (p *PartialSums) Add(partials []Partial) error {
	for _, q := range partials {
		if err := q.check(); err != nil {
			return err
		}
	}
	if p.groups == nil {
		p.groups = map[string]*groupSums{}
	}
	for _, q := range partials {
		g := p.groups[q.Key]
		if g == nil {
			g = &groupSums{index: map[dataset.Day]int{}, covs: map[string]*CovariateSums{}}
			p.groups[q.Key] = g
		}
		for j, d := range q.Dates {
			day := dataset.DayOf(d)
			i, ok := g.index[day]
			if !ok {
				i = len(g.days)
				g.index[day] = i
				g.days, g.sales, g.rows = append(g.days, day), append(g.sales, 0), append(g.rows, 0)
				for _, c := range g.covs {
					c.Sums, c.Counts = append(c.Sums, 0), append(c.Counts, 0)
				}
			}
			g.sales[i] += q.Sales[j]
			g.rows[i] += q.Rows[j]
			for name, qc := range q.Covariates {
				c := g.covs[name]
				if c == nil { // a covariate first seen here: unknown on the dates before
					c = &CovariateSums{Sums: make([]float64, len(g.days)), Counts: make([]int32, len(g.days))}
					g.covs[name] = c
				}
				c.Sums[i] += qc.Sums[j]
				c.Counts[i] += qc.Counts[j]
			}
		}
	}
	return nil
}

// check refuses a malformed partial.
func (q Partial) check() error {
	if len(q.Sales) != len(q.Dates) || len(q.Rows) != len(q.Dates) {
		return fmt.Errorf("partial %s: %d dates, %d sales, %d row counts", q.Key, len(q.Dates), len(q.Sales), len(q.Rows))
	}
	for name, c := range q.Covariates {
		if len(c.Sums) != len(q.Dates) || len(c.Counts) != len(q.Dates) {
			return fmt.Errorf("partial %s: covariate %s has %d sums and %d counts for %d dates", q.Key, name, len(c.Sums), len(c.Counts), len(q.Dates))
		}
	}
	for j := 1; j < len(q.Dates); j++ {
		if !q.Dates[j].After(q.Dates[j-1]) {
			return fmt.Errorf("partial %s: dates not increasing at %s", q.Key, q.Dates[j].Format(time.DateOnly))
		}
	}
	return nil
}

// Groups returns the group series of the partials added so far.
func (p *PartialSums) Groups() Groups {
	keys := make([]string, 0, len(p.groups))
	for key := range p.groups {
		keys = append(keys, key)
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(groupRank(a), groupRank(b)), cmp.Compare(a, b)) })
	out := Groups{Series: make([]Series, 0, len(keys)), Covariates: make([]map[string][]float64, 0, len(keys))}
	for _, key := range keys {
		g := p.groups[key]
		order := make([]int, len(g.days))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int { return cmp.Compare(g.days[a], g.days[b]) })
		b := newBuilder(1)
		means := map[string]*meanBuilder{}
		for name := range g.covs {
			means[name] = newMeanBuilder(1)
		}
		for _, i := range order {
			b.addRows(0, g.days[i], g.sales[i], g.rows[i])
			for name, c := range g.covs {
				means[name].addSum(0, g.days[i], c.Sums[i], c.Counts[i])
			}
		}
		covs := make(map[string][]float64, len(means))
		for name, m := range means {
			covs[name] = m.means(0)
		}
		out.Series = append(out.Series, b.series(0, key))
		out.Covariates = append(out.Covariates, covs)
	}
	return out
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
