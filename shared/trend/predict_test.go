package trend

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

func fittedRetail(t testing.TB, mode Mode) *Model {
	t.Helper()
	ds, y, _ := retailSeries(3*365, 31, 3, mode == Multiplicative)
	o := DefaultOptions()
	o.SeasonalityMode = mode
	m, err := Fit(context.Background(), ds, y, o)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestPredictIsReproducibleUnderSeed(t *testing.T) {
	m := fittedRetail(t, Additive)
	dates := m.FutureDates(30)
	u := m.Uncertainty()
	a, _ := m.PredictWith(dates, u)
	b, _ := m.PredictWith(dates, u)
	if !slices.Equal(a.Lower, b.Lower) || !slices.Equal(a.Upper, b.Upper) || !slices.Equal(a.TrendUpper, b.TrendUpper) {
		t.Fatal("same seed, different intervals")
	}
	u.Seed++
	c, _ := m.PredictWith(dates, u)
	if slices.Equal(a.Upper, c.Upper) {
		t.Fatal("different seeds, same intervals")
	}
	if !slices.Equal(a.Yhat, c.Yhat) {
		t.Fatal("the seed changed yhat")
	}
}

func TestIntervals(t *testing.T) {
	m := fittedRetail(t, Additive)
	dates := m.FutureDates(60)
	f80, err := m.Predict(dates)
	if err != nil {
		t.Fatal(err)
	}
	u := m.Uncertainty()
	u.IntervalWidth = 0.95
	f95, err := m.PredictWith(dates, u)
	if err != nil {
		t.Fatal(err)
	}
	for i := range dates {
		if !(f80.Lower[i] < f80.Yhat[i] && f80.Yhat[i] < f80.Upper[i]) {
			t.Errorf("day %d: yhat %v outside [%v, %v]", i, f80.Yhat[i], f80.Lower[i], f80.Upper[i])
		}
		if !(f95.Lower[i] < f80.Lower[i] && f95.Upper[i] > f80.Upper[i]) {
			t.Errorf("day %d: 95%% interval not wider than 80%%", i)
		}
	}
	// Simulated trend changes widen the trend interval with the horizon.
	w := func(i int) float64 { return f80.TrendUpper[i] - f80.TrendLower[i] }
	if !(w(0) < w(29) && w(29) < w(59)) {
		t.Errorf("trend interval widths %v, %v, %v do not grow", w(0), w(29), w(59))
	}
	// Over the history there is no trend uncertainty, as in Prophet.
	hist, err := m.Predict([]time.Time{m.HistoryStart(), m.HistoryEnd()})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if hist.TrendLower[i] != hist.Trend[i] || hist.TrendUpper[i] != hist.Trend[i] {
			t.Errorf("history row %d: trend interval [%v, %v] around %v", i, hist.TrendLower[i], hist.TrendUpper[i], hist.Trend[i])
		}
	}
	u.Samples = 0
	none, err := m.PredictWith(dates, u)
	if err != nil {
		t.Fatal(err)
	}
	if none.Lower != nil || none.Upper != nil || none.TrendLower != nil || !slices.Equal(none.Yhat, f80.Yhat) {
		t.Error("0 samples: want no intervals and the same yhat")
	}
}

// With flat growth and no seasonality the interval is the noise alone:
// yhat ± 1.2816·sigma for 80%.
func TestIntervalWidthIsNoiseQuantile(t *testing.T) {
	ds := days("2020-01-01", 400)
	rng := rand.New(rand.NewPCG(8, 9))
	y := make([]float64, len(ds))
	for i := range y {
		y[i] = 50 + 2*rng.NormFloat64()
	}
	o := DefaultOptions()
	o.Growth = GrowthFlat
	o.Weekly.Enable, o.Yearly.Enable = SwitchOff, SwitchOff
	o.UncertaintySamples = 20000
	m, err := Fit(context.Background(), ds, y, o)
	if err != nil {
		t.Fatal(err)
	}
	f, err := m.Predict(m.FutureDates(5))
	if err != nil {
		t.Fatal(err)
	}
	want := 1.2815515655446004 * m.NoiseSigma()
	for i := range f.Yhat {
		if math.Abs(f.Upper[i]-f.Yhat[i]-want) > 0.05*want || math.Abs(f.Yhat[i]-f.Lower[i]-want) > 0.05*want {
			t.Errorf("day %d: interval [%v, %v] around %v, half-width want %v", i, f.Lower[i], f.Upper[i], f.Yhat[i], want)
		}
	}
	if s := m.NoiseSigma(); math.Abs(s-2) > 0.2 {
		t.Errorf("noise sigma %v, want about 2", s)
	}
}

