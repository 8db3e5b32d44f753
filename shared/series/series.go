// Package series turns the dataset into daily sales series: the standard
// series (the total, each product, each category, each region) and ad-hoc
// series selected by the forecast API's row filters.
//
// A Table holds the dataset in columnar form — days as numbers, product,
// category and region dictionary-encoded — loaded in one pass from the
// dataset stream. A series sums sales per date over the matching rows and has
// a point on every date on which at least one matching row exists (gaps are
// allowed), in date order.
package series

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/stockcast/stockcast/shared/dataset"
)

// Key of the series of all rows.
const Total = "total"

// ProductKey returns the key of a product's series, e.g. product/P0001.
func ProductKey(id string) string { return "product/" + id }

// CategoryKey returns the key of a category's series, e.g. category/Electronics.
func CategoryKey(name string) string { return "category/" + name }

// RegionKey returns the key of a region's series, e.g. region/North.
func RegionKey(name string) string { return "region/" + name }

// Series is a daily series: Values[i] is the sum of sales on Dates[i]
// (00:00 UTC), dates strictly increasing.
type Series struct {
	Key    string      `json:"key"`
	Dates  []time.Time `json:"dates"`
	Values []float64   `json:"values"`
	// Incomplete are the group's most recent dates left out of its history because only part of
	// its products have rows on them yet (see Table.Standard); empty for a product.
	Incomplete []Incomplete `json:"incomplete,omitempty"`
}

// Incomplete is a date left out of a group's history: the products with rows on it, and the
// products the group has on a typical recent date.
type Incomplete struct {
	Date     time.Time `json:"date"`
	Products int       `json:"products"`
	Of       int       `json:"of"`
}

// ErrNoMatch is returned for a filter that matches no row.
var ErrNoMatch = errors.New("no rows match the filter")

// Table is the dataset in columnar form. It is read-only once loaded and safe
// for concurrent use.
type Table struct {
	day                       []dataset.Day
	product                   []int32 // index into products
	category, region          []int32 // index into categories / regions; -1 when empty
	sales, price              []float64
	discount, rating          []float64
	products                  []string
	categories, regions       []string
	productIdx                map[string]int32
	categoryIdx, regionIdx    map[string]int32
	sortedProducts            []int32 // dictionary indices in name order
	sortedCats, sortedRegions []int32
	// covNames are the covariate columns beyond price and discount, cov
	// their values per row (see Covariates).
	covNames []string
	cov      [][]float64
}

// Load reads a dataset stream into a Table. An empty stream gives an empty
// table; a malformed dataset is an error wrapping dataset.ErrInvalidDataset.
func Load(ctx context.Context, r io.Reader) (*Table, error) {
	s, err := dataset.NewScanner(r)
	if err != nil {
		return nil, fmt.Errorf("load series table: %w", err)
	}
	t := &Table{productIdx: map[string]int32{}, categoryIdx: map[string]int32{}, regionIdx: map[string]int32{}}
	sorted := true
	var memo loadMemo
	var day column[dataset.Day]
	var product, category, region column[int32]
	var sales, price, discount, rating column[float64]
	var last dataset.Day
	extra := extraColumns(s.Columns())
	covs := make([]column[float64], len(extra))
	for _, i := range extra {
		t.covNames = append(t.covNames, s.Columns()[i])
	}
	for n := 0; s.Scan(); n++ {
		if n%8192 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("load series table: %w", err)
			}
		}
		row := s.Row()
		if n > 0 && row.Day < last {
			sorted = false
		}
		last = row.Day
		day.add(row.Day)
		p, c, r := memo.lookup(t, row)
		product.add(p)
		category.add(c)
		region.add(r)
		sales.add(row.Sales)
		price.add(row.Price)
		discount.add(row.Discount)
		rating.add(row.Rating)
		for k, i := range extra {
			covs[k].add(s.Covariate(i))
		}
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("load series table: %w", err)
	}
	t.day, t.product, t.category, t.region = day.join(), product.join(), category.join(), region.join()
	t.sales, t.price, t.discount, t.rating = sales.join(), price.join(), discount.join(), rating.join()
	for k := range covs {
		t.cov = append(t.cov, covs[k].join())
	}
	if !sorted {
		t.sortByDay()
	}
	t.sortedProducts = nameOrder(t.products)
	t.sortedCats = nameOrder(t.categories)
	t.sortedRegions = nameOrder(t.regions)
	return t, nil
}

