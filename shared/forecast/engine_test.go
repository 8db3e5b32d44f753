package forecast

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stockcast/stockcast/shared/lstm"
	"github.com/stockcast/stockcast/shared/series"
	"github.com/stockcast/stockcast/shared/trend"
)

// expected is a forecast computed in the test, straight from the models.
type expected struct {
	dates               []time.Time
	trend, lower, upper []float64
	lstm                []float64
	daily               []float64
}

// expect predicts n days of the request's series after its last date with
// the trend model m and, when net is not nil, the LSTM.
func expect(t *testing.T, table *series.Table, r Request, m *trend.Model, net *lstm.Model, n int) expected {
	t.Helper()
	s, err := table.Filtered(r.Filter())
	if err != nil {
		t.Fatal(err)
	}
	last := s.Dates[len(s.Dates)-1]
	var x expected
	for i := range n {
		x.dates = append(x.dates, last.AddDate(0, 0, i+1))
	}
	f, err := m.Predict(x.dates)
	if err != nil {
		t.Fatal(err)
	}
	x.trend, x.lower, x.upper = f.Yhat, f.Lower, f.Upper
	d, err := lstm.Daily(s.Key, s.Dates, s.Values)
	if err != nil {
		t.Fatal(err)
	}
	x.daily = d.Values
	if net != nil {
		f, err := net.Forecast(lstm.Query{ID: s.Key, History: d.Values, Last: last, Horizon: n})
		if err != nil {
			t.Fatal(err)
		}
		x.lstm = f.Point
	}
	return x
}

// checkDays compares a response's days with the expected served forecast:
// the forecast, the trend interval's half-widths around it, and both parts.
func checkDays(t *testing.T, resp *Response, x expected, forecast []float64) {
	t.Helper()
	if len(resp.Days) != len(forecast) {
		t.Fatalf("%d days, want %d", len(resp.Days), len(forecast))
	}
	for i, d := range resp.Days {
		lower := forecast[i] - (x.trend[i] - x.lower[i])
		upper := forecast[i] + (x.upper[i] - x.trend[i])
		if !d.Date.Equal(x.dates[i]) || !within(d.Forecast, forecast[i]) || !within(d.Lower, lower) ||
			!within(d.Upper, upper) || !within(d.Trend, x.trend[i]) {
			t.Fatalf("day %d = %+v, want date %s forecast %v lower %v upper %v trend %v",
				i, d, day(x.dates[i]), forecast[i], lower, upper, x.trend[i])
		}
		if (d.LSTM == nil) != (x.lstm == nil) || (d.LSTM != nil && !within(*d.LSTM, x.lstm[i])) {
			t.Fatalf("day %d lstm part %v, want %v", i, d.LSTM, x.lstm)
		}
	}
}

// within accepts the rounding to 2 decimals of the response.
func within(shown, exact float64) bool { return math.Abs(shown-exact) <= 0.005+1e-9 }

func codes(ms []Message) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.Code)
	}
	return out
}

func TestStandardSeriesServedByRefitModel(t *testing.T) {
	fx := testFixtures(t)
	// A set whose model of P0001 differs from what an on-demand fit gives.
	set := trend.NewSet(fx.set.Created)
	for key, m := range fx.set.Models {
		set.Add(key, m, fx.set.Fallbacks[key])
	}
	s, err := fx.table.Filtered(series.Filter{ProductID: "P0001"})
	if err != nil {
		t.Fatal(err)
	}
	opts := trend.DefaultOptions()
	opts.Growth = trend.GrowthFlat
	opts.Weekly.Enable = trend.SwitchOff
	flat, err := trend.Fit(context.Background(), s.Dates, s.Values, opts)
	if err != nil {
		t.Fatal(err)
	}
	set.Add("product/P0001", flat, "")
	e := newTestEngine(t, set, fx.net, DefaultConfig())
	r := request(func(r *Request) { r.ProductID, r.Model, r.Days = "P0001", ModelTrend, 10 })
	resp, err := e.Forecast(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	x := expect(t, fx.table, r, flat, nil, 10)
	checkDays(t, resp, x, x.trend)
	want := SeriesInfo{Key: "product/P0001", Standard: true, Filter: Filter{ProductID: "P0001"}, HistoryPoints: 120,
		FirstDate: Date{time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)}, LastDate: Date{fixtureEnd},
		TrendModel: TrendPrecomputed, TrendFit: "lbfgs"}
	if !reflect.DeepEqual(resp.Series, want) {
		t.Fatalf("series %+v, want %+v", resp.Series, want)
	}
	if resp.Weights != (Weights{Trend: 1}) || resp.Model != ModelTrend || resp.ModelVersion != "v-test" ||
		!resp.TrainedThrough.Equal(fixtureEnd) || *resp.IntervalWidth != 0.8 {
		t.Fatalf("header %+v", resp)
	}
	if resp.Policy.DemandSigma != roundTo(flat.NoiseSigma(), 2) {
		t.Fatalf("demand sigma %v, want the trend model's noise sigma %v", resp.Policy.DemandSigma, flat.NoiseSigma())
	}
	if len(resp.Notes) != 0 || len(resp.Warnings) != 0 {
		t.Fatalf("notes %v warnings %v, want none", resp.Notes, resp.Warnings)
	}
}

