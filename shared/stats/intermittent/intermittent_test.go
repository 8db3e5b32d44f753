package intermittent

import (
	"math"
	"testing"

	"github.com/stockcast/stockcast/shared/stats"
)

func TestCrostonByHand(t *testing.T) {
	// Demands 4 (after 2 steps), 6 (after 3 more), with α = 0.1:
	// z = 4 + 0.1·(6−4) = 4.2, p = 2 + 0.1·(3−2) = 2.1, SBA forecast 0.95·4.2/2.1 = 1.9.
	level, _ := croston([]float64{0, 4, 0, 0, 6}, 0.1)
	if math.Abs(level-1.9) > 1e-12 {
		t.Errorf("croston = %v, want 1.9", level)
	}
}

func TestTSBByHand(t *testing.T) {
	// Start: size 4 (the first demand), probability 2/4. Steps (α = β = 0.5):
	// 0 → p 0.25; 4 → p 0.625, z 4; 0 → p 0.3125; 6 → p 0.65625, z 5. Forecast 3.28125.
	level, _ := tsb([]float64{0, 4, 0, 6}, 0.5, 0.5)
	if math.Abs(level-3.28125) > 1e-12 {
		t.Errorf("tsb = %v, want 3.28125", level)
	}
}

func TestUnobservedStepsAreNotZeros(t *testing.T) {
	nan := math.NaN()
	with := stats.History{Key: "x", Freq: stats.Daily, Values: []float64{0, 4, nan, nan, nan, 0, 0, 6, 0, 3, 0, 0}}
	without := stats.History{Key: "x", Freq: stats.Daily, Values: []float64{0, 4, 0, 0, 6, 0, 3, 0, 0}}
	for _, f := range []stats.Forecaster{Croston{}, TSB{}} {
		a, err := f.Fit(t.Context(), with)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := f.Fit(t.Context(), without)
		fa, _ := a.Forecast(3)
		fb, _ := b.Forecast(3)
		if fa.Mean[0] != fb.Mean[0] {
			t.Errorf("%s: %v with unobserved steps, %v without them", f.Name(), fa.Mean[0], fb.Mean[0])
		}
	}
}

func TestRefusals(t *testing.T) {
	for name, v := range map[string][]float64{
		"negative":   {0, 3, -1, 0, 2},
		"one demand": {0, 0, 5, 0, 0},
		"few zeros":  {1, 2, 3, 4, 5, 6, 7, 0, 9, 10},
	} {
		if _, err := (Croston{}).Fit(t.Context(), stats.History{Key: name, Values: v}); err == nil {
			t.Errorf("%s: fitted", name)
		}
	}
}
