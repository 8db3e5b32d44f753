package ets

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/stockcast/stockcast/shared/stats"
)

// simulations is the number of paths of a forecast without an analytic
// variance.
const simulations = 1000

// Forecast predicts the horizon steps after the history with the model's
// distribution (see the package documentation).
func (m *Model) Forecast(horizon int) (stats.Forecast, error) {
	if horizon < 1 {
		return stats.Forecast{}, fmt.Errorf("ets: horizon %d must be at least 1", horizon)
	}
	f := stats.Forecast{Mean: m.point(horizon)}
	if m.Spec.class1() {
		f.Sigma = m.sigmas(horizon)
	} else {
		f.Samples = m.simulate(horizon)
	}
	return f, nil
}

func (m *Model) phi() float64 {
	if m.Spec.Trend == Damped {
		return m.Params.Phi
	}
	return 1
}

// point is the conditional mean of the next horizon steps (for the models
// with a multiplicative component, the point forecast as R gives it).
func (m *Model) point(horizon int) []float64 {
	s, x, phi := m.Spec, m.Final, m.phi()
	out := make([]float64, horizon)
	damp, pw := 0.0, 1.0
	for h := range out {
		pw *= phi
		damp += pw
		q := x.Level
		if s.trended() {
			q += damp * x.Slope
		}
		switch s.Season {
		case Additive:
			q += x.Season[(m.Steps+h)%s.Period]
		case Multiplicative:
			q *= x.Season[(m.Steps+h)%s.Period]
		}
		out[h] = q
	}
	return out
}

// sigmas is the class-1 standard deviation σ·√(1 + Σ_{j<h} c_j²) with
// c_j = α + β·(φ + … + φ^j) + γ·[j mod m = 0].
func (m *Model) sigmas(horizon int) []float64 {
	s, p, phi := m.Spec, m.Params, m.phi()
	out := make([]float64, horizon)
	sum, damp, pw := 1.0, 0.0, 1.0
	for h := range out {
		out[h] = math.Sqrt(m.Sigma2 * sum)
		j := h + 1
		pw *= phi
		damp += pw
		c := p.Alpha
		if s.trended() {
			c += p.Beta * damp
		}
		if s.seasonal() && j%s.Period == 0 {
			c += p.Gamma
		}
		sum += c * c
	}
	return out
}

// simulate draws paths of the next horizon steps with normal innovations
// of variance Sigma2, from a seed fixed by the model.
func (m *Model) simulate(horizon int) [][]float64 {
	out := make([][]float64, horizon)
	for h := range out {
		out[h] = make([]float64, simulations)
	}
	rng := rand.New(rand.NewPCG(uint64(m.Steps), 0x5eed))
	sigma := math.Sqrt(m.Sigma2)
	draws, path := make([]float64, horizon), make([]float64, horizon)
	x := m.Final.clone()
	for k := range simulations {
		x.Level, x.Slope = m.Final.Level, m.Final.Slope
		copy(x.Season, m.Final.Season)
		for h := range draws {
			draws[h] = sigma * rng.NormFloat64()
		}
		m.Spec.filter(m.Params, &x, path, m.Steps, draws)
		for h, v := range path {
			out[h][k] = v
		}
	}
	return out
}
