//go:build amd64 && !purego

package lstm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestPortableMatchesFMA trains one float32 step of the prototype's network
// with the AVX2/FMA kernels and again with the portable Go code (as on a CPU
// without them): losses and gradients agree to float32's precision.
func TestPortableMatchesFMA(t *testing.T) {
	if !hasFMA {
		t.Log("this CPU has no AVX2/FMA: both runs are portable")
	}
	cfg := DefaultConfig()
	theta := make([]float32, cfg.paramCount())
	w := bindFor(cfg, theta)
	initWeights(w, rand.New(rand.NewPCG(18, 19)))
	run := func(fma bool) (float64, []float32) {
		defer func(saved bool) { hasFMA = saved }(hasFMA)
		hasFMA = hasFMA && fma
		rng := rand.New(rand.NewPCG(20, 21))
		ws := newWorkspace[float32](cfg, 32)
		for i := range ws.x {
			ws.x[i] = rng.Float32()
		}
		for i := range ws.y {
			ws.y[i], ws.observed[i] = rng.Float32(), float32(min(1, i%5))
		}
		grad := make([]float32, len(theta))
		forward(ws, w, 32, false, cfg.Dropout, rng)
		return backward(ws, w, bindFor(cfg, grad), false), grad
	}
	l1, g1 := run(true)
	l2, g2 := run(false)
	if math.Abs(l1-l2) > 1e-5*l2 {
		t.Errorf("loss %v with FMA, %v portable", l1, l2)
	}
	var norm, diff float64
	for i := range g1 {
		norm += float64(g2[i]) * float64(g2[i])
		d := float64(g1[i] - g2[i])
		diff += d * d
	}
	if math.Sqrt(diff) > 1e-4*math.Sqrt(norm) {
		t.Errorf("gradients differ by %v relative", math.Sqrt(diff/norm))
	}
}
