package lstm

import (
	"math"
	"testing"
)

// TestAdamMatchesTextbook checks Keras's folded form against Kingma & Ba's
// algorithm with bias-corrected moments, whose epsilon is Keras's divided by
// sqrt(1-β2^t), over a few steps.
func TestAdamMatchesTextbook(t *testing.T) {
	cfg := DefaultConfig()
	params := []float64{0.5, -1, 2}
	ref := append([]float64(nil), params...)
	m, v := make([]float64, 3), make([]float64, 3)
	opt := newAdam[float64](3)
	for step := 1; step <= 5; step++ {
		g := []float64{0.1 * float64(step), -0.3, 1e-4}
		opt.update(cfg, params, g)
		for i := range ref {
			m[i] = cfg.Beta1*m[i] + (1-cfg.Beta1)*g[i]
			v[i] = cfg.Beta2*v[i] + (1-cfg.Beta2)*g[i]*g[i]
			mHat := m[i] / (1 - math.Pow(cfg.Beta1, float64(step)))
			vHat := v[i] / (1 - math.Pow(cfg.Beta2, float64(step)))
			epsHat := cfg.Epsilon / math.Sqrt(1-math.Pow(cfg.Beta2, float64(step)))
			ref[i] -= cfg.LearningRate * mHat / (math.Sqrt(vHat) + epsHat)
		}
	}
	for i := range ref {
		if math.Abs(params[i]-ref[i]) > 1e-12 {
			t.Errorf("param %d = %v, textbook %v", i, params[i], ref[i])
		}
	}
	if opt.step != 5 {
		t.Errorf("step = %d, want 5", opt.step)
	}
}

// TestAdamFloat32 runs the float32 update (vectorised where the CPU allows,
// with a scalar tail) against the float64 one.
func TestAdamFloat32(t *testing.T) {
	cfg := DefaultConfig()
	const n = 19
	p64, p32 := make([]float64, n), make([]float32, n)
	for i := range p64 {
		p64[i] = float64(i) - 9
		p32[i] = float32(p64[i])
	}
	o64, o32 := newAdam[float64](n), newAdam[float32](n)
	for step := range 20 {
		g64, g32 := make([]float64, n), make([]float32, n)
		for i := range g64 {
			g32[i] = float32(math.Sin(float64(i*step+1)) * math.Pow(10, float64(i%5-2)))
			g64[i] = float64(g32[i])
		}
		o64.update(cfg, p64, g64)
		o32.update(cfg, p32, g32)
	}
	for i := range p64 {
		if math.Abs(float64(p32[i])-p64[i]) > 1e-5*(1+math.Abs(p64[i])) || math.Abs(float64(o32.v[i])-o64.v[i]) > 1e-5*o64.v[i] {
			t.Errorf("param %d: float32 %v (v %v), float64 %v (v %v)", i, p32[i], o32.v[i], p64[i], o64.v[i])
		}
	}
}
