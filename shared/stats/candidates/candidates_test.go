package candidates

import (
	"math"
	"testing"
	"time"

	"github.com/stockcast/stockcast/shared/stats"
	"github.com/stockcast/stockcast/shared/trend"
)

func TestEveryCandidateForecastsARealisticSeries(t *testing.T) {
	// Two years of daily sales with a weekly cycle, some zero days and some unobserved days.
	h := stats.History{Key: "p", Start: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), Freq: stats.Daily, Values: make([]float64, 730)}
	for i := range h.Values {
		h.Values[i] = math.Max(0, 20+8*math.Sin(2*math.Pi*float64(i)/7)+5*math.Sin(float64(i)*1.7))
		if i%9 == 0 {
			h.Values[i] = 0
		}
		if i%31 == 5 {
			h.Values[i] = math.NaN()
		}
	}
	all := All(trend.DefaultOptions())
	if len(Names(all)) != 8 {
		t.Fatalf("candidates %v", Names(all))
	}
	for _, f := range all {
		m, err := f.Fit(t.Context(), h)
		if f.Name() == Croston || f.Name() == TSB {
			if err == nil {
				t.Errorf("%s fitted a series with 11%% zeros", f.Name())
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", f.Name(), err)
		}
		fc, err := m.Forecast(28)
		if err != nil || len(fc.Mean) != 28 || !fc.HasDistribution() {
			t.Fatalf("%s: %v, %d steps, distribution %v", f.Name(), err, len(fc.Mean), fc.HasDistribution())
		}
		for _, v := range fc.Mean {
			if math.IsNaN(v) || v < 0 || v > 60 {
				t.Fatalf("%s (%s): forecast %v", f.Name(), m.Describe(), fc.Mean)
			}
		}
	}
	if _, err := Named(all, []string{"ets", "arima"}); err == nil {
		t.Error("an unknown model was selected")
	}
}
