package lstm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestCellForwardFloat32 checks one float32 cell step (the AVX2 kernel
// where the CPU has it, with the scalar tail) against the same step in
// float64, for hidden sizes with and without a tail, both activations, at
// the first step and later, over pre-activations from tiny to far beyond
// the exponential's clamp.
func TestCellForwardFloat32(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 13))
	for _, h := range []int{1, 8, 13, 50} {
		for _, relu := range []bool{false, true} {
			for _, first := range []bool{false, true} {
				for _, spread := range []float64{1e-6, 1, 30, 1000} {
					const rows = 3
					z := make([]float64, rows*4*h)
					for i := range z {
						z[i] = float64(float32(spread * rng.NormFloat64()))
					}
					var prev []float64
					if !first {
						prev = make([]float64, rows*h)
						for i := range prev {
							prev[i] = float64(float32(rng.NormFloat64()))
						}
					}
					z64, z32 := append([]float64(nil), z...), to32(z)
					c64, a64, o64 := make([]float64, rows*h), make([]float64, rows*h), make([]float64, rows*h)
					c32, a32, o32 := make([]float32, rows*h), make([]float32, rows*h), make([]float32, rows*h)
					cellForward(z64, prev, c64, a64, o64, h, relu)
					var prev32 []float32
					if prev != nil {
						prev32 = to32(prev)
					}
					cellForward(z32, prev32, c32, a32, o32, h, relu)
					for _, pair := range []struct {
						name string
						got  []float32
						want []float64
					}{{"gates", z32, z64}, {"cell", c32, c64}, {"act", a32, a64}, {"out", o32, o64}} {
						for i, w := range pair.want {
							if math.Abs(float64(pair.got[i])-w) > 3e-7+1e-6*math.Abs(w) {
								t.Fatalf("h=%d relu=%v first=%v spread=%v: %s[%d] = %v, want %v", h, relu, first, spread, pair.name, i, pair.got[i], w)
							}
						}
					}
				}
			}
		}
	}
}