func TestBlendWeights(t *testing.T) {
	fx := testFixtures(t)
	r := request(func(r *Request) { r.ProductID = "P0002" })
	m := fx.set.Models["product/P0002"]
	x := expect(t, fx.table, r, m, fx.net, r.Days)
	for _, w := range []Weights{{0.6, 0.4}, {0.3, 0.7}, {1, 0}} {
		cfg := DefaultConfig()
		cfg.TrendWeight, cfg.LSTMWeight = w.Trend, w.LSTM
		e := newTestEngine(t, fx.set, fx.net, cfg)
		resp, err := e.Forecast(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]float64, r.Days)
		for i := range want {
			want[i] = w.Trend*x.trend[i] + w.LSTM*x.lstm[i]
		}
		checkDays(t, resp, x, want)
		if resp.Weights != w || !slices.Equal(codes(resp.Notes), []string{}) {
			t.Fatalf("weights %+v notes %v, want %+v and no note", resp.Weights, resp.Notes, w)
		}
	}
}

func TestModelLSTM(t *testing.T) {
	fx := testFixtures(t)
	e := newTestEngine(t, fx.set, fx.net, DefaultConfig())
	r := request(func(r *Request) { r.Category, r.Model, r.Days = "Home", ModelLSTM, 5 })
	resp, err := e.Forecast(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	x := expect(t, fx.table, r, fx.set.Models["category/Home"], fx.net, 5)
	checkDays(t, resp, x, x.lstm)
	if resp.Weights != (Weights{LSTM: 1}) {
		t.Fatalf("weights %+v", resp.Weights)
	}
}

func TestTrendOnlyFallback(t *testing.T) {
	fx := testFixtures(t)
	cases := []struct {
		name  string
		net   *lstm.Model
		r     Request
		notes []string
	}{
		{"short series, blend", fx.net, request(func(r *Request) { r.ProductID = "PSHORT" }), []string{NoteShortHistory}},
		{"short series, lstm", fx.net, request(func(r *Request) { r.ProductID, r.Model = "PSHORT", ModelLSTM }), []string{NoteShortHistory}},
		{"no lstm, blend", nil, request(func(r *Request) { r.ProductID = "P0003" }), []string{NoteNoLSTM}},
		{"no lstm, lstm", nil, request(func(r *Request) { r.Region, r.Model = "North", ModelLSTM }), []string{NoteNoLSTM}},
		{"no lstm, trend", nil, request(func(r *Request) { r.ProductID, r.Model = "P0003", ModelTrend }), []string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newTestEngine(t, fx.set, c.net, DefaultConfig())
			resp, err := e.Forecast(context.Background(), c.r)
			if err != nil {
				t.Fatal(err)
			}
			x := expect(t, fx.table, c.r, fx.set.Models[c.r.SeriesKey()], nil, c.r.Days)
			checkDays(t, resp, x, x.trend)
			if resp.Weights != (Weights{Trend: 1}) || !slices.Equal(codes(resp.Notes), c.notes) {
				t.Fatalf("weights %+v notes %v, want trend alone and notes %v", resp.Weights, resp.Notes, c.notes)
			}
		})
	}
}