func TestPredictSortsDates(t *testing.T) {
	m := fittedRetail(t, Multiplicative)
	fd := m.FutureDates(5)
	shuffled := []time.Time{fd[3], fd[0], fd[4], fd[1], fd[2]}
	a, _ := m.Predict(fd)
	b, _ := m.Predict(shuffled)
	if !slices.EqualFunc(a.Dates, b.Dates, time.Time.Equal) || !slices.Equal(a.Yhat, b.Yhat) {
		t.Fatal("shuffled dates gave a different forecast")
	}
}

func TestPredictRefusesBadInput(t *testing.T) {
	m := fittedRetail(t, Additive)
	ok := m.FutureDates(3)
	cases := []struct {
		name  string
		dates []time.Time
		u     Uncertainty
		want  string
	}{
		{"no dates", nil, m.Uncertainty(), "no dates"},
		{"zero date", []time.Time{ok[0], {}}, m.Uncertainty(), "index 1 is the zero time"},
		{"negative samples", ok, Uncertainty{Samples: -1, IntervalWidth: 0.8}, "-1 uncertainty samples"},
		{"width", ok, Uncertainty{Samples: 10, IntervalWidth: 1.5}, "interval width 1.5"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := m.PredictWith(c.dates, c.u)
			if f != nil || !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got (%v, %v), want an error containing %q", f, err, c.want)
			}
		})
	}
}

// numpyPercentile is the reference: sort, then numpy's linear method.
func numpyPercentile(a []float64, p float64) float64 {
	s := slices.Clone(a)
	slices.Sort(s)
	h := float64(len(s)-1) * p / 100
	i := int(math.Floor(h))
	if i+1 >= len(s) {
		return s[i]
	}
	return lerp(s[i], s[i+1], h-float64(i))
}

func TestPercentileMatchesSortedReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 500 {
		n := 1 + rng.IntN(300)
		a := make([]float64, n)
		for i := range a {
			switch trial % 3 {
			case 0:
				a[i] = rng.NormFloat64()
			case 1:
				a[i] = float64(rng.IntN(4)) // many ties
			default:
				a[i] = 7 // all equal
			}
		}
		for _, p := range []float64{0, 2.5, 10, 50, 90, 97.5, 100, rng.Float64() * 100} {
			want := numpyPercentile(a, p)
			if got := percentile(slices.Clone(a), p); got != want {
				t.Fatalf("n=%d p=%v: %v, want %v", n, p, got, want)
			}
		}
	}
	if lo, hi := percentiles([]float64{4, 1, 3, 2, 5}, 10, 90); lo != 1.4 || math.Abs(hi-4.6) > 1e-15 {
		t.Errorf("percentiles of 1..5 at 10 and 90: %v, %v", lo, hi)
	}
}

// One model serves concurrent predictions (run with -race).
func TestConcurrentPredict(t *testing.T) {
	m := fittedRetail(t, Additive)
	dates := m.FutureDates(14)
	want, err := m.Predict(dates)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			got, err := m.Predict(dates)
			if err == nil && !slices.Equal(got.Upper, want.Upper) {
				err = errors.New("concurrent prediction differs")
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if _, err := new(Model).Predict(dates); err == nil || !strings.Contains(err.Error(), "not fitted") {
		t.Fatalf("zero model: %v", err)
	}
}
