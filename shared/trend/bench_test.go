package trend

import (
	"testing"
)

func benchmarkFit(b *testing.B, n int, mode Mode) {
	ds, y, _ := retailSeries(n, 7, 5, mode == Multiplicative)
	o := DefaultOptions()
	o.SeasonalityMode = mode
	var iters, evals int
	for b.Loop() {
		m, err := Fit(ds, y, o)
		if err != nil {
			b.Fatal(err)
		}
		iters = m.FitInfo().Iterations
		evals = m.FitInfo().Evaluations
	}
	b.ReportMetric(float64(iters), "iters")
	b.ReportMetric(float64(evals), "evals")
}

func BenchmarkFit2y(b *testing.B)     { benchmarkFit(b, 730, Additive) }
func BenchmarkFit10y(b *testing.B)    { benchmarkFit(b, 3652, Additive) }
func BenchmarkFit2yMult(b *testing.B) { benchmarkFit(b, 730, Multiplicative) }
