package lstm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestLogisticMatchesMath checks the dispatched logistic (AVX2 where the CPU
// has it) against math.Exp, every length up to a few vectors (the masked
// tail) and arguments from tiny to far beyond the clamp.
func TestLogisticMatchesMath(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 13))
	for n := range 13 {
		for _, spread := range []float64{1e-9, 1, 30, 1000} {
			x := make([]float64, n)
			for i := range x {
				x[i] = spread * rng.NormFloat64()
			}
			for _, f := range []struct {
				name            string
				scale, mul, add float64
				ref             func(float64) float64
			}{
				{"sigmoid", 1, 1, 0, sigmoid},
				{"tanh", 2, 2, -1, math.Tanh},
			} {
				got := append([]float64(nil), x...)
				logistic(got, f.scale, f.mul, f.add)
				portable := append([]float64(nil), x...)
				logisticGo(portable, f.scale, f.mul, f.add)
				for i, v := range x {
					want := f.ref(v)
					if math.Abs(got[i]-want) > 4e-16+2e-15*math.Abs(want) || math.Abs(portable[i]-want) > 4e-16+2e-15*math.Abs(want) {
						t.Fatalf("%s(%v) = %v (portable %v), want %v", f.name, v, got[i], portable[i], want)
					}
				}
			}
		}
	}
}
