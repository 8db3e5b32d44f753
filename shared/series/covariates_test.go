package series

import (
	"math"
	"slices"
	"testing"
)

func TestCovariates(t *testing.T) {
	table := load(t, []byte("date,product_id,sales,category,promo,state_holiday,price\n"+
		"2024-01-01,A,10,X,1,0,2\n"+
		"2024-01-01,B,20,X,0,a,\n"+
		"2024-01-02,A,11,X,0,,4\n"+
		"2024-01-04,B,30,Y,1,0,6\n"))
	if got, want := table.Covariates(), []string{"price", "promo", "state_holiday"}; !slices.Equal(got, want) {
		t.Fatalf("covariates %q, want %q", got, want)
	}
	names := []string{"promo", "state_holiday", "price", "colour"}
	std := table.Standard()
	covs := table.StandardCovariates(names)
	if len(covs) != len(std) {
		t.Fatalf("%d covariate sets for %d series", len(covs), len(std))
	}
	nan := math.NaN()
	want := map[string]map[string][]float64{
		Total:            {"promo": {0.5, 0, 1}, "state_holiday": {0.5, nan, 0}, "price": {2, 4, 6}},
		ProductKey("A"):  {"promo": {1, 0}, "state_holiday": {0, nan}, "price": {2, 4}},
		ProductKey("B"):  {"promo": {0, 1}, "state_holiday": {1, 0}, "price": {nan, 6}},
		CategoryKey("X"): {"promo": {0.5, 0}, "state_holiday": {0.5, nan}, "price": {2, 4}},
		CategoryKey("Y"): {"promo": {1}, "state_holiday": {0}, "price": {6}},
	}
	same := func(a, b []float64) bool {
		return slices.EqualFunc(a, b, func(x, y float64) bool { return x == y || (math.IsNaN(x) && math.IsNaN(y)) })
	}
	for i, s := range std {
		for name, w := range want[s.Key] {
			if got := covs[i][name]; len(got) != len(s.Dates)+len(s.Incomplete) || !same(got, w) {
				t.Errorf("%s %s: %v, want %v", s.Key, name, got, w)
			}
		}
		if c := covs[i]["colour"]; len(c) != len(s.Dates)+len(s.Incomplete) || !math.IsNaN(c[0]) {
			t.Errorf("%s: unknown covariate %v", s.Key, c)
		}
	}
	got, err := table.FilteredCovariates(Filter{ProductID: "B"}, names)
	if err != nil || !same(got["state_holiday"], []float64{1, 0}) || !same(got["price"], []float64{nan, 6}) {
		t.Errorf("filtered: %v, %v", got, err)
	}
	if _, err := table.FilteredCovariates(Filter{ProductID: "Z"}, names); err == nil {
		t.Error("a filter matching nothing gave covariates")
	}
}

// TestColumnCovariates: the covariates named by the columns alone are the table's when every
// known covariate has a value, and keep price and discount when no row has one.
func TestColumnCovariates(t *testing.T) {
	header := "date,product_id,sales,category,promo,state_holiday,price"
	table := load(t, []byte(header+"\n2024-01-01,A,10,X,1,0,2\n"))
	columns := []string{"date", "product_id", "sales", "category", "promo", "state_holiday", "price"}
	if got := ColumnCovariates(columns); !slices.Equal(got, table.Covariates()) {
		t.Errorf("column covariates %q, the table's %q", got, table.Covariates())
	}
	if got, want := ColumnCovariates([]string{"date", "product_id", "sales", "discount", "price", "rating"}), []string{"price", "discount"}; !slices.Equal(got, want) {
		t.Errorf("column covariates %q, want %q", got, want)
	}
	if got := ColumnCovariates([]string{"date", "product_id", "sales"}); len(got) != 0 {
		t.Errorf("column covariates of the required columns: %q", got)
	}
}
