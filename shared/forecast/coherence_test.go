package forecast

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stockcast/stockcast/shared/series"
)

// TestPartialUploadKeepsGroupsCoherent uploads one product's new week, and only that: the total's
// forecast — and its category's, and an ad-hoc filter's — may change by no more than that
// product's own forecast does, with the models refitted on the new dataset as the refit step
// does, for the blend and for model=auto (each series backtested on its new history). Groups are
// forecast directly (Response.Series.Aggregation): the test holds because their history ends
// at their last complete date. (Its region, North, is that product and one with five days of
// history: the product's.)
func TestPartialUploadKeepsGroupsCoherent(t *testing.T) {
	fx := testFixtures(t)
	before := fx.table
	var week strings.Builder
	for _, line := range strings.Split(fixtureCSV(), "\n") {
		// P0001's last week again, a week later.
		if strings.Contains(line, ",P0001,") && line[:10] > day(fixtureEnd.AddDate(0, 0, -7)) {
			d, err := time.Parse(time.DateOnly, line[:10])
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&week, "%s%s\n", day(d.AddDate(0, 0, 7)), line[10:])
		}
	}
	after, err := series.Load(context.Background(), strings.NewReader(fixtureCSV()+week.String()))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(week.String(), "\n"); n != 7 {
		t.Fatalf("the new week has %d rows", n)
	}
	forecasts := func(table *series.Table, r Request) *Response {
		set, err := fitStandard(table)
		if err != nil {
			t.Fatal(err)
		}
		e, err := NewEngine(table, set, fx.net, Metadata{Version: "v"}, DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		resp, err := e.Forecast(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	change := func(r Request) (float64, *Response) {
		a, b := forecasts(before, r), forecasts(after, r)
		// Compare the same calendar days: the forecasts of the days both cover.
		var most float64
		for _, d := range b.Days {
			if i := slices.IndexFunc(a.Days, func(x Day) bool { return x.Date.Equal(d.Date.Time) }); i >= 0 {
				most = math.Max(most, math.Abs(d.Forecast-a.Days[i].Forecast))
			}
		}
		return most, b
	}
	for _, of := range []func(func(*Request)) Request{request, autoRequest} {
		checkCoherence(t, of, change, week.String())
	}
}

// checkCoherence compares the change of P0001's forecast with its groups' for requests of one model.
func checkCoherence(t *testing.T, request func(func(*Request)) Request, change func(Request) (float64, *Response), week string) {
	t.Helper()
	product, own := change(request(func(r *Request) { r.ProductID, r.Days = "P0001", 14 }))
	if own.Series.Aggregation != "" {
		t.Errorf("a product's series has aggregation %q", own.Series.Aggregation)
	}
	if product == 0 {
		t.Fatal("the product's own forecast did not change: the test shows nothing")
	}
	row := strings.Split(week, "\n")[0]
	fields := strings.Split(row, ",")
	for _, r := range []Request{
		request(func(r *Request) { r.Days = 14 }),
		request(func(r *Request) { r.Category, r.Days = fields[3], 14 }),
		request(func(r *Request) { r.Category, r.MinRating, r.Days = fields[3], ptr(0), 14 }),
	} {
		group, resp := change(r)
		if group > product {
			t.Errorf("%s, model %s: its forecast changed by up to %.2f a day, more than P0001's own %.2f", r.SeriesKey(), r.Model, group, product)
		}
		if resp.Series.Aggregation != AggregationDirect {
			t.Errorf("%s: aggregation %q", r.SeriesKey(), resp.Series.Aggregation)
		}
		if !slices.Contains(codes(resp.Notes), NoteIncompleteDates) || !resp.Series.LastDate.Equal(fixtureEnd) {
			t.Errorf("%s: last date %s, notes %v: want the history to end on %s and say why", r.SeriesKey(), day(resp.Series.LastDate.Time), resp.Notes, day(fixtureEnd))
		}
	}
}