// intern returns the dictionary index of name, adding it if new; an empty
// name is -1.
func intern(idx map[string]int32, names *[]string, name []byte) int32 {
	if len(name) == 0 {
		return -1
	}
	if i, ok := idx[string(name)]; ok {
		return i
	}
	i := int32(len(*names))
	*names = append(*names, string(name))
	idx[string(name)] = i
	return i
}

// chunkRows is the size of the chunks a column grows by while loading.
const chunkRows = 1 << 16

// column accumulates values in fixed-size chunks, so that loading never
// copies a growing slice, and joins them once at the end.
type column[T any] struct{ chunks [][]T }

func (c *column[T]) add(v T) {
	n := len(c.chunks)
	if n == 0 || len(c.chunks[n-1]) == chunkRows {
		c.chunks = append(c.chunks, make([]T, 0, chunkRows))
		n++
	}
	c.chunks[n-1] = append(c.chunks[n-1], v)
}

func (c *column[T]) join() []T {
	n := 0
	for _, ch := range c.chunks {
		n += len(ch)
	}
	out := make([]T, 0, n)
	for _, ch := range c.chunks {
		out = append(out, ch...)
	}
	return out
}

// loadMemo saves most dictionary lookups while loading: a dataset sorted by
// (date, product_id) lists the same products in the same order every day, and
// a product usually keeps its category and region. So the product is first
// guessed as the one that followed the previous product last time, and the
// category and region as the product's previous ones; a wrong guess costs a
// byte comparison before the map lookup.
type loadMemo struct {
	seen     bool // a row was looked up before
	prev     int32
	next     []int32 // product index → the product that followed it, or -1
	category []int32 // product index → its last category index
	region   []int32 // product index → its last region index
}

func (m *loadMemo) lookup(t *Table, row *dataset.Row) (product, category, region int32) {
	product = -1
	if len(m.next) > 0 {
		if g := m.next[m.prev]; g >= 0 && string(row.ProductID) == t.products[g] {
			product = g
		}
	}
	if product < 0 {
		product = intern(t.productIdx, &t.products, row.ProductID)
		for len(m.next) < len(t.products) {
			m.next = append(m.next, -1)
			m.category = append(m.category, -1)
			m.region = append(m.region, -1)
		}
		if m.seen {
			m.next[m.prev] = product
		}
	}
	m.prev, m.seen = product, true
	category = guess(t.categoryIdx, &t.categories, row.Category, &m.category[product])
	region = guess(t.regionIdx, &t.regions, row.Region, &m.region[product])
	return product, category, region
}

// guess interns name, trying *last first, and remembers the result in *last.
func guess(idx map[string]int32, names *[]string, name []byte, last *int32) int32 {
	if g := *last; g >= 0 && string(name) == (*names)[g] {
		return g
	}
	*last = intern(idx, names, name)
	return *last
}

// nameOrder returns dictionary indices ordered by name.
func nameOrder(names []string) []int32 {
	order := make([]int32, len(names))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return cmp.Compare(names[a], names[b]) })
	return order
}

// sortByDay reorders the rows by day, keeping the file order within a day.
func (t *Table) sortByDay() {
	perm := make([]int, len(t.day))
	for i := range perm {
		perm[i] = i
	}
	slices.SortStableFunc(perm, func(a, b int) int { return cmp.Compare(t.day[a], t.day[b]) })
	t.day = permute(t.day, perm)
	t.product = permute(t.product, perm)
	t.category = permute(t.category, perm)
	t.region = permute(t.region, perm)
	t.sales = permute(t.sales, perm)
	t.price = permute(t.price, perm)
	t.discount = permute(t.discount, perm)
	t.rating = permute(t.rating, perm)
	for k := range t.cov {
		t.cov[k] = permute(t.cov[k], perm)
	}
}

func permute[T any](s []T, perm []int) []T {
	out := make([]T, len(s))
	for i, p := range perm {
		out[i] = s[p]
	}
	return out
}

// Rows returns the number of rows in the table.
func (t *Table) Rows() int { return len(t.day) }

// FirstDate returns the earliest date, false for an empty table.
func (t *Table) FirstDate() (time.Time, bool) {
	if len(t.day) == 0 {
		return time.Time{}, false
	}
	return t.day[0].Time(), true
}

// LastDate returns the latest date, false for an empty table.
func (t *Table) LastDate() (time.Time, bool) {
	if len(t.day) == 0 {
		return time.Time{}, false
	}
	return t.day[len(t.day)-1].Time(), true
}

// Products returns the product ids in byte order.
func (t *Table) Products() []string { return names(t.products, t.sortedProducts) }

// Categories returns the (non-empty) categories in byte order.
func (t *Table) Categories() []string { return names(t.categories, t.sortedCats) }

