package series_test

import (
	"bytes"
	"context"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/stockcast/stockcast/shared/datagen"
	"github.com/stockcast/stockcast/shared/series"
	"github.com/stockcast/stockcast/shared/shards"
)

// TestPartialSumsAreTheWholeTablesGroups: a dataset split into shards by shards.Of, each shard's
// partials added up, gives exactly the group series Standard gives for the whole dataset —
// values, dates and the incomplete last date of a partial upload — and StandardCovariates' means.
func TestPartialSumsAreTheWholeTablesGroups(t *testing.T) {
	var buf bytes.Buffer
	// 40 products × 400 days, the last day cut after 15 products: an incomplete date.
	if err := datagen.Write(context.Background(), &buf, datagen.Config{Products: 40, Days: 400, Seed: 7, MaxRows: 40*400 - 25}); err != nil {
		t.Fatal(err)
	}
	whole := load(t, buf.Bytes())
	var want []series.Series
	var wantCovs []map[string][]float64
	covs := whole.StandardCovariates(whole.Covariates())
	for i, s := range whole.Standard() {
		if !strings.HasPrefix(s.Key, "product/") {
			want = append(want, s)
			wantCovs = append(wantCovs, covs[i])
		}
	}
	if len(want[0].Incomplete) != 1 || want[0].Incomplete[0].Products != 15 {
		t.Fatalf("the whole table's total: incomplete %+v, want its last date with 15 products", want[0].Incomplete)
	}
	for _, count := range []int{1, 4, 8} {
		lines := strings.SplitAfter(buf.String(), "\n")
		parts := make([]string, count)
		for i := range parts {
			parts[i] = lines[0]
		}
		for _, line := range lines[1:] {
			if line == "" {
				continue
			}
			k := shards.Of(strings.Split(line, ",")[1], count)
			parts[k] += line
		}
		var sums series.PartialSums
		for k := count - 1; k >= 0; k-- { // in any order
			if err := sums.Add(load(t, []byte(parts[k])).Partials()); err != nil {
				t.Fatal(err)
			}
		}
		got := sums.Groups()
		if !reflect.DeepEqual(got.Series, want) {
			t.Errorf("%d shards: the added-up partials differ from the whole table's group series", count)
			for i := range min(len(got.Series), len(want)) {
				if !reflect.DeepEqual(got.Series[i], want[i]) {
					t.Logf("first difference: %s (%d dates, incomplete %+v) vs %s (%d dates, incomplete %+v)", got.Series[i].Key, len(got.Series[i].Dates),
						got.Series[i].Incomplete, want[i].Key, len(want[i].Dates), want[i].Incomplete)
					break
				}
			}
		}
		for i := range min(len(got.Covariates), len(wantCovs)) {
			for _, name := range whole.Covariates() {
				if !slices.EqualFunc(got.Covariates[i][name], wantCovs[i][name], near) {
					t.Errorf("%d shards: %s: covariate %s differs", count, want[i].Key, name)
				}
			}
		}
	}
}

func TestPartialSumsRefuseMalformedPartials(t *testing.T) {
	p := load(t, []byte("date,product_id,sales\n2024-01-01,A,1\n2024-01-02,A,2\n")).Partials()
	p[0].Rows = p[0].Rows[:1]
	var sums series.PartialSums
	if err := sums.Add(p); err == nil {
		t.Error("a partial with fewer row counts than dates accepted")
	}
	q := load(t, []byte("date,product_id,sales\n2024-01-01,A,1\n2024-01-02,A,2\n")).Partials()
	q[0].Dates[0], q[0].Dates[1] = q[0].Dates[1], q[0].Dates[0]
	if err := sums.Add(q); err == nil {
		t.Error("a partial with dates out of order accepted")
	}
	if len(sums.Groups().Series) != 0 {
		t.Error("a refused partial was added")
	}
}

func near(a, b float64) bool {
	return (math.IsNaN(a) && math.IsNaN(b)) || math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b))
}

func load(t *testing.T, data []byte) *series.Table {
	t.Helper()
	table, err := series.Load(context.Background(), bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return table
}
