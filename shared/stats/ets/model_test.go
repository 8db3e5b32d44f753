package ets

import (
	"math"
	"testing"

	"github.com/stockcast/stockcast/shared/stats"
)

func airPassengers(t *testing.T) stats.History {
	t.Helper()
	return history(loadR(t)[0])
}

func TestUnobservedStepsAreSkipped(t *testing.T) {
	h := airPassengers(t)
	full, err := Fit(t.Context(), h, Spec{Error: Multiplicative, Trend: Additive, Season: Multiplicative, Period: 12})
	if err != nil {
		t.Fatal(err)
	}
	gappy := h
	gappy.Values = append([]float64(nil), h.Values...)
	for _, i := range []int{30, 31, 77, 100} {
		gappy.Values[i] = math.NaN()
	}
	m, err := Fit(t.Context(), gappy, full.Spec)
	if err != nil {
		t.Fatal(err)
	}
	if m.N != full.N-4 || m.Steps != full.Steps {
		t.Errorf("%d observed of %d steps, want %d of %d", m.N, m.Steps, full.N-4, full.Steps)
	}
	a, _ := full.Forecast(12)
	b, _ := m.Forecast(12)
	if d := meanAbsPctDiff(b.Mean, a.Mean); d > 0.03 {
		t.Errorf("four unobserved months move the forecast by %.1f%%", 100*d)
	}
}

func TestClass1SigmaIsAnalytic(t *testing.T) {
	h := history(loadR(t)[2]) // WWWusage
	m, err := Fit(t.Context(), h, Spec{Error: Additive, Trend: None, Season: None, Period: 1})
	if err != nil {
		t.Fatal(err)
	}
	f, _ := m.Forecast(5)
	for k, s := range f.Sigma {
		want := math.Sqrt(m.Sigma2 * (1 + float64(k)*m.Params.Alpha*m.Params.Alpha))
		if math.Abs(s-want) > 1e-9*want {
			t.Errorf("h=%d: sigma %v, want σ√(1+(h−1)α²) = %v", k+1, s, want)
		}
	}
	if f.Samples != nil {
		t.Error("a class-1 model simulated")
	}
}

func TestSimulatedDistributionIsCentredOnTheForecast(t *testing.T) {
	m, err := Fit(t.Context(), airPassengers(t), Spec{Error: Multiplicative, Trend: Additive, Season: Multiplicative, Period: 12})
	if err != nil {
		t.Fatal(err)
	}
	f, _ := m.Forecast(12)
	if f.Samples == nil || len(f.Samples[0]) != simulations {
		t.Fatal("no simulated paths")
	}
	for k := range f.Mean {
		med := f.Quantile(k, 0.5)
		lo, hi := f.Quantile(k, 0.1), f.Quantile(k, 0.9)
		if math.Abs(med-f.Mean[k])/f.Mean[k] > 0.03 || !(lo < f.Mean[k] && f.Mean[k] < hi) {
			t.Errorf("h=%d: mean %v, simulated 10/50/90%% %v %v %v", k+1, f.Mean[k], lo, med, hi)
		}
		if k > 0 && hi-lo < 0.9*(f.Quantile(k-1, 0.9)-f.Quantile(k-1, 0.1))*f.Mean[k]/f.Mean[k-1] {
			t.Errorf("h=%d: the interval narrows", k+1)
		}
	}
	again, _ := m.Forecast(12)
	if again.Samples[3][17] != f.Samples[3][17] {
		t.Error("the simulation is not reproducible")
	}
}

func TestAdmissibility(t *testing.T) {
	h := stats.History{Key: "x", Freq: stats.Daily, Values: []float64{3, 0, 4, 5, 2, 6, 1, 7, 3, 4, 5, 6, 2, 3, 4, 8}}
	for _, code := range []string{"MNN", "ANM"} {
		s, _ := ParseSpec(code, 7)
		if _, err := Fit(t.Context(), h, s); err == nil {
			t.Errorf("%s fitted data with a zero", code)
		}
	}
	if len(Candidates(52)) != 6 || len(Candidates(7)) != 15 {
		t.Errorf("%d candidates for period 52, %d for 7; R has 6 and 15", len(Candidates(52)), len(Candidates(7)))
	}
	if _, err := ParseSpec("AXN", 1); err == nil {
		t.Error("AXN parsed")
	}
}
