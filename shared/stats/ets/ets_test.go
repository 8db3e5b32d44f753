package ets

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/stockcast/stockcast/shared/stats"
)

// rSeries is one series of testdata/r_ets.json (made by testdata/r_ets.R).
type rSeries struct {
	Name   string    `json:"name"`
	Period int       `json:"period"`
	Values []float64 `json:"values"`
	Chosen string    `json:"chosen"`
	AICc   float64   `json:"aicc"`
	Mean   []float64 `json:"mean"`
	Models []struct {
		Model string    `json:"model"`
		AICc  float64   `json:"aicc"`
		Mean  []float64 `json:"mean"`
	} `json:"models"`
}

func loadR(t *testing.T) []rSeries {
	t.Helper()
	data, err := os.ReadFile("testdata/r_ets.json")
	if err != nil {
		t.Fatal(err)
	}
	var out []rSeries
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func history(s rSeries) stats.History {
	freq := stats.Monthly
	if s.Period == 1 {
		freq = stats.Daily // a period-1 history: no seasonal candidates
	}
	return stats.History{Key: s.Name, Freq: freq, Values: s.Values}
}

// meanAbsPctDiff is the mean of |a−b|/|b|.
func meanAbsPctDiff(a, b []float64) float64 {
	var sum float64
	for i := range b {
		sum += math.Abs(a[i]-b[i]) / math.Abs(b[i])
	}
	return sum / float64(len(b))
}

func TestFitMatchesR(t *testing.T) {
	for _, s := range loadR(t) {
		h := history(s)
		for _, rm := range s.Models {
			spec, err := ParseSpec(rm.Model, s.Period)
			if err != nil {
				t.Fatal(err)
			}
			m, err := Fit(t.Context(), h, spec)
			if err != nil {
				t.Errorf("%s %s: %v", s.Name, rm.Model, err)
				continue
			}
			f, err := m.Forecast(12)
			if err != nil {
				t.Fatal(err)
			}
			diff := meanAbsPctDiff(f.Mean, rm.Mean)
			t.Logf("%-15s %-5s AICc %8.1f (R %8.1f)  forecast differs by %.1f%%", s.Name, rm.Model, m.AICc, rm.AICc, 100*diff)
			// Our fit keeps the initial seasonal states at their decomposition values: a
			// seasonal model's likelihood may be a little worse than R's, never much; the
			// others are R's fits. Only the contenders are checked: a clearly misspecified
			// model (a non-seasonal fit of nottem's temperatures) has several local optima,
			// and which one Nelder–Mead finds changes no selection.
			tol := 0.005
			if spec.seasonal() {
				tol = 0.07
			}
			if rm.AICc < s.AICc+50 && m.AICc > rm.AICc+tol*math.Abs(rm.AICc) {
				t.Errorf("%s %s: AICc %.1f, R's %.1f", s.Name, rm.Model, m.AICc, rm.AICc)
			}
			if rm.Model == s.Chosen && diff > 0.05 {
				t.Errorf("%s %s (R's choice): forecast differs from R's by %.1f%%", s.Name, rm.Model, 100*diff)
			}
		}
	}
}

func TestAutoMatchesR(t *testing.T) {
	same := 0
	all := loadR(t)
	for _, s := range all {
		m, err := Auto(t.Context(), history(s), nil)
		if err != nil {
			t.Fatal(err)
		}
		f, _ := m.Forecast(12)
		diff := meanAbsPctDiff(f.Mean, s.Mean)
		t.Logf("%-15s chose %-5s (R %-5s) forecast differs from R's by %.1f%%", s.Name, m.Spec.Code(), s.Chosen, 100*diff)
		if m.Spec.Code() != s.Chosen {
			// lynx: our fit of ETS(M,A,N) finds a better optimum than R's (AICc 2045 against
			// R's 2066), which then beats R's ETS(M,N,N).
			continue
		}
		same++
		if diff > 0.05 {
			t.Errorf("%s: forecast differs from R's by %.1f%%", s.Name, 100*diff)
		}
	}
	if 2*same <= len(all) {
		t.Errorf("the same model as R on %d of %d series", same, len(all))
	}
}
