package lstm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestLogisticMatchesMath checks the logistic in float64 (portable) and
// float32 (the AVX2 kernel where the CPU has it) against math.Exp and
// math.Tanh, for every length up to a few vectors (the masked tail) and
// arguments from tiny to far beyond the clamp.
func TestLogisticMatchesMath(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 13))
	for n := range 27 {
		for _, spread := range []float64{1e-6, 1, 30, 1000} {
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
				got64 := append([]float64(nil), x...)
				logistic(got64, f.scale, f.mul, f.add)
				got32 := to32(x)
				logistic(got32, f.scale, f.mul, f.add)
				for i, v := range x {
					want := f.ref(v)
					if math.Abs(got64[i]-want) > 4e-16+2e-15*math.Abs(want) {
						t.Fatalf("float64 %s(%v) = %v, want %v", f.name, v, got64[i], want)
					}
					// float32 rounds the argument and the result.
					want32 := f.ref(float64(float32(v)))
					if math.Abs(float64(got32[i])-want32) > 2e-7+6e-7*math.Abs(want32) {
						t.Fatalf("float32 %s(%v) = %v, want %v", f.name, v, got32[i], want32)
					}
				}
			}
		}
	}
}
