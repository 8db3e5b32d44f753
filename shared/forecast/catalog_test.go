package forecast

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/stockcast/stockcast/shared/backtest"
	"github.com/stockcast/stockcast/shared/series"
)

func TestSeriesCatalog(t *testing.T) {
	fx := testFixtures(t)
	e := newTestEngine(t, fx.set, fx.net, DefaultConfig())

	all := e.Series(SeriesQuery{Limit: MaxSeriesLimit})
	products := e.Series(SeriesQuery{Kind: KindProduct, Limit: MaxSeriesLimit})
	if products.Total != 8 || len(products.Series) != 8 { // 6 generated, PSHORT, PGONE
		t.Fatalf("%d products listed (%d in the page), want 8", products.Total, len(products.Series))
	}
	if all.Total <= products.Total || all.Series[0].Key != series.Total || all.ModelVersion != "v-test" {
		t.Fatalf("all series: total %d, first %+v, version %q", all.Total, all.Series[0], all.ModelVersion)
	}
	byKey := map[string]SeriesEntry{}
	for _, s := range all.Series {
		byKey[s.Key] = s
	}
	short, gone := byKey["product/PSHORT"], byKey["product/PGONE"]
	if short.Kind != KindProduct || short.Name != "PSHORT" || short.DaysWithData != 5 || day(short.LastDate.Time) != "2022-04-30" {
		t.Errorf("PSHORT: %+v", short)
	}
	// Without selections in the model version, model=auto backtests each series at its first forecast.
	if short.Model != AutoUnselected || short.Selection.Source != SelectionOnDemand || short.Selection.Backtest != nil || short.Selection.Why == "" {
		t.Errorf("PSHORT served by %q, %+v", short.Model, short.Selection)
	}
	if gone.DaysWithData != 40 || day(gone.LastDate.Time) != "2022-04-20" {
		t.Errorf("PGONE: %+v", gone)
	}
	if short.Aggregation != "" || byKey["region/North"].Aggregation != AggregationDirect {
		t.Errorf("aggregation: PSHORT %q, North %q", short.Aggregation, byKey["region/North"].Aggregation)
	}
	if total := byKey[series.Total]; total.Kind != KindTotal || total.DaysWithData != 120 || total.TrendFit == "" || total.Aggregation != AggregationDirect {
		t.Errorf("total: %+v", total)
	}

	// Search ignores case; pages follow each other without overlap.
	if got := e.Series(SeriesQuery{Search: "pshort", Limit: 10}); got.Total != 1 || got.Series[0].Key != "product/PSHORT" {
		t.Errorf("search pshort: %+v", got)
	}
	first := e.Series(SeriesQuery{Kind: KindProduct, Limit: 5})
	if first.NextOffset == nil || *first.NextOffset != 5 || len(first.Series) != 5 {
		t.Fatalf("first page: %+v", first)
	}
	second := e.Series(SeriesQuery{Kind: KindProduct, Limit: 5, Offset: *first.NextOffset})
	if second.NextOffset != nil || len(second.Series) != 3 || second.Series[0].Key == first.Series[4].Key {
		t.Fatalf("second page: %+v", second)
	}
}

// TestSeriesCatalogNamesTheSelection: each series' model is the one model=auto serves, from the
// refit's selections, with its backtest accuracy; a series too short to backtest says so.
func TestSeriesCatalogNamesTheSelection(t *testing.T) {
	fx := testFixtures(t)
	set := selectionSet([]float64{1, -1, 2})
	set.Unselected = map[string]string{"product/PSHORT": "5 steps: history too short to backtest"}
	e, err := NewEngine(testTable(t), fx.set, fx.net, Metadata{Version: "v", Selections: set}, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]SeriesEntry{}
	for _, s := range e.Series(SeriesQuery{Limit: MaxSeriesLimit}).Series {
		byKey[s.Key] = s
	}
	p1 := byKey["product/P0001"]
	if p1.Model != "naive" || p1.Selection.Source != SelectionPrecomputed || p1.Selection.Method != backtest.Single ||
		p1.Selection.Backtest == nil || p1.Selection.Backtest.MASE != 0.5 || p1.Selection.Backtest.WAPE != 0.1 || p1.Selection.Horizon != 3 {
		t.Errorf("P0001: %q %+v", p1.Model, p1.Selection)
	}
	resp, err := e.Forecast(context.Background(), autoRequest(func(r *Request) { r.ProductID = "P0001" }))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Selection.Choice != p1.Model || resp.Selection.Backtest.MASE != p1.Selection.Backtest.MASE {
		t.Errorf("the forecast is served by %q (%+v), the catalog says %q", resp.Selection.Choice, resp.Selection.Backtest, p1.Model)
	}
	if short := byKey["product/PSHORT"]; short.Model != backtest.Median || short.Selection.Source != SelectionNone || !strings.Contains(short.Selection.Why, "too short") {
		t.Errorf("PSHORT: %q %+v", short.Model, short.Selection)
	}
	if other := byKey["product/P0002"]; other.Model != AutoUnselected || other.Selection.Source != SelectionOnDemand || !strings.Contains(other.Selection.Why, "do not cover") {
		t.Errorf("P0002: %q %+v", other.Model, other.Selection)
	}
}

func TestParseSeriesQuery(t *testing.T) {
	q, err := ParseSeriesQuery(url.Values{"kind": {"region"}, "q": {"No"}, "limit": {"3"}, "offset": {"6"}})
	if err != nil || q != (SeriesQuery{Kind: KindRegion, Search: "No", Limit: 3, Offset: 6}) {
		t.Fatalf("%+v, %v", q, err)
	}
	if q, err := ParseSeriesQuery(url.Values{}); err != nil || q.Limit != DefaultSeriesLimit {
		t.Fatalf("defaults: %+v, %v", q, err)
	}
	_, err = ParseSeriesQuery(url.Values{"kind": {"shop"}, "limit": {"0"}, "offset": {"-1"}, "colour": {"red"}})
	var bad *RequestError
	if !errors.As(err, &bad) || len(bad.Problems) != 4 {
		t.Fatalf("want 4 problems, got %v", err)
	}
	for _, want := range []string{"colour: unknown parameter", "kind: must be", "limit: must be an integer from 1 to 1000", "offset: must be a non-negative"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
}

func TestHistory(t *testing.T) {
	fx := testFixtures(t)
	e := newTestEngine(t, fx.set, fx.net, DefaultConfig())
	h, err := e.History(context.Background(), request(func(r *Request) { r.ProductID, r.Days = "PGONE", 14 }))
	if err != nil {
		t.Fatal(err)
	}
	// PGONE's last row is 2022-04-20: 14 days up to it, every one observed.
	if h.Key != "product/PGONE" || len(h.Dates) != 14 || day(h.Dates[0].Time) != "2022-04-07" || day(h.Dates[13].Time) != "2022-04-20" || len(h.Sales) != 14 {
		t.Fatalf("%+v", h)
	}
	if h.Sales[0] != float64(20+26%7) { // the 27th of its 40 days
		t.Errorf("first value %v", h.Sales[0])
	}
	// Only dates with rows: PSHORT has 5 within the last 30 days.
	h, err = e.History(context.Background(), request(func(r *Request) { r.ProductID, r.Days = "PSHORT", 30 }))
	if err != nil || len(h.Dates) != 5 {
		t.Fatalf("PSHORT: %+v, %v", h, err)
	}
	if _, err := e.History(context.Background(), request(func(r *Request) { r.ProductID = "NOPE" })); !errors.Is(err, series.ErrNoMatch) {
		t.Fatalf("unknown product: %v", err)
	}
}