// Regions returns the (non-empty) regions in byte order.
func (t *Table) Regions() []string { return names(t.regions, t.sortedRegions) }

func names(dict []string, order []int32) []string {
	out := make([]string, len(order))
	for i, k := range order {
		out[i] = dict[k]
	}
	return out
}

// builder accumulates one series per group from rows in day order, and how many rows (one per
// product) each date has.
type builder struct {
	days   [][]dataset.Day
	values [][]float64
	rows   [][]int32
}

func newBuilder(groups int) *builder {
	return &builder{days: make([][]dataset.Day, groups), values: make([][]float64, groups), rows: make([][]int32, groups)}
}

func (b *builder) add(g int32, d dataset.Day, v float64) { b.addRows(g, d, v, 1) }

// addRows adds the sales sum v of rows rows on d to group g.
func (b *builder) addRows(g int32, d dataset.Day, v float64, rows int32) {
	days := b.days[g]
	if n := len(days); n > 0 && days[n-1] == d {
		b.values[g][n-1] += v
		b.rows[g][n-1] += rows
		return
	}
	b.days[g] = append(days, d)
	b.values[g] = append(b.values[g], v)
	b.rows[g] = append(b.rows[g], rows)
}

// series returns group g's series: a product's whole history (one row a date), or a group's up to
// its last complete date.
func (b *builder) series(g int32, key string) Series {
	n, incomplete := completeThrough(b.days[g], b.rows[g])
	dates := make([]time.Time, n)
	for i, d := range b.days[g][:n] {
		dates[i] = d.Time()
	}
	return Series{Key: key, Dates: dates, Values: b.values[g][:n], Incomplete: incomplete}
}

// Completeness of a group's recent dates: a date is complete when at least CompleteShare of the
// products the group has on a typical date — the median over its last CompleteWindow dates —
// have rows on it.
const (
	CompleteShare  = 0.9
	CompleteWindow = 365
)

// completeThrough returns how many of a group's dates (with rows products each) its history
// keeps: all but its most recent incomplete dates, which a partial upload (one product's new
// week) leaves, and which read as a collapse of the group's sales. Dates in the middle of the
// history are kept whatever their count: the rule is about data not arrived yet.
func completeThrough(days []dataset.Day, rows []int32) (int, []Incomplete) {
	n := len(rows)
	recent := slices.Clone(rows[max(0, n-CompleteWindow):])
	if len(recent) == 0 {
		return 0, nil
	}
	slices.Sort(recent)
	typical := recent[len(recent)/2]
	keep := n
	for keep > 0 && float64(rows[keep-1]) < CompleteShare*float64(typical) {
		keep--
	}
	if keep == n {
		return n, nil
	}
	incomplete := make([]Incomplete, 0, n-keep)
	for i := keep; i < n; i++ {
		incomplete = append(incomplete, Incomplete{Date: days[i].Time(), Products: int(rows[i]), Of: int(typical)})
	}
	return keep, incomplete
}

// Standard returns the standard series: the total, then each product, each
// category and each region, each group in name order. An empty table gives
// no series.
func (t *Table) Standard() []Series {
	if len(t.day) == 0 {
		return nil
	}
	total, products, categories, regions := t.builders(true)
	out := make([]Series, 0, 1+len(t.products)+len(t.categories)+len(t.regions))
	out = append(out, total.series(0, Total))
	out = appendSeries(out, products, t.sortedProducts, t.products, ProductKey)
	out = appendSeries(out, categories, t.sortedCats, t.categories, CategoryKey)
	return appendSeries(out, regions, t.sortedRegions, t.regions, RegionKey)
}

// ProductSeries returns the series of each product in name order: Standard's products.
func (t *Table) ProductSeries() []Series {
	products := newBuilder(len(t.products))
	for i, d := range t.day {
		products.add(t.product[i], d, t.sales[i])
	}
	return appendSeries(make([]Series, 0, len(t.products)), products, t.sortedProducts, t.products, ProductKey)
}

// builders sums the sales of the rows per date into the total, each category and each region
// and, with products, each product (nil without).
func (t *Table) builders(products bool) (total, prods, categories, regions *builder) {
	return groupBuilders(t, t.sales, products, newBuilder)
}

// groupAdder is what groupBuilders fills: builder sums a group's values per date, meanBuilder
// averages them.
type groupAdder interface {
	add(g int32, d dataset.Day, v float64)
}

