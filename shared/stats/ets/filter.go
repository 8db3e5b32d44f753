package ets

import "math"

// Params are the smoothing parameters and the damping.
type Params struct {
	Alpha float64 `json:"alpha"`
	Beta  float64 `json:"beta,omitempty"`
	Gamma float64 `json:"gamma,omitempty"`
	Phi   float64 `json:"phi,omitempty"`
}

// State is the model's state after a step: the level, the slope and the
// seasonal states, Season[j] being the latest state of the steps i with
// i mod period = j.
type State struct {
	Level  float64   `json:"level"`
	Slope  float64   `json:"slope,omitempty"`
	Season []float64 `json:"season,omitempty"`
}

func (s State) clone() State {
	s.Season = append([]float64(nil), s.Season...)
	return s
}

// run filters y from the initial state x (modified in place into the final
// state) and returns R's likelihood criterion n·log(SSE) + 2·Σlog|ŷ| (the
// second term for multiplicative errors), the sum of squared innovations
// and the number of observed steps. A one-step forecast that is not finite,
// or zero with a multiplicative component (R's test), gives +Inf.
func (s Spec) run(p Params, x *State, y []float64, start int) (lik, sse float64, n int) {
	phi := p.Phi
	if s.Trend != Damped {
		phi = 1
	}
	m := s.period()
	l, b := x.Level, x.Slope
	season := x.Season
	var sumLog float64
	betaRatio := 0.0
	if s.trended() {
		betaRatio = p.Beta / p.Alpha
	}
	for i, v := range y {
		j := (start + i) % m
		q := l
		if s.trended() {
			q += phi * b
		}
		f := q
		var old float64
		switch s.Season {
		case Additive:
			old = season[j]
			f = q + old
		case Multiplicative:
			old = season[j]
			f = q * old
		}
		if math.IsNaN(v) {
			l = q
			b *= phi
			continue
		}
		if !(math.Abs(f) < math.MaxFloat64) || ((s.Error == Multiplicative || s.Season == Multiplicative) && math.Abs(f) < 1e-10) {
			return math.Inf(1), math.Inf(1), n
		}
		e := v - f
		if s.Error == Multiplicative {
			e /= f
			sumLog += math.Log(math.Abs(f))
		}
		sse += e * e
		n++
		var pv float64
		switch s.Season {
		case None:
			pv = v
		case Additive:
			pv = v - old
		case Multiplicative:
			pv = v / old
		}
		nl := q + p.Alpha*(pv-q)
		if s.trended() {
			b = phi*b + betaRatio*(nl-l-phi*b)
		}
		switch s.Season {
		case Additive:
			season[j] = old + p.Gamma*(v-q-old)
		case Multiplicative:
			season[j] = old + p.Gamma*(v/q-old)
		}
		l = nl
	}
	x.Level, x.Slope = l, b
	if n == 0 {
		return math.Inf(1), sse, n
	}
	if sse <= 0 { // a perfect fit
		sse = math.SmallestNonzeroFloat64
	}
	return float64(n)*math.Log(sse) + 2*sumLog, sse, n
}
