package baseline

import (
	"math"
	"testing"

	"github.com/stockcast/stockcast/shared/stats"
)

func forecast(t *testing.T, f stats.Forecaster, v []float64, horizon int) []float64 {
	t.Helper()
	m, err := f.Fit(t.Context(), stats.History{Key: "x", Freq: stats.Daily, Values: v})
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.Forecast(horizon)
	if err != nil {
		t.Fatal(err)
	}
	return out.Mean
}

func TestBaselinesSkipUnobservedSteps(t *testing.T) {
	nan := math.NaN()
	// 14 days, weekday k has value k+1 in week one and 10·(k+1) in week two, except that
	// the last two steps (12 and 13) are not observed.
	v := make([]float64, 14)
	for i := range v {
		v[i] = float64(i%7 + 1)
		if i >= 7 {
			v[i] *= 10
		}
	}
	v[12], v[13] = nan, nan
	if got := forecast(t, Naive{}, v, 2); got[0] != 50 || got[1] != 50 {
		t.Errorf("naive %v, want the last observed value 50", got)
	}
	got := forecast(t, SeasonalNaive{}, v, 8)
	want := []float64{10, 20, 30, 40, 50, 6, 7, 10} // phases 12 and 13 fall back to week one
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("snaive %v, want %v", got, want)
		}
	}
	mean := forecast(t, Mean{}, v, 1)[0]
	var sum float64
	for _, x := range v[:12] {
		sum += x
	}
	if math.Abs(mean-sum/12) > 1e-12 {
		t.Errorf("mean %v, want %v over the 12 observed values", mean, sum/12)
	}
}
