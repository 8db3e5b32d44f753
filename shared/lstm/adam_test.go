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