func TestNotes(t *testing.T) {
	fx := testFixtures(t)
	e := newTestEngine(t, fx.set, fx.net, DefaultConfig())
	cases := []struct {
		name  string
		r     Request
		notes []string
		start time.Time
	}{
		// One row matches: the forecast is its mean.
		{"short", request(func(r *Request) { r.ProductID, r.MaxPrice = "PSHORT", ptr(10) }),
			[]string{NoteShortHistory, NoteSeriesEndsEarly}, fixtureEnd.AddDate(0, 0, -3)},
		// An ad-hoc filter (every row): the LSTM has no scaler for it.
		{"unseen", request(func(r *Request) { r.MinRating = ptr(0) }),
			[]string{NoteLSTMUnseen}, fixtureEnd.AddDate(0, 0, 1)},
		{"ends early", request(func(r *Request) { r.ProductID = "PGONE" }),
			[]string{NoteSeriesEndsEarly}, fixtureEnd.AddDate(0, 0, -9)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, err := e.Forecast(context.Background(), c.r)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(codes(resp.Notes), c.notes) || !resp.Days[0].Date.Equal(c.start) {
				t.Fatalf("notes %v first day %s, want %v and %s", resp.Notes, day(resp.Days[0].Date.Time), c.notes, day(c.start))
			}
		})
	}
	resp, err := e.Forecast(context.Background(), cases[0].r)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Series.TrendFit != trend.MethodMean || resp.Series.TrendModel != TrendFittedOnDemand || resp.Weights.LSTM != 0 ||
		resp.Notes[0].Text != "The series has rows on 1 dates, fewer than 14: the forecast is their mean, with the interval so few values justify." {
		t.Fatalf("series %+v note %q", resp.Series, resp.Notes[0].Text)
	}
}

