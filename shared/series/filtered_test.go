package series

import (
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestFilteredPartialsAddUpToTheWhole splits a dataset by product into shards and checks that
// each shard's partial of a filter, added up, gives the series and covariate means of the whole
// table, the completeness rule included (the latest date has rows for one product of three).
func TestFilteredPartialsAddUpToTheWhole(t *testing.T) {
	header := "date,product_id,sales,category,region,rating,promo\n"
	rows := []string{
		"2024-01-01,A,10,X,N,4,1", "2024-01-01,B,20,X,S,3,0", "2024-01-01,C,5,Y,N,5,",
		"2024-01-02,A,11,X,N,4,0", "2024-01-02,B,21,X,S,3,1", "2024-01-02,C,6,Y,N,5,1",
		"2024-01-03,B,22,X,S,3,1", "2024-01-03,C,7,Y,N,2,0",
		"2024-01-04,A,12,X,N,4,1", "2024-01-04,B,23,X,S,3,0", "2024-01-04,C,8,Y,N,5,0",
		"2024-01-05,A,13,X,N,4,1",
	}
	whole := load(t, []byte(header+strings.Join(rows, "\n")+"\n"))
	shards := map[string][]string{}
	for _, r := range rows {
		p := strings.Split(r, ",")[1]
		shards[p] = append(shards[p], r)
	}
	names := []string{"promo", "rating", "colour"}
	same := func(a, b []float64) bool {
		return slices.EqualFunc(a, b, func(x, y float64) bool { return x == y || (math.IsNaN(x) && math.IsNaN(y)) })
	}
	for _, f := range []Filter{{}, {Category: "X"}, {Region: "N", MinRating: ptr(4)}, {MinRating: ptr(3.5)}, {ProductID: "B", Region: "S"}} {
		want, err := whole.Filtered(f)
		if err != nil {
			t.Fatal(err)
		}
		wantCov, err := whole.FilteredCovariates(f, names)
		if err != nil {
			t.Fatal(err)
		}
		var sums PartialSums
		for _, p := range []string{"C", "A", "B"} {
			partial, err := load(t, []byte(header+strings.Join(shards[p], "\n")+"\n")).FilteredPartial(f, names)
			if err != nil {
				t.Fatal(err)
			}
			if err := sums.Add([]Partial{partial}); err != nil {
				t.Fatal(err)
			}
		}
		groups := sums.Groups()
		if len(groups.Series) != 1 {
			t.Fatalf("%s: %d series", f.Key(), len(groups.Series))
		}
		if got := groups.Series[0]; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: the shards give\n%+v\nthe whole\n%+v", f.Key(), got, want)
		}
		for _, name := range names {
			if got := groups.Covariates[0][name]; !same(got, wantCov[name]) {
				t.Errorf("%s %s: the shards give %v, the whole %v", f.Key(), name, got, wantCov[name])
			}
		}
	}
	if total, _ := whole.Filtered(Filter{}); len(total.Incomplete) != 1 {
		t.Fatalf("the fixture's last date should be incomplete: %+v", total)
	}
	none, err := whole.FilteredPartial(Filter{ProductID: "Z"}, names)
	if err != nil || none.Key != ProductKey("Z") || len(none.Dates) != 0 {
		t.Fatalf("no row: %+v, %v", none, err)
	}
	var sums PartialSums
	if err := sums.Add([]Partial{none}); err != nil || len(sums.Groups().Series[0].Dates) != 0 {
		t.Fatalf("the sums of no row: %+v, %v", sums.Groups(), err)
	}
	if _, err := whole.FilteredPartial(Filter{MaxPrice: ptr(math.NaN())}, nil); err == nil {
		t.Fatal("a NaN threshold gave a partial")
	}
}
