package series

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stockcast/stockcast/shared/dataset"
)

// naiveRow is a dataset row as the reference reads it with encoding/csv.
type naiveRow struct {
	date                       string
	product, category, region  string
	sales, price, disc, rating float64
}

func naiveRows(t testing.TB, data []byte) []naiveRow {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, c := range recs[0] {
		col[c] = i
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok {
			return rec[i]
		}
		return ""
	}
	num := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return math.NaN()
		}
		return v
	}
	var rows []naiveRow
	for _, rec := range recs[1:] {
		rows = append(rows, naiveRow{
			date: get(rec, "date")[:10], product: get(rec, "product_id"), category: get(rec, "category"), region: get(rec, "region"),
			sales: num(get(rec, "sales")), price: num(get(rec, "price")), disc: num(get(rec, "discount")), rating: num(get(rec, "rating")),
		})
	}
	return rows
}

// naiveSeries sums sales per date over the rows that match.
func naiveSeries(rows []naiveRow, key string, match func(naiveRow) bool) (Series, bool) {
	sums, counts := map[string]float64{}, map[string]int{}
	for _, r := range rows {
		if match(r) {
			sums[r.date] += r.sales
			counts[r.date]++
		}
	}
	if len(sums) == 0 {
		return Series{}, false
	}
	s := naiveGroup{Series: Series{Key: key}}
	for _, d := range slices.Sorted(func(yield func(string) bool) {
		for d := range sums {
			if !yield(d) {
				return
			}
		}
	}) {
		tm, _ := time.Parse(time.DateOnly, d)
		s.Dates = append(s.Dates, tm)
		s.Values = append(s.Values, sums[d])
		s.counts = append(s.counts, counts[d])
	}
	return s.trimmed(), true
}

// naiveGroup is a series with the number of rows on each date.
type naiveGroup struct {
	Series
	counts []int
}

// trimmed drops the most recent dates with fewer rows than 90% of the median count over the last
// 365 dates.
func (g naiveGroup) trimmed() Series {
	recent := slices.Clone(g.counts[max(0, len(g.counts)-365):])
	slices.Sort(recent)
	median := float64(recent[len(recent)/2])
	n := len(g.counts)
	for n > 0 && float64(g.counts[n-1]) < 0.9*median {
		n--
	}
	return Series{Key: g.Key, Dates: g.Dates[:n], Values: g.Values[:n]}
}

// naiveStandard sums sales per (series key, date) in maps in one pass, then
// orders the keys as Standard documents.
func naiveStandard(rows []naiveRow) []Series {
	sums, counts := map[string]map[string]float64{}, map[string]map[string]int{}
	add := func(key, date string, v float64) {
		if sums[key] == nil {
			sums[key], counts[key] = map[string]float64{}, map[string]int{}
		}
		sums[key][date] += v
		counts[key][date]++
	}
	groups := map[string][]string{}
	for _, r := range rows {
		add(Total, r.date, r.sales)
		for _, g := range []struct{ kind, name, key string }{
			{"product", r.product, ProductKey(r.product)},
			{"category", r.category, CategoryKey(r.category)},
			{"region", r.region, RegionKey(r.region)},
		} {
			if g.name == "" {
				continue
			}
			if sums[g.key] == nil {
				groups[g.kind] = append(groups[g.kind], g.key)
			}
			add(g.key, r.date, r.sales)
		}
	}
	if len(rows) == 0 {
		return nil
	}
	keys := []string{Total}
	for _, kind := range []string{"product", "category", "region"} {
		slices.Sort(groups[kind])
		keys = append(keys, groups[kind]...)
	}
	out := make([]Series, 0, len(keys))
	for _, key := range keys {
		s := naiveGroup{Series: Series{Key: key}}
		for _, d := range slices.Sorted(maps.Keys(sums[key])) {
			tm, _ := time.Parse(time.DateOnly, d)
			s.Dates = append(s.Dates, tm)
			s.Values = append(s.Values, sums[key][d])
			s.counts = append(s.counts, counts[key][d])
		}
		out = append(out, s.trimmed())
	}
	return out
}

