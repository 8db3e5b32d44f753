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
	y := make([]float64, 1)
	x := m.Final.clone()
	for k := range simulations {
		x.Level, x.Slope = m.Final.Level, m.Final.Slope
		copy(x.Season, m.Final.Season)
		for h := range horizon {
			// One step of the filter with a drawn innovation: run it on the
			// value the model would produce.
			f := m.onestep(x, m.Steps+h)
			e := sigma * rng.NormFloat64()
			if m.Spec.Error == Multiplicative {
				y[0] = f * (1 + e)
			} else {
				y[0] = f + e
			}
			m.Spec.filter(m.Params, &x, y, m.Steps+h) // a path past an impossible forecast keeps its state
			out[h][k] = y[0]
		}
	}
	return out
}

// onestep is the one-step prediction from state x at step t.
func (m *Model) onestep(x State, t int) float64 {
	s := m.Spec
	q := x.Level
	if s.trended() {
		q += m.phi() * x.Slope
	}
	switch s.Season {
	case Additive:
		q += x.Season[t%s.Period]
	case Multiplicative:
		q *= x.Season[t%s.Period]
	}
	return q
}
