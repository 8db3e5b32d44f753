package lstm

import "math"

// adam is Keras's Adam optimiser over the flat parameter slice: the bias
// corrections are folded into the step size and epsilon is added to the
// square root of the uncorrected second moment.
type adam struct {
	m, v []float64
	step int64
}

func newAdam(n int) adam { return adam{m: make([]float64, n), v: make([]float64, n)} }

// update applies one step with gradient g to params.
func (a *adam) update(cfg Config, params, g []float64) {
	a.step++
	t := float64(a.step)
	alpha := cfg.LearningRate * math.Sqrt(1-math.Pow(cfg.Beta2, t)) / (1 - math.Pow(cfg.Beta1, t))
	b1, b2, eps := 1-cfg.Beta1, 1-cfg.Beta2, cfg.Epsilon
	m, v := a.m[:len(params)], a.v[:len(params)]
	g = g[:len(params)]
	for i, gi := range g {
		m[i] += (gi - m[i]) * b1
		v[i] += (gi*gi - v[i]) * b2
		params[i] -= alpha * m[i] / (math.Sqrt(v[i]) + eps)
	}
}
