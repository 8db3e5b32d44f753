package theta

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/stockcast/stockcast/shared/stats"
)

type rTheta struct {
	Name         string    `json:"name"`
	Period       int       `json:"period"`
	Values       []float64 `json:"values"`
	Mean         []float64 `json:"mean"`
	Lower, Upper []float64
	Figure       []float64 `json:"figure"`
}

func loadR(t *testing.T) []rTheta {
	t.Helper()
	data, err := os.ReadFile("testdata/r_theta.json")
	if err != nil {
		t.Fatal(err)
	}
	var out []rTheta
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func history(s rTheta) stats.History {
	freq := stats.Monthly
	if s.Period == 1 {
		freq = stats.Daily
	}
	h := stats.History{Key: s.Name, Freq: freq, Values: s.Values}
	if s.Period == 1 {
		h.Values = s.Values
	}
	return h
}

func TestThetaMatchesR(t *testing.T) {
	for _, s := range loadR(t) {
		h := history(s)
		if s.Period == 1 {
			// Daily frequency has period 7: test the non-seasonal method on it only if the
			// test finds no weekly seasonality, as R finds none at period 1.
			if seasonal(h.Values, 7) {
				t.Fatalf("%s: seasonal at period 7", s.Name)
			}
		}
		m, err := Fit(t.Context(), h)
		if err != nil {
			t.Fatal(err)
		}
		f, err := m.Forecast(12)
		if err != nil {
			t.Fatal(err)
		}
		var worst, worstInterval float64
		for i := range s.Mean {
			worst = math.Max(worst, math.Abs(f.Mean[i]-s.Mean[i])/math.Abs(s.Mean[i]))
			lo, hi := f.Quantile(i, 0.1), f.Quantile(i, 0.9)
			worstInterval = math.Max(worstInterval, math.Abs((hi-lo)-(s.Upper[i]-s.Lower[i]))/(s.Upper[i]-s.Lower[i]))
		}
		t.Logf("%-14s %s: forecast within %.2f%% of thetaf, interval width within %.1f%%", s.Name, m.Describe(), 100*worst, 100*worstInterval)
		if worst > 0.01 {
			t.Errorf("%s: forecast differs from thetaf's by up to %.2f%%", s.Name, 100*worst)
		}
		if worstInterval > 0.1 {
			t.Errorf("%s: interval width differs from thetaf's by up to %.1f%%", s.Name, 100*worstInterval)
		}
	}
}

func TestSeasonalFigureMatchesDecompose(t *testing.T) {
	for _, s := range loadR(t) {
		if len(s.Figure) == 0 {
			continue
		}
		fig, err := stats.SeasonalFigure(s.Values, s.Period, true)
		if err != nil {
			t.Fatal(err)
		}
		for j := range fig {
			if math.Abs(fig[j]-s.Figure[j]) > 1e-9 {
				t.Errorf("%s: figure[%d] = %v, decompose's %v", s.Name, j, fig[j], s.Figure[j])
			}
		}
	}
}

func TestThetaSkipsUnobservedSteps(t *testing.T) {
	s := loadR(t)[0]
	h := history(s)
	h.Values = append([]float64(nil), h.Values...)
	h.Values[50], h.Values[51] = math.NaN(), math.NaN()
	m, err := Fit(t.Context(), h)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := m.Forecast(12)
	for i, v := range f.Mean {
		if math.IsNaN(v) || math.Abs(v-s.Mean[i])/s.Mean[i] > 0.05 {
			t.Errorf("step %d: %v with two unobserved months, thetaf %v on all", i, v, s.Mean[i])
		}
	}
	if got := m.Describe(); got != "Theta (multiplicative seasonal adjustment, period 12), 2 unobserved steps interpolated" {
		t.Errorf("Describe() = %q", got)
	}
}
