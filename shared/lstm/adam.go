package lstm

import "math"

// adam is Keras's Adam optimiser over the flat parameter slice: the bias
// corrections are folded into the step size and epsilon is added to the
// square root of the uncorrected second moment.
type adam[F float] struct {
	m, v []F
	step int64
}

func newAdam[F float](n int) adam[F] { return adam[F]{m: make([]F, n), v: make([]F, n)} }

// update applies one step with gradient g to params.
func (a *adam[F]) update(cfg Config, params, g []F) {
	a.step++
	t := float64(a.step)
	alpha := F(cfg.LearningRate * math.Sqrt(1-math.Pow(cfg.Beta2, t)) / (1 - math.Pow(cfg.Beta1, t)))
	b1, b2, eps := F(1-cfg.Beta1), F(1-cfg.Beta2), F(cfg.Epsilon)
	m, v := a.m[:len(params)], a.v[:len(params)]
	g = g[:len(params)]
	for i := adamFast(params, m, v, g, alpha, b1, b2, eps); i < len(g); i++ {
		gi := g[i]
		m[i] += (gi - m[i]) * b1
		v[i] += (gi*gi - v[i]) * b2
		params[i] -= alpha * m[i] / (F(math.Sqrt(float64(v[i]))) + eps)
	}
}