// groupBuilders makes, with newB, the builders of the total, each category, each region and,
// with products, each product (the zero B without), and adds every row's value (values[i];
// NaN for every row when values is nil) on its date to those of its groups.
func groupBuilders[B groupAdder](t *Table, values []float64, products bool, newB func(groups int) B) (total, prods, categories, regions B) {
	total, categories, regions = newB(1), newB(len(t.categories)), newB(len(t.regions))
	if products {
		prods = newB(len(t.products))
	}
	nan := math.NaN()
	for i, d := range t.day {
		v := nan
		if values != nil {
			v = values[i]
		}
		total.add(0, d, v)
		if products {
			prods.add(t.product[i], d, v)
		}
		if c := t.category[i]; c >= 0 {
			categories.add(c, d, v)
		}
		if r := t.region[i]; r >= 0 {
			regions.add(r, d, v)
		}
	}
	return total, prods, categories, regions
}

// appendSeries appends the series of b's groups in order, named key(dict[g]).
func appendSeries(out []Series, b *builder, order []int32, dict []string, key func(string) string) []Series {
	for _, g := range order {
		out = append(out, b.series(g, key(dict[g])))
	}
	return out
}

// Filter selects rows as the prototype's API did. Empty strings and nil
// thresholds do not filter; a row with a missing value in a filtered column
// does not match.
type Filter struct {
	ProductID   string   // product_id equals
	Category    string   // category equals
	Region      string   // region equals
	MinRating   *float64 // rating >= MinRating
	MaxPrice    *float64 // price <= MaxPrice
	MinDiscount *float64 // discount >= MinDiscount
}

// Key returns the series key of the filter: Total, ProductKey, CategoryKey or
// RegionKey when the filter is one of the standard series, otherwise
// "filter?" followed by its parameters in the API's names, sorted.
func (f Filter) Key() string {
	q := url.Values{}
	set := func(name, v string) {
		if v != "" {
			q.Set(name, v)
		}
	}
	set("product_id", f.ProductID)
	set("category", f.Category)
	set("region", f.Region)
	for name, v := range map[string]*float64{"min_rating": f.MinRating, "max_price": f.MaxPrice, "min_discount": f.MinDiscount} {
		if v != nil {
			q.Set(name, strconv.FormatFloat(*v, 'g', -1, 64))
		}
	}
	switch {
	case len(q) == 0:
		return Total
	case len(q) > 1:
		return "filter?" + q.Encode()
	case f.ProductID != "":
		return ProductKey(f.ProductID)
	case f.Category != "":
		return CategoryKey(f.Category)
	case f.Region != "":
		return RegionKey(f.Region)
	}
	return "filter?" + q.Encode()
}

// Filtered returns the series of the rows matching f, keyed by f.Key(). It
// returns an error wrapping ErrNoMatch when no row matches, and an error
// naming the threshold for a NaN threshold.
func (t *Table) Filtered(f Filter) (Series, error) {
	match, err := t.matcher(f)
	if err != nil {
		return Series{}, err
	}
	b := newBuilder(1)
	for i, d := range t.day {
		if match(i) {
			b.add(0, d, t.sales[i])
		}
	}
	if len(b.days[0]) == 0 {
		return Series{}, fmt.Errorf("series %s: %w", f.Key(), ErrNoMatch)
	}
	return b.series(0, f.Key()), nil
}

// matcher is the predicate of the rows f selects. It fails as Filtered does
// for a NaN threshold, and with ErrNoMatch for a product, category or region
// absent from the table.
func (t *Table) matcher(f Filter) (func(i int) bool, error) {
	for name, v := range map[string]*float64{"min_rating": f.MinRating, "max_price": f.MaxPrice, "min_discount": f.MinDiscount} {
		if v != nil && math.IsNaN(*v) {
			return nil, fmt.Errorf("filter %s is not a number", name)
		}
	}
	product, ok1 := lookup(t.productIdx, f.ProductID)
	category, ok2 := lookup(t.categoryIdx, f.Category)
	region, ok3 := lookup(t.regionIdx, f.Region)
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("series %s: %w", f.Key(), ErrNoMatch)
	}
	return func(i int) bool {
		return !((product >= 0 && t.product[i] != product) ||
			(category >= 0 && t.category[i] != category) ||
			(region >= 0 && t.region[i] != region) ||
			(f.MinRating != nil && !(t.rating[i] >= *f.MinRating)) ||
			(f.MaxPrice != nil && !(t.price[i] <= *f.MaxPrice)) ||
			(f.MinDiscount != nil && !(t.discount[i] >= *f.MinDiscount)))
	}, nil
}

// lookup resolves an equality filter: -1 for no filter, false for a value
// absent from the table.
func lookup(idx map[string]int32, name string) (int32, bool) {
	if name == "" {
		return -1, true
	}
	i, ok := idx[name]
	return i, ok
}
