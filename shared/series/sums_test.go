package series

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

// TestSumsOverPartsAreTheWhole splits a dataset by product into parts and checks that the sums
// of each part added up give the series and covariate means of the whole table, the
// completeness rule included (the latest date has rows for one product of three).
func TestSumsOverPartsAreTheWhole(t *testing.T) {
	header := "date,product_id,sales,category,region,rating,promo\n"
	rows := []string{
		"2024-01-01,A,10,X,N,4,1", "2024-01-01,B,20,X,S,3,0", "2024-01-01,C,5,Y,N,5,",
		"2024-01-02,A,11,X,N,4,0", "2024-01-02,B,21,X,S,3,1", "2024-01-02,C,6,Y,N,5,1",
		"2024-01-03,B,22,X,S,3,1", "2024-01-03,C,7,Y,N,2,0",
		"2024-01-04,A,12,X,N,4,1", "2024-01-04,B,23,X,S,3,0", "2024-01-04,C,8,Y,N,5,0",
		"2024-01-05,A,13,X,N,4,1",
	}
	whole := load(t, []byte(header+strings.Join(rows, "\n")+"\n"))
	parts := map[string][]string{}
	for _, r := range rows {
		p := strings.Split(r, ",")[1]
		parts[p] = append(parts[p], r)
	}
	names := []string{"promo", "rating", "colour"}
	for _, f := range []Filter{{}, {Category: "X"}, {Region: "N", MinRating: ptr(4)}, {MinRating: ptr(3.5)}, {ProductID: "B", Region: "S"}} {
		wantS, err := whole.Filtered(f)
		if err != nil {
			t.Fatal(err)
		}
		wantSums, err := whole.FilteredSums(f, names)
		if err != nil {
			t.Fatal(err)
		}
		_, wantCov, _ := wantSums.Series()
		var total *Sums
		for _, p := range []string{"C", "A", "B"} {
			sums, err := load(t, []byte(header+strings.Join(parts[p], "\n")+"\n")).FilteredSums(f, names)
			if err != nil {
				t.Fatal(err)
			}
			if total == nil {
				total = sums
			} else if err := total.Add(sums); err != nil {
				t.Fatal(err)
			}
		}
		gotS, gotCov, err := total.Series()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(gotS, wantS) {
			t.Errorf("%s: parts give\n%+v\nthe whole\n%+v", f.Key(), gotS, wantS)
		}
		for _, name := range names {
			if !sameFloats(gotCov[name], wantCov[name]) {
				t.Errorf("%s %s: parts give %v, the whole %v", f.Key(), name, gotCov[name], wantCov[name])
			}
		}
	}
	if whole, _ := whole.Filtered(Filter{}); len(whole.Incomplete) != 1 {
		t.Fatalf("the fixture's last date should be incomplete: %+v", whole)
	}
	none, err := whole.FilteredSums(Filter{ProductID: "Z"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := none.Series(); !errors.Is(err, ErrNoMatch) {
		t.Fatalf("no row: %v, want ErrNoMatch", err)
	}
	other, _ := whole.FilteredSums(Filter{Category: "X"}, nil)
	if err := none.Add(other); err == nil {
		t.Fatal("the sums of two filters added up")
	}
}

func sameFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}
