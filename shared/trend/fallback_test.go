package trend

import (
	"errors"
	"math"
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
		{"single row", ds[:1], []float64{7}, "history has 1 row", 7, 0, ds[0], ds[0], 1},
		// The window is days 30–58 (the last finite value and 28 days back): 15 tens, 14 elevens.
		{"NaN", ds, withNaN, "is NaN", 304.0 / 29, math.Sqrt(15.0 / 29 * 14 / 29), ds[0], ds[59], 60},
		{"one date", []time.Time{ds[3], ds[3]}, []float64{4, 6}, "all 2 rows are on", 5, 1, ds[3], ds[3], 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, reason, err := FitWithFallback(c.ds, c.y, DefaultOptions())
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
	m, reason, err := FitWithFallback(ds, y, DefaultOptions())
	if err != nil || reason == "" {
		t.Fatal(err, reason)
	}
	if f, _ := m.Predict(m.FutureDates(1)); f.Yhat[0] != 4 || m.NoiseSigma() != 0 {
		t.Fatalf("level %v, sigma %v, want 4 and 0", f.Yhat[0], m.NoiseSigma())
	}
}

func TestFitWithFallbackFitsWhenItCan(t *testing.T) {
	ds, y, _ := retailSeries(100, 5, 1, false)
	m, reason, err := FitWithFallback(ds, y, DefaultOptions())
	if err != nil || reason != "" || m.FitInfo().Method != "lbfgs" {
		t.Fatalf("model %+v, reason %q, err %v", m.FitInfo(), reason, err)
	}
}

func TestFitWithFallbackErrors(t *testing.T) {
	if _, _, err := FitWithFallback(days("2020-01-01", 3), []float64{1}, DefaultOptions()); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("length mismatch: %v", err)
	}
	if _, _, err := FitWithFallback(nil, nil, DefaultOptions()); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("empty: %v", err)
	}
	if _, _, err := FitWithFallback([]time.Time{{}}, []float64{1}, DefaultOptions()); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("zero date only: %v", err)
	}
	if _, _, err := FitWithFallback(days("2020-01-01", 3), []float64{1, 2, 3}, Options{}); !errors.Is(err, ErrInvalidOptions) {
		t.Errorf("bad options: %v", err)
	}
}
