package forecast

import (
	"context"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stockcast/stockcast/shared/backtest"
	"github.com/stockcast/stockcast/shared/series"
)

func autoRequest(change func(*Request)) Request {
	r := DefaultRequest()
	if change != nil {
		change(&r)
	}
	return r
}

func TestAutoIsTheDefaultAndSaysWhatServed(t *testing.T) {
	fx := testFixtures(t)
	e := newTestEngine(t, fx.set, fx.net, DefaultConfig())
	resp, err := e.Forecast(context.Background(), autoRequest(func(r *Request) { r.ProductID, r.Days, r.OnHand = "P0001", 14, ptr(5) }))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Model != ModelAuto || resp.Selection == nil || resp.Selection.Source != SelectionOnDemand ||
		resp.Selection.Backtest == nil || resp.Selection.CalibrationErrors != 56 || resp.Selection.Origins != 2 { // 120 days: 2 origins × 28
		t.Fatalf("model %s selection %+v", resp.Model, resp.Selection)
	}
	var sum float64
	for _, s := range resp.Served {
		sum += s.Weight
		if s.Backtest == nil || !(s.Backtest.MASE > 0) || s.Fitted == "" {
			t.Errorf("served %+v without its backtest", s)
		}
	}
	if math.Abs(sum-1) > 1e-3 || len(resp.Served) == 0 { // weights are rounded to 4 decimals
		t.Errorf("served %+v: weights sum to %v", resp.Served, sum)
	}
	for i, d := range resp.Days {
		if !(d.Lower <= d.Forecast && d.Forecast <= d.Upper) || len(d.Models) != len(resp.Served) {
			t.Fatalf("day %d: %+v", i, d)
		}
		if want := fixtureEnd.AddDate(0, 0, i+1); !d.Date.Equal(want) {
			t.Fatalf("day %d is %s", i, d.Date)
		}
	}
	if ServedBy(resp) != "auto: "+resp.Selection.Choice || *resp.IntervalWidth != IntervalLevel {
		t.Errorf("served by %q, interval width %v", ServedBy(resp), *resp.IntervalWidth)
	}
	if resp.Policy.SafetyStock < 0 || resp.Policy.ReorderPoint < resp.Policy.LeadTimeDemand || len(resp.Warnings) == 0 {
		t.Errorf("policy %+v warnings %v", resp.Policy, resp.Warnings)
	}
}

// selectionSet is a Set serving the naive forecast for product P0001 with known backtest errors.
func selectionSet(errors []float64) *backtest.Set {
	cal := backtest.Calibration{Horizon: len(errors)}
	for i, e := range errors {
		cal.Window, cal.Step, cal.Error = append(cal.Window, 0), append(cal.Step, i), append(cal.Error, e)
	}
	sc := backtest.Scores{MASE: 0.5, WAPE: 0.1, RMSE: 2, Points: len(errors)}
	return &backtest.Set{Format: backtest.SetFormat, Frequency: "daily", Selections: map[string]*backtest.Selection{
		"product/P0001": {Method: backtest.Single, Models: []string{"naive"}, Weights: []float64{1}, Horizon: len(errors), Origins: 1,
			Scores: sc, Candidates: map[string]backtest.Result{"naive": {Scores: &sc, Model: "naive"}}, Calibration: cal},
	}}
}