func TestOnDemandFitCachedOnceUnderConcurrency(t *testing.T) {
	fx := testFixtures(t)
	e := newTestEngine(t, fx.set, fx.net, DefaultConfig())
	r := request(func(r *Request) { r.Category, r.MinRating = "Home", ptr(3.5) })
	const callers = 16
	var wg sync.WaitGroup
	start := make(chan struct{})
	resps := make([]*Response, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Go(func() {
			<-start
			resps[i], errs[i] = e.Forecast(context.Background(), r)
		})
	}
	close(start)
	wg.Wait()
	for i := range callers {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !reflect.DeepEqual(resps[i], resps[0]) {
			t.Fatalf("caller %d got another answer", i)
		}
	}
	if st := e.Stats(); st != (Stats{Series: 1, Builds: 1, Hits: callers - 1}) {
		t.Fatalf("stats %+v, want one build and %d hits", st, callers-1)
	}
	if resps[0].Series.TrendModel != TrendFittedOnDemand || resps[0].Series.Standard {
		t.Fatalf("series %+v", resps[0].Series)
	}
	// The same filter with other policy parameters is the same series.
	r.Days, r.OnHand = 30, ptr(3)
	if _, err := e.Forecast(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if st := e.Stats(); st.Builds != 1 {
		t.Fatalf("stats %+v after a second request, want still one build", st)
	}
	// A new model version starts with an empty cache.
	if st := newTestEngine(t, fx.set, fx.net, DefaultConfig()).Stats(); st != (Stats{}) {
		t.Fatalf("new engine stats %+v", st)
	}
}

func TestCacheBound(t *testing.T) {
	fx := testFixtures(t)
	cfg := DefaultConfig()
	cfg.MaxCachedSeries = 2
	e := newTestEngine(t, fx.set, fx.net, cfg)
	for _, id := range []string{"P0001", "P0002", "P0003", "P0001", "P0002", "P0003"} {
		if _, err := e.Forecast(context.Background(), request(func(r *Request) { r.ProductID = id })); err != nil {
			t.Fatal(err)
		}
		if n := e.Stats().Series; n > 2 {
			t.Fatalf("%d series cached, bound 2", n)
		}
	}
	if st := e.Stats(); st.Builds < 4 {
		t.Fatalf("stats %+v: three series through a cache of two must rebuild", st)
	}
}

func TestForecastErrors(t *testing.T) {
	fx := testFixtures(t)
	e := newTestEngine(t, fx.set, fx.net, DefaultConfig())
	_, err := e.Forecast(context.Background(), request(func(r *Request) { r.ProductID = "NOPE" }))
	if !errors.Is(err, series.ErrNoMatch) {
		t.Fatalf("unknown product: %v, want series.ErrNoMatch", err)
	}
	_, err = e.Forecast(context.Background(), request(func(r *Request) { r.MinRating = ptr(99) }))
	if !errors.Is(err, series.ErrNoMatch) {
		t.Fatalf("no matching row: %v, want series.ErrNoMatch", err)
	}
	if st := e.Stats(); st.Series != 0 || st.Builds != 2 {
		t.Fatalf("stats %+v: failed series must not stay cached", st)
	}
	var re *RequestError
	if _, err := e.Forecast(context.Background(), request(func(r *Request) { r.Days = 0 })); !errors.As(err, &re) {
		t.Fatalf("invalid request: %v, want *RequestError", err)
	}
	if _, err := e.Evaluate(context.Background(), DefaultRequest(), 0); !errors.As(err, &re) || re.Problems[0].Param != "holdout" {
		t.Fatalf("holdout 0: %v, want a *RequestError naming holdout", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Forecast(ctx, DefaultRequest()); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled: %v", err)
	}
	if _, err := e.Evaluate(context.Background(), request(func(r *Request) { r.ProductID = "PSHORT" }), 5); !errors.As(err, &re) ||
		re.Problems[0].Param != "holdout" || !strings.Contains(err.Error(), "too little history") {
		t.Fatalf("holdout of the whole history: %v, want a *RequestError naming holdout", err)
	}
}

func TestNewEngine(t *testing.T) {
	fx := testFixtures(t)
	for _, cfg := range []Config{
		{TrendWeight: 0.5, LSTMWeight: 0.4, MaxCachedSeries: 1, TrendOptions: trend.DefaultOptions()},
		{TrendWeight: 1.2, LSTMWeight: -0.2, MaxCachedSeries: 1, TrendOptions: trend.DefaultOptions()},
		{TrendWeight: math.NaN(), LSTMWeight: 1, MaxCachedSeries: 1, TrendOptions: trend.DefaultOptions()},
		{TrendWeight: 1, MaxCachedSeries: 0, TrendOptions: trend.DefaultOptions()},
		{TrendWeight: 1, MaxCachedSeries: 1}, // zero trend options
	} {
		if _, err := NewEngine(fx.table, nil, nil, Metadata{}, cfg); err == nil {
			t.Errorf("config %+v accepted", cfg)
		}
	}
	if _, err := NewEngine(nil, nil, nil, Metadata{}, DefaultConfig()); err == nil {
		t.Error("nil table accepted")
	}
	e, err := NewEngine(fx.table, fx.set, fx.net, Metadata{Version: "v7"}, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	want := Info{Version: "v7", TrainedThrough: Date{fixtureEnd}, DatasetRows: 6*120 + 5 + 40,
		TrendModels: len(fx.set.Models), LSTM: true}
	if got := e.Info(); got != want {
		t.Fatalf("info %+v, want %+v", got, want)
	}
}

// TestEvaluate checks offline evaluation against a hand-run of the same
// steps: cut the series, fit the trend model on what is left, forecast the
// held-out days and score it.
func TestEvaluate(t *testing.T) {
	fx := testFixtures(t)
	e := newTestEngine(t, fx.set, fx.net, DefaultConfig())
	const holdout = 14
	r := request(func(r *Request) { r.ProductID, r.Model, r.Days = "P0003", ModelTrend, 7 })
	resp, err := e.Evaluate(context.Background(), r, holdout)
	if err != nil {
		t.Fatal(err)
	}
	s, err := fx.table.Filtered(r.Filter())
	if err != nil {
		t.Fatal(err)
	}
	cut := len(s.Dates) - holdout // one row per day
	m, err := trend.Fit(context.Background(), s.Dates[:cut], s.Values[:cut], trend.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	f, err := m.Predict(s.Dates[cut:])
	if err != nil {
		t.Fatal(err)
	}
	var sq, abs, total float64
	for i, a := range s.Values[cut:] {
		sq += (a - f.Yhat[i]) * (a - f.Yhat[i])
		abs += math.Abs(a - f.Yhat[i])
		total += a
	}
	acc := resp.Accuracy
	if acc == nil || acc.HoldoutDays != holdout || !acc.From.Equal(s.Dates[cut]) || !acc.To.Equal(fixtureEnd) ||
		!near(acc.RMSE, math.Sqrt(sq/holdout), 1e-9) || !near(acc.MAE, abs/holdout, 1e-9) || !near(*acc.WAPE, abs/total, 1e-9) {
		t.Fatalf("accuracy %+v, want rmse %v mae %v wape %v", acc, math.Sqrt(sq/holdout), abs/holdout, abs/total)
	}
	if len(resp.Days) != 7 || !resp.Days[0].Date.Equal(s.Dates[cut]) || !within(resp.Days[6].Forecast, f.Yhat[6]) {
		t.Fatalf("days %+v", resp.Days)
	}
	if !resp.Series.LastDate.Equal(s.Dates[cut-1]) || resp.Series.HistoryPoints != cut || resp.Series.TrendModel != TrendFittedOnDemand {
		t.Fatalf("series %+v", resp.Series)
	}
	// With the LSTM, which was trained through the held-out days, the answer says so.
	r.Model = ModelBlend
	resp, err = e.Evaluate(context.Background(), r, holdout)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(codes(resp.Notes), []string{NoteLSTMSawHoldout}) || resp.Weights != (Weights{0.6, 0.4}) {
		t.Fatalf("notes %v weights %+v", resp.Notes, resp.Weights)
	}
	if e.Stats().Builds != 0 {
		t.Fatal("evaluation must not fill the serving cache")
	}
}

// TestEvaluateHoldsOutDatesWithRows checks that a series with gaps (no rows at weekends, as in
// Prophet's example data) is scored on its held-out rows only: a missing date is not a zero.
func TestEvaluateHoldsOutDatesWithRows(t *testing.T) {
	var csv strings.Builder
	csv.WriteString("date,product_id,sales\n")
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC) // a Monday
	rows := 0
	for d := start; rows < 200; d = d.AddDate(0, 0, 1) {
		if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		fmt.Fprintf(&csv, "%s,A,%d\n", d.Format(time.DateOnly), 100+rows%5)
		rows++
	}
	table, err := series.Load(context.Background(), strings.NewReader(csv.String()))
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(table, nil, nil, Metadata{Version: "gaps"}, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := e.Evaluate(context.Background(), request(func(r *Request) { r.Model = ModelTrend }), 10)
	if err != nil {
		t.Fatal(err)
	}
	if acc := resp.Accuracy; acc.HoldoutDays != 10 || acc.MAE > 10 || acc.From.Weekday() == time.Saturday {
		t.Errorf("accuracy %+v: the weekends were scored as zero sales", acc)
	}
}

func TestAccuracyByHand(t *testing.T) {
	from := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	s := series.Series{Key: "k"}
	for i, v := range []float64{1, 2, 3, 4, 5, 6, 7, 8, 10, 0, 5} {
		s.Dates, s.Values = append(s.Dates, from.AddDate(0, 0, i)), append(s.Values, v)
	}
	acc := accuracy(s, 8, []float64{8, 1, 5})
	check := func(name string, got Scores, rmse, mae, wape float64) {
		t.Helper()
		if got.WAPE == nil || !near(*got.WAPE, wape, 1e-15) || !near(got.RMSE, rmse, 1e-15) || !near(got.MAE, mae, 1e-15) {
			t.Errorf("%s: %+v, want rmse %v mae %v wape %v", name, got, rmse, mae, wape)
		}
	}
	// errors 2, −1, 0: RMSE √(5/3), MAE 1, WAPE 3/15.
	check("model", acc.Scores, math.Sqrt(5.0/3), 1, 0.2)
	// naive 8, 8, 8: errors 2, −8, −3.
	check("naive", acc.Baselines[BaselineNaive], math.Sqrt(77.0/3), 13.0/3, 13.0/15)
	// the same weekday a week before: 2, 3, 4; errors 8, −3, 1.
	check("seasonal naive", acc.Baselines[BaselineSeasonalNaive], math.Sqrt(74.0/3), 4, 0.8)
	if acc.HoldoutDays != 3 || !acc.From.Equal(from.AddDate(0, 0, 8)) || !acc.To.Equal(from.AddDate(0, 0, 10)) {
		t.Errorf("accuracy %+v", acc)
	}
	zero := series.Series{Key: "z", Dates: s.Dates[:3], Values: []float64{1, 0, 0}}
	if acc := accuracy(zero, 1, []float64{1, -1}); acc.WAPE != nil || acc.RMSE != 1 || acc.MAE != 1 {
		t.Fatalf("all-zero actuals: %+v, want RMSE 1, MAE 1, no WAPE", acc)
	}
}

// TestResponseJSON pins the field names the README documents.
func TestResponseJSON(t *testing.T) {
	fx := testFixtures(t)
	e := newTestEngine(t, fx.set, fx.net, DefaultConfig())
	resp, err := e.Evaluate(context.Background(), request(func(r *Request) { r.ProductID, r.OnHand = "P0001", ptr(10) }), 7)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		t.Fatal(err)
	}
	checkKeys(t, "response", top, "model_version", "trained_through", "model", "served", "weights", "interval_width", "series",
		"days", "policy", "warnings", "notes", "accuracy")
	var parts struct {
		Weights  map[string]json.RawMessage   `json:"weights"`
		Series   map[string]json.RawMessage   `json:"series"`
		Days     []map[string]json.RawMessage `json:"days"`
		Policy   map[string]json.RawMessage   `json:"policy"`
		Warnings []map[string]json.RawMessage `json:"warnings"`
		Accuracy map[string]json.RawMessage   `json:"accuracy"`
	}
	if err := json.Unmarshal(data, &parts); err != nil {
		t.Fatal(err)
	}
	checkKeys(t, "weights", parts.Weights, "trend", "lstm")
	checkKeys(t, "series", parts.Series, "key", "standard", "filter", "history_points", "first_date", "last_date",
		"trend_model", "trend_fit")
	checkKeys(t, "day", parts.Days[0], "date", "forecast", "lower", "upper", "trend", "lstm")
	checkKeys(t, "policy", parts.Policy, "lead_time_days", "service_level", "review_days", "z", "demand_sigma",
		"mean_daily_demand", "lead_time_demand", "safety_stock", "reorder_point", "min_level", "max_level",
		"on_hand", "order_quantity", "days_of_cover")
	checkKeys(t, "warning", parts.Warnings[0], "code", "message")
	checkKeys(t, "accuracy", parts.Accuracy, "holdout_days", "from", "to", "rmse", "mae", "wape", "baselines")
	if string(top["trained_through"]) != `"2022-04-30"` || string(parts.Days[0]["date"]) != `"2022-04-24"` {
		t.Fatalf("dates: %s, %s", top["trained_through"], parts.Days[0]["date"])
	}
	var back Response
	if err := json.Unmarshal(data, &back); err != nil || !reflect.DeepEqual(&back, resp) {
		t.Fatalf("round trip: %v\n%+v\n%+v", err, back, resp)
	}
}

func checkKeys(t *testing.T, what string, m map[string]json.RawMessage, want ...string) {
	t.Helper()
	var got []string
	for k := range m {
		got = append(got, k)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("%s keys %v, want %v", what, got, want)
	}
}

// TestPredictionsMemoised checks that a series' remembered predictions give
// the answers a fresh engine gives, for more horizons than are remembered.
func TestPredictionsMemoised(t *testing.T) {
	fx := testFixtures(t)
	e := newTestEngine(t, fx.set, fx.net, DefaultConfig())
	for _, days := range []int{7, 30, 7, 1, 2, 3, 4, 5, 6, 8, 9, 10, 30, 7} {
		r := request(func(r *Request) { r.ProductID, r.Days, r.LeadTimeDays = "P0004", days, 1 })
		got, err := e.Forecast(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		want, err := newTestEngine(t, fx.set, fx.net, DefaultConfig()).Forecast(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("days %d: the warm engine answers\n%+v\na fresh one\n%+v", days, got, want)
		}
	}
	h, ok := e.cache.Peek("product/P0004")
	if !ok {
		t.Fatal("product/P0004 is not cached")
	}
	if n, m := len(h.trendMemo.m), len(h.lstmMemo.m); n != memoHorizons || m != memoHorizons {
		t.Fatalf("%d trend and %d lstm predictions kept, want %d", n, m, memoHorizons)
	}
}
