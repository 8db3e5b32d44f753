package lstminput

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/stockcast/stockcast/shared/lstm"
	"github.com/stockcast/stockcast/shared/series"
)

func TestStandard(t *testing.T) {
	table, err := series.Load(context.Background(), strings.NewReader("date,product_id,sales,promo,price\n"+
		"2024-01-01,A,10,1,2\n"+
		"2024-01-03,A,0,0,4\n"+
		"2024-01-04,A,12,1,\n"+
		"2024-01-01,B,5,0,3\n"))
	if err != nil {
		t.Fatal(err)
	}
	names := table.Covariates()
	if !slices.Equal(names, []string{"price", "promo"}) {
		t.Fatalf("covariates %q", names)
	}
	all, err := Standard(table, names)
	if err != nil {
		t.Fatal(err)
	}
	var a lstm.Series
	for _, s := range all {
		if s.ID == series.ProductKey("A") {
			a = s
		}
	}
	nan := math.NaN()
	same := func(x, y []float64) bool {
		return slices.EqualFunc(x, y, func(p, q float64) bool { return p == q || (math.IsNaN(p) && math.IsNaN(q)) })
	}
	// The absent 2024-01-02 is not observed, the 0 of 2024-01-03 is a zero.
	if !same(a.Values, []float64{10, nan, 0, 12}) {
		t.Errorf("values %v", a.Values)
	}
	// A price is relative to its mean (3); a flag is kept.
	if len(a.Covariates) != 2 || !same(a.Covariates[0], []float64{2.0 / 3, nan, 4.0 / 3, nan}) || !same(a.Covariates[1], []float64{1, nan, 0, 1}) {
		t.Errorf("covariates %v", a.Covariates)
	}
	if _, err := FromSeries(series.Series{Key: "x", Dates: table.Standard()[0].Dates, Values: table.Standard()[0].Values},
		map[string][]float64{"promo": {1}}, []string{"promo"}); err == nil {
		t.Error("a covariate of the wrong length accepted")
	}
}

// TestProducts: the product series of Standard, the same values and covariates, without the
// total, category and region series.
func TestProducts(t *testing.T) {
	table, err := series.Load(context.Background(), strings.NewReader("date,product_id,sales,category,region,price\n"+
		"2024-01-01,A,10,X,North,2\n"+
		"2024-01-01,B,5,Y,South,3\n"+
		"2024-01-02,A,12,X,North,4\n"+
		"2024-01-02,B,6,Y,South,3\n"))
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"price"}
	all, err := Standard(table, names)
	if err != nil {
		t.Fatal(err)
	}
	products, err := Products(table, names)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range products {
		ids = append(ids, s.ID)
	}
	if want := []string{series.ProductKey("A"), series.ProductKey("B")}; !slices.Equal(ids, want) {
		t.Fatalf("product series %q, want %q", ids, want)
	}
	for _, p := range products {
		i := slices.IndexFunc(all, func(s lstm.Series) bool { return s.ID == p.ID })
		if !slices.Equal(p.Values, all[i].Values) || !slices.Equal(p.Covariates[0], all[i].Covariates[0]) || !p.Start.Equal(all[i].Start) {
			t.Errorf("%s: %+v, Standard's %+v", p.ID, p, all[i])
		}
	}
	empty, err := series.Load(context.Background(), strings.NewReader("date,product_id,sales\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Products(empty, nil); err != nil || len(got) != 0 {
		t.Errorf("products of an empty table: %v, %v", got, err)
	}
}
