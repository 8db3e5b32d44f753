package trend

import (
	"math"
	"slices"
	"testing"
	"time"
)

// Prophet's test_fit_predict: train on all but the last 30 rows of Prophet's
// test data, forecast those 30, compare the RMSE with the figure Prophet's
// own test asserts (pytest.approx(expected, 0.1): within 10%).
func TestFitPredictMatchesProphetTestData(t *testing.T) {
	ds, y := loadCSV(t, "prophet_data.csv")
	n := len(ds) - 30
	for _, c := range []struct {
		scaling Scaling
		prophet float64
	}{{ScalingAbsMax, 10.64}, {ScalingMinMax, 11.13}} {
		o := DefaultOptions()
		o.Scaling = c.scaling
		m, err := Fit(ds[:n], y[:n], o)
		if err != nil {
			t.Fatal(err)
		}
		fc, err := m.Predict(ds[n:])
		if err != nil {
			t.Fatal(err)
		}
		got := rmse(fc.Yhat, y[n:])
		t.Logf("%s: RMSE %.3f, Prophet %.2f (%+.1f%%); %+v", c.scaling, got, c.prophet, 100*(got/c.prophet-1), m.FitInfo())
		if math.Abs(got/c.prophet-1) > 0.1 {
			t.Errorf("%s: RMSE %.3f, Prophet's test expects %.2f ± 10%%", c.scaling, got, c.prophet)
		}
		if !slices.Equal(m.Seasonalities(), []string{"weekly"}) {
			t.Errorf("seasonalities %v, want [weekly] (history under two years)", m.Seasonalities())
		}
	}
}

// Prophet's test_fit_predict_large_numbers with minmax scaling (41 training
// rows; Prophet fits those with Stan's Newton method, this package with
// L-BFGS). The absmax variant is not asserted: see the package doc.
func TestFitPredictLargeNumbersMinMax(t *testing.T) {
	ds, y := loadCSV(t, "prophet_data3.csv")
	n := len(ds) - 30
	o := DefaultOptions()
	o.Scaling = ScalingMinMax
	m, err := Fit(ds[:n], y[:n], o)
	if err != nil {
		t.Fatal(err)
	}
	fc, err := m.Predict(ds[n:])
	if err != nil {
		t.Fatal(err)
	}
	got := rmse(fc.Yhat, y[n:])
	t.Logf("minmax: RMSE %.3f, Prophet 93.45", got)
	if math.Abs(got/93.45-1) > 0.05 {
		t.Errorf("RMSE %.3f, Prophet's test expects 93.45", got)
	}
}

func componentRMSE(f *Forecast, name string, want func(i int) float64) float64 {
	var s float64
	for i, v := range f.Components[name] {
		s += (v - want(i)) * (v - want(i))
	}
	return math.Sqrt(s / float64(len(f.Components[name])))
}

// A trend break, a weekly and a yearly cycle are recovered from three noisy years.
func TestRecoversAdditiveComponents(t *testing.T) {
	n := 3 * 365
	ds, y, clean := retailSeries(n, 21, 2, false)
	m, err := Fit(ds, y, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.Seasonalities(), []string{"yearly", "weekly"}) {
		t.Fatalf("seasonalities %v", m.Seasonalities())
	}
	f, err := m.Predict(ds)
	if err != nil {
		t.Fatal(err)
	}
	brk := int(0.6 * float64(n))
	slopeBefore := (f.Trend[brk-60] - f.Trend[60]) / float64(brk-120)
	slopeAfter := (f.Trend[n-1] - f.Trend[brk+60]) / float64(n-1-brk-60)
	weekly := componentRMSE(f, "weekly", func(i int) float64 { return 10 * math.Sin(2*math.Pi*float64(i)/7) })
	yearly := componentRMSE(f, "yearly", func(i int) float64 { return 20 * math.Cos(2*math.Pi*float64(i)/365.25) })
	fit := rmse(f.Yhat, clean)
	t.Logf("slopes %.3f → %.3f, weekly RMSE %.3f, yearly RMSE %.3f, yhat RMSE %.3f, sigma %.3f",
		slopeBefore, slopeAfter, weekly, yearly, fit, m.NoiseSigma())
	if math.Abs(slopeBefore-0.05) > 0.02 || math.Abs(slopeAfter-0.30) > 0.03 {
		t.Errorf("trend slopes %.3f → %.3f, want 0.05 → 0.30", slopeBefore, slopeAfter)
	}
	if weekly > 0.5 || yearly > 2 || fit > 1.5 {
		t.Errorf("components off: weekly %.3f, yearly %.3f, yhat %.3f", weekly, yearly, fit)
	}
	if s := m.NoiseSigma(); math.Abs(s-2) > 0.25 {
		t.Errorf("noise sigma %.3f, want about 2", s)
	}
	add := f.Components["additive_terms"]
	for i := range f.Yhat {
		if math.Abs(f.Yhat[i]-(f.Trend[i]+add[i])) > 1e-9 || f.Components["multiplicative_terms"][i] != 0 {
			t.Fatalf("row %d: yhat %v is not trend %v + additive terms %v", i, f.Yhat[i], f.Trend[i], add[i])
		}
	}
}