func TestAutoServesTheRefitSelectionWithItsCalibration(t *testing.T) {
	fx := testFixtures(t)
	errs := make([]float64, 40)
	for i := range errs {
		errs[i] = float64(i%10) - 2 // −2 … 7, four times
	}
	e, err := NewEngine(testTable(t), fx.set, fx.net, Metadata{Version: "v", Selections: selectionSet(errs)}, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	r := autoRequest(func(r *Request) { r.ProductID, r.LeadTimeDays, r.ServiceLevel = "P0001", 1, 0.9 })
	resp, err := e.Forecast(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := testTable(t).Filtered(r.Filter())
	last := s.Values[len(s.Values)-1]
	if resp.Selection.Source != SelectionPrecomputed || resp.Selection.Choice != "naive" || len(resp.Served) != 1 ||
		resp.Served[0].Backtest.MASE != 0.5 {
		t.Fatalf("selection %+v served %+v", resp.Selection, resp.Served)
	}
	sorted := slices.Sorted(slices.Values(errs))
	// The conformal 10% and 90% quantiles of the 40 errors: ranks 4.1 and 36.9 (R's type 7 at (41p−1)/39).
	lo, hi := quantile7(sorted, (41*0.1-1)/39), quantile7(sorted, (41*0.9-1)/39)
	for _, d := range resp.Days {
		if d.Forecast != roundTo(last, 2) || d.Lower != roundTo(last+lo, 2) || d.Upper != roundTo(last+hi, 2) {
			t.Fatalf("day %+v, want %v [%v, %v]", d, last, last+lo, last+hi)
		}
	}
	// One lead day: the safety stock is the 90% conformal quantile of the one-day errors.
	if got, want := resp.Policy.SafetyStock, roundTo(quantile7(sorted, (41*0.9-1)/39), 2); got != want {
		t.Errorf("safety stock %v, want %v", got, want)
	}
	if resp.Policy.ReorderPoint != roundTo(last+quantile7(sorted, (41*0.9-1)/39), 2) {
		t.Errorf("reorder point %v", resp.Policy.ReorderPoint)
	}
}

func quantile7(sorted []float64, p float64) float64 {
	h := p * float64(len(sorted)-1)
	lo := int(math.Floor(h))
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}

func TestForcedStatisticalModels(t *testing.T) {
	fx := testFixtures(t)
	e := newTestEngine(t, fx.set, fx.net, DefaultConfig())
	for _, m := range []Model{ModelETS, ModelTheta, ModelNaive, ModelSNaive, ModelMean} {
		resp, err := e.Forecast(context.Background(), autoRequest(func(r *Request) { r.ProductID, r.Model = "P0002", m }))
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		if resp.Selection != nil || len(resp.Served) != 1 || resp.Served[0].Model != string(m) || resp.Served[0].Weight != 1 ||
			!slices.Contains(codes(resp.Notes), NoteOwnInterval) {
			t.Errorf("%s: served %+v notes %v", m, resp.Served, codes(resp.Notes))
		}
	}
	// Croston needs zero days; P0002 sells every day: a 400 naming the model.
	_, err := e.Forecast(context.Background(), autoRequest(func(r *Request) { r.ProductID, r.Model = "P0002", ModelCroston }))
	var re *RequestError
	if !asRequestError(err, &re) || !strings.Contains(re.Error(), "croston cannot forecast") {
		t.Errorf("croston on a series without zeros: %v", err)
	}
}

func asRequestError(err error, target **RequestError) bool {
	re, ok := err.(*RequestError)
	if ok {
		*target = re
	}
	return ok
}

func TestAutoOnAShortSeriesIsTheMedianOfWhatFits(t *testing.T) {
	fx := testFixtures(t)
	e := newTestEngine(t, fx.set, fx.net, DefaultConfig())
	resp, err := e.Forecast(context.Background(), autoRequest(func(r *Request) { r.ProductID = "PSHORT" }))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Selection.Source != SelectionNone || !slices.Contains(codes(resp.Notes), NoteNotBacktested) || len(resp.Served) < 2 {
		t.Errorf("selection %+v notes %v served %+v", resp.Selection, codes(resp.Notes), resp.Served)
	}
}

func TestAutoEvaluationBacktestsOnlyTheHistoryBeforeTheCut(t *testing.T) {
	fx := testFixtures(t)
	e, err := NewEngine(testTable(t), fx.set, fx.net, Metadata{Version: "v", Selections: selectionSet([]float64{1, 2, 3})}, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := e.Evaluate(context.Background(), autoRequest(func(r *Request) { r.ProductID = "P0001" }), 14)
	if err != nil {
		t.Fatal(err)
	}
	// The refit's selection saw the held-out days: evaluation backtests again before the cut.
	if resp.Selection.Source != SelectionOnDemand || resp.Accuracy == nil || resp.Accuracy.HoldoutDays != 14 || len(resp.Days) != 7 {
		t.Fatalf("selection %+v accuracy %+v days %d", resp.Selection, resp.Accuracy, len(resp.Days))
	}
}

func TestWeeklySeriesForecastWeeks(t *testing.T) {
	var b strings.Builder
	b.WriteString("date,product_id,sales\n")
	start := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC) // a Friday
	for i := range 120 {
		b.WriteString(day(start.AddDate(0, 0, 7*i)) + ",W1," + strconvF(100+10*math.Sin(float64(i)/3)) + "\n")
	}
	table, err := series.Load(context.Background(), strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewEngine(table, nil, nil, Metadata{Version: "w"}, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := e.Forecast(context.Background(), autoRequest(func(r *Request) { r.ProductID, r.Days, r.LeadTimeDays = "W1", 4, 14 }))
	if err != nil {
		t.Fatal(err)
	}
	last := start.AddDate(0, 0, 7*119)
	for i, d := range resp.Days {
		if want := last.AddDate(0, 0, 7*(i+1)); !d.Date.Equal(want) {
			t.Fatalf("step %d dated %s, want %s", i, d.Date, want)
		}
	}
	if !slices.Contains(codes(resp.Notes), NoteWeeklySteps) || resp.Selection.Horizon != 8 {
		t.Errorf("notes %v selection %+v", codes(resp.Notes), resp.Selection)
	}
	// Two weeks of lead time: the daily demand is a weekly forecast over 7.
	if want := (resp.Days[0].Forecast + resp.Days[1].Forecast) / 14; math.Abs(resp.Policy.MeanDailyDemand-want) > 0.01 {
		t.Errorf("mean daily demand %v, want %v", resp.Policy.MeanDailyDemand, want)
	}
}

func strconvF(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// TestAutoServesAnLSTMSelection: a selection with the LSTM, alone or weighted with another
// model, is served from the served LSTM, and the response says so.
func TestAutoServesAnLSTMSelection(t *testing.T) {
	fx := testFixtures(t)
	sc := backtest.Scores{MASE: 0.4, WAPE: 0.1, RMSE: 2, Points: 7}
	naive := backtest.Scores{MASE: 0.6, WAPE: 0.15, RMSE: 3, Points: 7}
	cal := backtest.Calibration{Horizon: 7}
	for i := range 7 {
		cal.Window, cal.Step, cal.Error = append(cal.Window, 0), append(cal.Step, i), append(cal.Error, float64(i%3-1))
	}
	cands := map[string]backtest.Result{"lstm": {Scores: &sc, Model: "global LSTM"}, "naive": {Scores: &naive, Model: "naive"}}
	set := &backtest.Set{Format: backtest.SetFormat, Frequency: "daily", Selections: map[string]*backtest.Selection{
		"product/P0001": {Method: backtest.Weighted, Models: []string{"lstm", "naive"}, Weights: []float64{0.6, 0.4}, Horizon: 7, Origins: 1,
			Scores: sc, Candidates: cands, Calibration: cal},
		"product/P0002": {Method: backtest.Single, Models: []string{"lstm"}, Weights: []float64{1}, Horizon: 7, Origins: 1,
			Scores: sc, Candidates: cands, Calibration: cal},
	}}
	e, err := NewEngine(testTable(t), fx.set, fx.net, Metadata{Version: "v", Selections: set}, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		product string
		weight  float64
	}{{"P0001", 0.6}, {"P0002", 1}} {
		resp, err := e.Forecast(context.Background(), autoRequest(func(r *Request) { r.ProductID = tc.product }))
		if err != nil {
			t.Fatal(err)
		}
		forced, err := e.Forecast(context.Background(), autoRequest(func(r *Request) { r.ProductID, r.Model = tc.product, ModelLSTM }))
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(resp.Served, func(m ServedModel) bool { return m.Model == "lstm" })
		if i < 0 || resp.Served[i].Weight != tc.weight || resp.Served[i].Backtest == nil || resp.Served[i].Backtest.MASE != 0.4 ||
			!strings.Contains(resp.Served[i].Fitted, "LSTM") || resp.Weights.LSTM != tc.weight || resp.Selection.Source != SelectionPrecomputed {
			t.Fatalf("%s: served %+v weights %+v selection %+v notes %v", tc.product, resp.Served, resp.Weights, resp.Selection, codes(resp.Notes))
		}
		for j, d := range resp.Days {
			if d.LSTM == nil || *d.LSTM != *forced.Days[j].LSTM || d.Models["lstm"] != *d.LSTM {
				t.Fatalf("%s day %d: auto's LSTM part %v (models %v), the served LSTM's %v", tc.product, j, d.LSTM, d.Models, forced.Days[j].LSTM)
			}
			want := *d.LSTM
			if tc.weight != 1 {
				want = 0.6**d.LSTM + 0.4*d.Models["naive"]
			}
			if math.Abs(d.Forecast-want) > 0.011 || d.Forecast < 0 || d.Lower < 0 {
				t.Errorf("%s day %d: forecast %v [%v, %v], want %v and nothing negative", tc.product, j, d.Forecast, d.Lower, d.Upper, want)
			}
		}
	}
	// Offline evaluation cuts the history: the served LSTM saw the held-out days, so it is not
	// backtested or served there.
	resp, err := e.Evaluate(context.Background(), autoRequest(func(r *Request) { r.ProductID = "P0002" }), 14)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Selection.Source != SelectionOnDemand || strings.Contains(resp.Selection.Choice, "lstm") || resp.Weights.LSTM != 0 {
		t.Errorf("evaluation: selection %+v weights %+v", resp.Selection, resp.Weights)
	}
}

// endingContext reports itself cancelled from its check number after+1 on.
type endingContext struct {
	context.Context
	after, calls int
}

func (c *endingContext) Err() error {
	c.calls++
	if c.calls > c.after {
		return context.Canceled
	}
	return nil
}

func TestAutoStoppedByTheContextIsNotKept(t *testing.T) {
	fx := testFixtures(t)
	e := newTestEngine(t, fx.set, fx.net, DefaultConfig())
	r := autoRequest(func(r *Request) { r.ProductID = "P0001" })
	// Cancelled in the middle of the on-demand backtest (or of the fits before it).
	ctx := &endingContext{Context: t.Context(), after: 200}
	if _, err := e.Forecast(ctx, r); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled after %d checks: %v", ctx.after, err)
	}
	// After the check that saw it, only the layers that wrap the error read it again.
	if ctx.calls > ctx.after+8 {
		t.Errorf("%d checks after cancelling at %d: work went on", ctx.calls, ctx.after)
	}
	// Nothing of the stopped request is kept: the next one backtests and answers.
	resp, err := e.Forecast(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Selection == nil || resp.Selection.Source != SelectionOnDemand {
		t.Errorf("selection %+v after a cancelled request", resp.Selection)
	}
}
