package trend

import (
	"context"
	"math"
	"slices"
	"strconv"
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
		m, err := Fit(context.Background(), ds[:n], y[:n], o)
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

// cmdstanCSV is a value as Prophet gets it back from CmdStan: through the
// output CSV, written with CmdStan's default 6 significant digits (Prophet
// does not set sig_figs).
func cmdstanCSV(v float64) float64 {
	r, err := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 6, 64), 64)
	if err != nil {
		panic(err)
	}
	return r
}

// withCmdStanPrecision returns a copy of m whose parameters went through
// cmdstanCSV, as Prophet's do.
func withCmdStanPrecision(t *testing.T, m *Model) *Model {
	t.Helper()
	r := *m
	p := m.Params()
	p.K, p.M, p.SigmaObs = cmdstanCSV(p.K), cmdstanCSV(p.M), cmdstanCSV(p.SigmaObs)
	for i := range p.Delta {
		p.Delta[i] = cmdstanCSV(p.Delta[i])
	}
	for i := range p.Beta {
		p.Beta[i] = cmdstanCSV(p.Beta[i])
	}
	r.params = p
	if err := r.init(); err != nil {
		t.Fatal(err)
	}
	return &r
}

// Prophet's test_fit_predict_large_numbers: 41 training rows of values near
// 6.2e8, so Prophet fits them with Stan's Newton method and so does Fit;
// the RMSE of the 30 held-out rows must be within Prophet's tolerance
// (pytest.approx(expected, 0.01)) of Prophet's figure. Prophet's parameters
// reach it through CmdStan's CSV with 6 significant digits; with absmax
// scaling the offset m ≈ 0.999998 then keeps only 1e-6 of the scale 6.2e8
// (±311 in y), which dominates Prophet's figure, so the comparison rounds
// the fitted parameters the same way. Fit keeps full precision and does
// not forecast worse than Prophet.
func TestFitPredictLargeNumbers(t *testing.T) {
	ds, y := loadCSV(t, "prophet_data3.csv")
	n := len(ds) - 30
	for _, c := range []struct {
		scaling Scaling
		prophet float64
	}{{ScalingAbsMax, 127.01}, {ScalingMinMax, 93.45}} {
		o := DefaultOptions()
		o.Scaling = c.scaling
		m, err := Fit(context.Background(), ds[:n], y[:n], o)
		if err != nil {
			t.Fatal(err)
		}
		fc, err := m.Predict(ds[n:])
		if err != nil {
			t.Fatal(err)
		}
		prophetLike, err := withCmdStanPrecision(t, m).Predict(ds[n:])
		if err != nil {
			t.Fatal(err)
		}
		got, full := rmse(prophetLike.Yhat, y[n:]), rmse(fc.Yhat, y[n:])
		t.Logf("%s: RMSE %.3f at CmdStan's precision, Prophet %.2f (%+.2f%%); %.3f at full precision; %+v",
			c.scaling, got, c.prophet, 100*(got/c.prophet-1), full, m.FitInfo())
		if m.FitInfo().Method != "newton" {
			t.Errorf("%s: method %q, want newton for %d rows", c.scaling, m.FitInfo().Method, n)
		}
		if math.Abs(got/c.prophet-1) > 0.01 {
			t.Errorf("%s: RMSE %.3f, Prophet's test expects %.2f ± 1%%", c.scaling, got, c.prophet)
		}
		if full > c.prophet*1.01 {
			t.Errorf("%s: full-precision RMSE %.3f is worse than Prophet's %.2f", c.scaling, full, c.prophet)
		}
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
	m, err := Fit(context.Background(), ds, y, DefaultOptions())
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
	m, err := Fit(context.Background(), ds, y, o)
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
	m, err := Fit(context.Background(), ds[:n-60], y[:n-60], DefaultOptions())
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
				m, err := Fit(context.Background(), ds, y, o)
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
		m, err := Fit(context.Background(), ds, y, o)
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
		if p.K != 0 || math.Abs(f.Trend[0]-level) > 1e-12 || math.Round(level) != 30 || m.FitInfo().Method != "newton" {
			t.Errorf("%s: k %v, trend %v, level %v, %+v", scaling, p.K, f.Trend[0], level, m.FitInfo())
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
	m, err := Fit(context.Background(), ds, y, o)
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
	a, err := Fit(context.Background(), ds, y, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	rds, ry := slices.Clone(ds), slices.Clone(y)
	slices.Reverse(rds)
	slices.Reverse(ry)
	b, err := Fit(context.Background(), rds, ry, DefaultOptions())
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
	m, err := Fit(context.Background(), ds, y, DefaultOptions())
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