func TestRecoversMultiplicativeComponents(t *testing.T) {
	n := 3 * 365
	ds, y, clean := retailSeries(n, 22, 1, true)
	o := DefaultOptions()
	o.SeasonalityMode = Multiplicative
	m, err := Fit(ds, y, o)
	if err != nil {
		t.Fatal(err)
	}
	f, err := m.Predict(ds)
	if err != nil {
		t.Fatal(err)
	}
	weekly := componentRMSE(f, "weekly", func(i int) float64 { return 0.10 * math.Sin(2*math.Pi*float64(i)/7) })
	yearly := componentRMSE(f, "yearly", func(i int) float64 { return 0.20 * math.Cos(2*math.Pi*float64(i)/365.25) })
	fit := rmse(f.Yhat, clean)
	t.Logf("weekly RMSE %.4f, yearly RMSE %.4f, yhat RMSE %.3f, sigma %.3f", weekly, yearly, fit, m.NoiseSigma())
	if weekly > 0.01 || yearly > 0.03 || fit > 1 {
		t.Errorf("components off: weekly %.4f, yearly %.4f, yhat %.3f", weekly, yearly, fit)
	}
	mult := f.Components["multiplicative_terms"]
	for i := range f.Yhat {
		if math.Abs(f.Yhat[i]-f.Trend[i]*(1+mult[i])) > 1e-9 || f.Components["additive_terms"][i] != 0 {
			t.Fatalf("row %d: yhat %v is not trend·(1+mult)", i, f.Yhat[i])
		}
	}
}