func naiveFilter(f Filter) func(naiveRow) bool {
	return func(r naiveRow) bool {
		return (f.ProductID == "" || r.product == f.ProductID) &&
			(f.Category == "" || r.category == f.Category) &&
			(f.Region == "" || r.region == f.Region) &&
			(f.MinRating == nil || r.rating >= *f.MinRating) &&
			(f.MaxPrice == nil || r.price <= *f.MaxPrice) &&
			(f.MinDiscount == nil || r.disc >= *f.MinDiscount)
	}
}

func sameSeries(a, b Series) bool {
	return a.Key == b.Key && slices.EqualFunc(a.Dates, b.Dates, time.Time.Equal) &&
		slices.EqualFunc(a.Values, b.Values, func(x, y float64) bool { return math.Abs(x-y) <= 1e-9*math.Max(1, math.Abs(y)) })
}

func load(t testing.TB, data []byte) *Table {
	t.Helper()
	tab, err := Load(context.Background(), bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

func ptr(v float64) *float64 { return &v }

func TestStandardMatchesNaive(t *testing.T) {
	data, err := os.ReadFile("../../testdata/sample_dataset.csv")
	if err != nil {
		t.Fatal(err)
	}
	tab := load(t, data)
	rows := naiveRows(t, data)
	got, want := tab.Standard(), naiveStandard(rows)
	if len(got) != len(want) || len(got) != 1+24+len(tab.Categories())+len(tab.Regions()) {
		t.Fatalf("%d series, want %d", len(got), len(want))
	}
	for i := range want {
		if !sameSeries(got[i], want[i]) {
			t.Fatalf("series %d: %s with %d points, want %s with %d", i, got[i].Key, len(got[i].Dates), want[i].Key, len(want[i].Dates))
		}
	}
	if tab.Rows() != len(rows) {
		t.Errorf("Rows() = %d, want %d", tab.Rows(), len(rows))
	}
	first, _ := tab.FirstDate()
	last, ok := tab.LastDate()
	if !ok || first.Format(time.DateOnly) != "2022-01-01" || last.Format(time.DateOnly) != "2024-04-09" || last.Location() != time.UTC {
		t.Errorf("dates %v … %v", first, last)
	}
	if p := tab.Products(); len(p) != 24 || p[0] != "P0001" || p[23] != "P0024" {
		t.Errorf("products %q", p)
	}
	if got[0].Key != "total" || got[1].Key != "product/P0001" {
		t.Errorf("keys %q, %q", got[0].Key, got[1].Key)
	}
}

// randomDataset writes rows in random order with missing values, duplicates
// on a key and quoted fields.
func randomDataset(r *rand.Rand) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"region", "date", "product_id", "sales", "category", "price", "discount", "rating"})
	maybe := func(v string) string {
		if r.IntN(5) == 0 {
			return ""
		}
		return v
	}
	for range r.IntN(60) {
		w.Write([]string{
			maybe([]string{"North", "South", "East, far"}[r.IntN(3)]),
			fmt.Sprintf("2024-0%d-%02d", 1+r.IntN(3), 1+r.IntN(28)),
			fmt.Sprintf("P%d", r.IntN(6)),
			strconv.FormatFloat(float64(r.IntN(1000))/4, 'f', -1, 64),
			maybe([]string{"Toys", "Home", "Food"}[r.IntN(3)]),
			maybe(strconv.Itoa(1 + r.IntN(100))),
			maybe(strconv.Itoa(5 * r.IntN(5))),
			maybe(strconv.FormatFloat(1+float64(r.IntN(41))/10, 'f', 1, 64)),
		})
	}
	w.Flush()
	return b.Bytes()
}

func randomFilter(r *rand.Rand) Filter {
	var f Filter
	if r.IntN(3) == 0 {
		f.ProductID = fmt.Sprintf("P%d", r.IntN(7))
	}
	if r.IntN(3) == 0 {
		f.Category = []string{"Toys", "Home", "Food", "None"}[r.IntN(4)]
	}
	if r.IntN(3) == 0 {
		f.Region = []string{"North", "South", "East, far"}[r.IntN(3)]
	}
	if r.IntN(3) == 0 {
		f.MinRating = ptr(1 + float64(r.IntN(41))/10)
	}
	if r.IntN(3) == 0 {
		f.MaxPrice = ptr(float64(r.IntN(100)))
	}
	if r.IntN(3) == 0 {
		f.MinDiscount = ptr(float64(5 * r.IntN(5)))
	}
	return f
}

func TestRandomTablesMatchNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	n := 500
	if testing.Short() {
		n = 100
	}
	for i := range n {
		data := randomDataset(r)
		tab := load(t, data)
		rows := naiveRows(t, data)
		got, want := tab.Standard(), naiveStandard(rows)
		if !slices.EqualFunc(got, want, sameSeries) {
			t.Fatalf("case %d: standard series differ\n%s\n got %+v\nwant %+v", i, data, got, want)
		}
		for range 20 {
			f := randomFilter(r)
			s, err := tab.Filtered(f)
			ref, ok := naiveSeries(rows, f.Key(), naiveFilter(f))
			if !ok {
				if !errors.Is(err, ErrNoMatch) {
					t.Fatalf("case %d: filter %+v matched nothing but gave %v", i, f, err)
				}
				continue
			}
			if err != nil || !sameSeries(s, ref) {
				t.Fatalf("case %d: filter %s: got %+v (%v), want %+v\n%s", i, f.Key(), s, err, ref, data)
			}
		}
	}
}

func TestFilterKey(t *testing.T) {
	tests := []struct {
		f    Filter
		want string
	}{
		{Filter{}, "total"},
		{Filter{ProductID: "P0001"}, "product/P0001"},
		{Filter{Category: "Electronics"}, "category/Electronics"},
		{Filter{Region: "North"}, "region/North"},
		{Filter{MinRating: ptr(4)}, "filter?min_rating=4"},
		{Filter{Region: "North", MaxPrice: ptr(9.5), MinDiscount: ptr(10)}, "filter?max_price=9.5&min_discount=10&region=North"},
		{Filter{ProductID: "P 1&2", Category: "Home"}, "filter?category=Home&product_id=P+1%262"},
	}
	for _, tt := range tests {
		if got := tt.f.Key(); got != tt.want {
			t.Errorf("%+v.Key() = %q, want %q", tt.f, got, tt.want)
		}
	}
}

func TestFilteredEdgeCases(t *testing.T) {
	data := "date,product_id,sales,category,price,rating\n" +
		"2024-01-01,A,1,Toys,10,\n" +
		"2024-01-01,B,2,,20,4\n" +
		"2024-01-03,A,4,Toys,,5\n"
	tab := load(t, []byte(data))
	for _, f := range []Filter{{ProductID: "Z"}, {Category: "Food"}, {Region: "North"}, {MinRating: ptr(5.5)}} {
		if _, err := tab.Filtered(f); !errors.Is(err, ErrNoMatch) {
			t.Errorf("%+v: %v, want ErrNoMatch", f, err)
		}
	}
	if _, err := tab.Filtered(Filter{MaxPrice: ptr(math.NaN())}); err == nil || errors.Is(err, ErrNoMatch) || !strings.Contains(err.Error(), "max_price") {
		t.Errorf("NaN threshold: %v", err)
	}
	// Missing values never match a threshold.
	s, err := tab.Filtered(Filter{MinRating: ptr(0)})
	if err != nil || len(s.Values) != 2 || s.Values[0] != 2 || s.Values[1] != 4 {
		t.Errorf("min_rating=0: %+v %v", s, err)
	}
	s, err = tab.Filtered(Filter{MaxPrice: ptr(math.Inf(1))})
	if err != nil || len(s.Values) != 1 || s.Values[0] != 3 {
		t.Errorf("max_price=+Inf: %+v %v", s, err)
	}
	// Gaps are kept: no point on 2024-01-02.
	s, _ = tab.Filtered(Filter{ProductID: "A"})
	if len(s.Dates) != 2 || s.Dates[1].Format(time.DateOnly) != "2024-01-03" || s.Key != "product/A" {
		t.Errorf("product A: %+v", s)
	}
	if got := tab.Categories(); !slices.Equal(got, []string{"Toys"}) || len(tab.Regions()) != 0 {
		t.Errorf("categories %q, regions %q", got, tab.Regions())
	}
}

