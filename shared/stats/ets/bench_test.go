package ets

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stockcast/stockcast/shared/stats"
)

// twoYears is two years of daily sales with a weekly cycle, a slow trend and noise.
func twoYears() stats.History {
	r := rand.New(rand.NewPCG(1, 2))
	h := stats.History{Key: "bench", Freq: stats.Daily, Values: make([]float64, 730)}
	for i := range h.Values {
		h.Values[i] = 100 + 0.05*float64(i) + 20*math.Sin(2*math.Pi*float64(i)/7) + 8*r.NormFloat64()
	}
	return h
}

// BenchmarkAuto is the AICc selection over R's 15 admissible models of a 2-year daily series.
func BenchmarkAuto(b *testing.B) {
	h := twoYears()
	for b.Loop() {
		if _, err := Auto(b.Context(), h, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFit is one model's maximum-likelihood fit (ETS(A,Ad,A)) of a 2-year daily series.
func BenchmarkFit(b *testing.B) {
	h := twoYears()
	s := Spec{Error: Additive, Trend: Damped, Season: Additive, Period: 7}
	for b.Loop() {
		if _, err := Fit(b.Context(), h, s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkForecastSimulated is the 28-day forecast of a model without an analytic variance
// (ETS(M,A,M)): 1,000 simulated paths.
func BenchmarkForecastSimulated(b *testing.B) {
	m, err := Fit(b.Context(), twoYears(), Spec{Error: Multiplicative, Trend: Additive, Season: Multiplicative, Period: 7})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := m.Forecast(28); err != nil {
			b.Fatal(err)
		}
	}
}
