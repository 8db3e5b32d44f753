package trend

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestFitWithFallback(t *testing.T) {
	ds := days("2021-01-01", 60)
	y := make([]float64, len(ds))
	for i := range y {
		y[i] = 10 + float64(i%2) // recent window: alternating 10, 11
	}
	withNaN := append([]float64(nil), y...)
	withNaN[59] = math.NaN()
	cases := []struct {
		name         string
		ds           []time.Time
		y            []float64
		reason       string
		level, sigma float64
		first, last  time.Time
		n            int
	}{
		// The window is days 30–58 (the last finite value and 28 days back): 15 tens, 14 elevens.
		{"NaN", ds, withNaN, "is NaN", 304.0 / 29, math.Sqrt(15.0 / 29 * 14 / 29), ds[0], ds[59], 60},
		{"one date", slices.Repeat([]time.Time{ds[3]}, 14), slices.Repeat([]float64{4, 6}, 7), "all 14 rows are on", 5, 1, ds[3], ds[3], 14},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, reason, err := FitWithFallback(context.Background(), c.ds, c.y, DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(reason, c.reason) || m.FitInfo().Method != "fallback" || m.FitInfo().Status != reason {
				t.Fatalf("reason %q, info %+v", reason, m.FitInfo())
			}
			f, err := m.Predict(m.FutureDates(14))
			if err != nil {
				t.Fatal(err)
			}
			for i := range f.Yhat {
				if math.Abs(f.Yhat[i]-c.level) > 1e-12 || f.Trend[i] != f.Yhat[i] {
					t.Fatalf("day %d: yhat %v trend %v, want flat %v", i, f.Yhat[i], f.Trend[i], c.level)
				}
			}
			if math.Abs(m.NoiseSigma()-c.sigma) > 1e-12 || !m.HistoryStart().Equal(c.first) ||
				!m.HistoryEnd().Equal(c.last) || m.HistoryLen() != c.n || len(m.Seasonalities()) != 0 {
				t.Fatalf("sigma %v, history %v–%v (%d)", m.NoiseSigma(), m.HistoryStart(), m.HistoryEnd(), m.HistoryLen())
			}
			roundTrip(t, m)
		})
	}
}

// The level and spread come from the last FallbackWindow of finite values.
func TestFallbackUsesRecentWindow(t *testing.T) {
	ds := days("2021-01-01", 100)
	y := make([]float64, len(ds))
	for i := range y {
		y[i] = 100
		if i >= 100-29 {
			y[i] = 4 // the last 29 days: 28 days back from the last, inclusive
		}
	}
	y[10] = math.Inf(1)
	m, reason, err := FitWithFallback(context.Background(), ds, y, DefaultOptions())
	if err != nil || reason == "" {
		t.Fatal(err, reason)
	}
	if f, _ := m.Predict(m.FutureDates(1)); f.Yhat[0] != 4 || m.NoiseSigma() != 0 {
		t.Fatalf("level %v, sigma %v, want 4 and 0", f.Yhat[0], m.NoiseSigma())
	}
}

func TestFitWithFallbackFitsWhenItCan(t *testing.T) {
	ds, y, _ := retailSeries(100, 5, 1, false)
	m, reason, err := FitWithFallback(context.Background(), ds, y, DefaultOptions())
	if err != nil || reason != "" || m.FitInfo().Method != "lbfgs" {
		t.Fatalf("model %+v, reason %q, err %v", m.FitInfo(), reason, err)
	}
}

func TestFitWithFallbackErrors(t *testing.T) {
	if _, _, err := FitWithFallback(context.Background(), days("2020-01-01", 3), []float64{1}, DefaultOptions()); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("length mismatch: %v", err)
	}
	if _, _, err := FitWithFallback(context.Background(), nil, nil, DefaultOptions()); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("empty: %v", err)
	}
	if _, _, err := FitWithFallback(context.Background(), []time.Time{{}}, []float64{1}, DefaultOptions()); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("zero date only: %v", err)
	}
	if _, _, err := FitWithFallback(context.Background(), days("2020-01-01", 3), []float64{1, 2, 3}, Options{}); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("bad options: %v", err)
	}
}

// TestShortHistory: a history of a few days is served its mean, with the interval those few
// values justify (Student's t on their deviation, at least √mean), never a line through them.
func TestShortHistory(t *testing.T) {
	ds := days("2024-03-01", 13)
	cases := []struct {
		name   string
		y      []float64
		level  float64
		sigma  float64 // the noise sigma: sd·√(1+1/n)·t(n−1)/z at the default 80% width
		lo, hi float64 // the 80% interval of the first forecast day, as sampled (±2%)
	}{
		// A rising line through three points: Prophet's model would extend it.
		{"three rising days", []float64{10, 20, 30}, 20, 10 * math.Sqrt(4.0/3) * 1.8856 / 1.2816, 20 - 10*math.Sqrt(4.0/3)*1.8856, 20 + 10*math.Sqrt(4.0/3)*1.8856},
		// Three equal days: the deviation is taken as √mean, not 0.
		{"three equal days", []float64{9, 9, 9}, 9, 3 * math.Sqrt(4.0/3) * 1.8856 / 1.2816, 9 - 3*math.Sqrt(4.0/3)*1.8856, 9 + 3*math.Sqrt(4.0/3)*1.8856},
		// One day: one degree of freedom (t = 3.078).
		{"one day", []float64{16}, 16, 4 * math.Sqrt(2) * 3.0777 / 1.2816, 16 - 4*math.Sqrt(2)*3.0777, 16 + 4*math.Sqrt(2)*3.0777},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, reason, err := FitWithFallback(context.Background(), ds[:len(c.y)], c.y, DefaultOptions())
			if err != nil || reason != "" || m.FitInfo().Method != MethodMean {
				t.Fatalf("model %+v, reason %q, %v", m.FitInfo(), reason, err)
			}
			if math.Abs(m.NoiseSigma()-c.sigma) > 1e-3*c.sigma {
				t.Errorf("sigma %v, want %v", m.NoiseSigma(), c.sigma)
			}
			f, err := m.Predict(m.FutureDates(7))
			if err != nil {
				t.Fatal(err)
			}
			for i := range f.Yhat {
				if math.Abs(f.Yhat[i]-c.level) > 1e-9 {
					t.Fatalf("day %d: yhat %v, want the mean %v", i, f.Yhat[i], c.level)
				}
			}
			if math.Abs(f.Lower[0]-c.lo) > 0.02*(c.hi-c.lo) || math.Abs(f.Upper[0]-c.hi) > 0.02*(c.hi-c.lo) {
				t.Errorf("interval [%v, %v], want about [%v, %v]", f.Lower[0], f.Upper[0], c.lo, c.hi)
			}
			roundTrip(t, m)
		})
	}
	// Fourteen rows are fitted by Prophet's model.
	y := make([]float64, 14)
	for i := range y {
		y[i] = float64(10 + i)
	}
	if m, _, err := FitWithFallback(context.Background(), days("2024-03-01", 14), y, DefaultOptions()); err != nil || m.FitInfo().Method == MethodMean {
		t.Errorf("14 rows: %+v, %v", m.FitInfo(), err)
	}
}