func TestLoadEdgeCases(t *testing.T) {
	for _, data := range []string{"", "date,product_id,sales\n"} {
		tab := load(t, []byte(data))
		if _, ok := tab.LastDate(); ok || tab.Rows() != 0 || tab.Standard() != nil {
			t.Errorf("%q: not an empty table", data)
		}
		if _, err := tab.Filtered(Filter{}); !errors.Is(err, ErrNoMatch) {
			t.Errorf("%q: filter on empty table: %v", data, err)
		}
	}
	if _, err := Load(context.Background(), strings.NewReader("date,product_id,sales\n2024-01-01,A,x\n")); !errors.Is(err, dataset.ErrInvalidDataset) {
		t.Errorf("bad sales: %v", err)
	}
	if _, err := Load(context.Background(), strings.NewReader("date,sales\n")); !errors.Is(err, dataset.ErrInvalidDataset) {
		t.Errorf("bad header: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Load(ctx, strings.NewReader("date,product_id,sales\n2024-01-01,A,1\n")); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestGroupsEndAtTheirLastCompleteDate: one product's new week is not a collapse of the total,
// its category or its region; gaps inside the history and intermittent groups are left alone.
func TestGroupsEndAtTheirLastCompleteDate(t *testing.T) {
	var b strings.Builder
	b.WriteString("date,product_id,sales,category,region\n")
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for d := range 67 {
		date := start.AddDate(0, 0, d).Format(time.DateOnly)
		for p := range 24 {
			switch {
			case d >= 60 && p != 0: // only P00's new week has arrived
				continue
			case d == 30 && p < 12: // a day on which half the products have no row: kept
				continue
			}
			fmt.Fprintf(&b, "%s,P%02d,%d,C%d,R%d\n", date, p, 100+p, p%3, p%2)
		}
		if d%5 == 0 { // an intermittent product, alone in its category
			fmt.Fprintf(&b, "%s,RARE,1,Rare,R1\n", date)
		}
	}
	tab := load(t, []byte(b.String()))
	lastComplete := start.AddDate(0, 0, 59)
	for _, s := range tab.Standard() {
		last := s.Dates[len(s.Dates)-1]
		switch s.Key {
		case Total, CategoryKey("C0"), RegionKey("R0"):
			if !last.Equal(lastComplete) || len(s.Incomplete) != 7 || s.Incomplete[1].Products != 1 || !s.Incomplete[6].Date.Equal(start.AddDate(0, 0, 66)) {
				t.Errorf("%s ends on %s, incomplete %+v; want it to end on %s with the 7 new dates left out", s.Key, day(last), s.Incomplete, day(lastComplete))
			}
			if s.Key == Total && s.Incomplete[0].Of != 24 {
				t.Errorf("total: %d products on a typical date, want 24", s.Incomplete[0].Of)
			}
		case ProductKey("P00"):
			if !last.Equal(start.AddDate(0, 0, 66)) || s.Incomplete != nil {
				t.Errorf("P00 ends on %s (incomplete %v), want its own new week", day(last), s.Incomplete)
			}
		case CategoryKey("Rare"):
			if len(s.Dates) != 14 || s.Incomplete != nil {
				t.Errorf("an intermittent group lost dates: %d, %v", len(s.Dates), s.Incomplete)
			}
		}
		if s.Key == Total && (len(s.Dates) != 60 || s.Values[30] != float64(12*100+(12+23)*12/2+1)) {
			t.Errorf("total: %d dates, day 30 = %v: a gap inside the history must stay", len(s.Dates), s.Values[30])
		}
	}
	f, err := tab.Filtered(Filter{Region: "R0", MaxPrice: nil, Category: "C0"})
	if err != nil || !f.Dates[len(f.Dates)-1].Equal(lastComplete) {
		t.Errorf("ad-hoc filter %v ends on %v", err, f.Dates)
	}
}

func day(t time.Time) string { return t.Format(time.DateOnly) }