// A trend that keeps its final slope is extrapolated.
func TestForecastsHeldOutTrend(t *testing.T) {
	n := 3*365 + 60
	ds, y, clean := retailSeries(n, 23, 2, false)
	m, err := Fit(ds[:n-60], y[:n-60], DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	f, err := m.Predict(m.FutureDates(60))
	if err != nil {
		t.Fatal(err)
	}
	if !f.Dates[0].Equal(ds[n-60]) {
		t.Fatalf("first future date %v, want %v", f.Dates[0], ds[n-60])
	}
	e := rmse(f.Yhat, clean[n-60:])
	t.Logf("60-day RMSE against the noise-free series %.2f", e)
	if e > 4 {
		t.Errorf("60-day RMSE against the noise-free series %.2f", e)
	}
}

// Prophet's test_fit_predict_constant_history: a constant history predicts
// the constant exactly, with Prophet's shortcut (no optimisation).
func TestConstantHistory(t *testing.T) {
	for _, growth := range []Growth{GrowthLinear, GrowthFlat} {
		for _, scaling := range []Scaling{ScalingAbsMax, ScalingMinMax} {
			for _, c := range []float64{0, 20, -3.5} {
				o := DefaultOptions()
				o.Growth, o.Scaling = growth, scaling
				ds := days("2020-01-01", 100)
				y := make([]float64, len(ds))
				for i := range y {
					y[i] = c
				}
				m, err := Fit(ds, y, o)
				if err != nil {
					t.Fatal(err)
				}
				f, err := m.Predict(m.FutureDates(30))
				if err != nil {
					t.Fatal(err)
				}
				if m.FitInfo().Method != "constant" || f.Yhat[29] != c || math.Abs(f.Upper[29]-c) > 1e-6 {
					t.Errorf("%s %s %v: method %s, yhat %v, upper %v", growth, scaling, c, m.FitInfo().Method, f.Yhat[29], f.Upper[29])
				}
			}
		}
	}
}

// Prophet's test_flat_growth: 56 days of 30 + sin(8x).
func TestFlatGrowth(t *testing.T) {
	for _, scaling := range []Scaling{ScalingAbsMax, ScalingMinMax} {
		ds := days("2020-01-01", 56)
		y := make([]float64, len(ds))
		for i := range y {
			y[i] = 30 + math.Sin(8*2*math.Pi*float64(i)/55)
		}
		o := DefaultOptions()
		o.Growth, o.Scaling = GrowthFlat, scaling
		m, err := Fit(ds, y, o)
		if err != nil {
			t.Fatal(err)
		}
		f, err := m.Predict(append(slices.Clone(ds), m.FutureDates(10)...))
		if err != nil {
			t.Fatal(err)
		}
		p := m.Params()
		level := p.M*m.yScale + m.yMin
		for _, v := range f.Trend {
			if v != f.Trend[0] {
				t.Fatalf("%s: trend not flat", scaling)
			}
		}
		if p.K != 0 || math.Abs(f.Trend[0]-level) > 1e-12 || math.Round(level) != 30 {
			t.Errorf("%s: k %v, trend %v, level %v", scaling, p.K, f.Trend[0], level)
		}
	}
}

// Prophet's test_fit_predict_no_changepoints: the dummy changepoint's rate
// change is folded into k.
func TestNoChangepoints(t *testing.T) {
	ds := days("2020-01-01", 200)
	y := make([]float64, len(ds))
	for i := range y {
		y[i] = 5 + 0.1*float64(i) + math.Sin(float64(i))
	}
	o := DefaultOptions()
	o.NChangepoints = 0
	m, err := Fit(ds, y, o)
	if err != nil {
		t.Fatal(err)
	}
	p := m.Params()
	if !slices.Equal(p.Delta, []float64{0}) || !slices.Equal(m.cps, []float64{0}) {
		t.Fatalf("delta %v at %v, want the dummy [0] at [0]", p.Delta, m.cps)
	}
	if slope := p.K * m.yScale / 199; math.Abs(slope-0.1) > 0.005 {
		t.Errorf("slope %v per day, want 0.1", slope)
	}
}

// Input order does not matter: the history is sorted as Prophet sorts it.
func TestUnsortedInputGivesSameModel(t *testing.T) {
	ds, y, _ := retailSeries(120, 9, 3, false)
	a, err := Fit(ds, y, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	rds, ry := slices.Clone(ds), slices.Clone(y)
	slices.Reverse(rds)
	slices.Reverse(ry)
	b, err := Fit(rds, ry, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	fa, _ := a.Predict(a.FutureDates(7))
	fb, _ := b.Predict(b.FutureDates(7))
	if !slices.Equal(fa.Yhat, fb.Yhat) || !slices.Equal(fa.Upper, fb.Upper) {
		t.Fatalf("reversed input changed the forecast: %v vs %v", fa.Yhat, fb.Yhat)
	}
}

func TestHistoryAccessors(t *testing.T) {
	ds, y := loadCSV(t, "prophet_data.csv")
	m, err := Fit(ds, y, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if !m.HistoryStart().Equal(day("2012-05-18")) || !m.HistoryEnd().Equal(day("2014-05-30")) || m.HistoryLen() != 510 {
		t.Errorf("history %v–%v, %d rows", m.HistoryStart(), m.HistoryEnd(), m.HistoryLen())
	}
	if got := m.NoiseSigma(); got != m.Params().SigmaObs*m.yScale || got <= 0 {
		t.Errorf("noise sigma %v", got)
	}
	fd := m.FutureDates(3)
	want := []time.Time{day("2014-05-31"), day("2014-06-01"), day("2014-06-02")}
	if !slices.EqualFunc(fd, want, time.Time.Equal) || len(m.FutureDates(0)) != 0 {
		t.Errorf("future dates %v", fd)
	}
}
