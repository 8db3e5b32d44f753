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
	// Without a trend the slope stays 0 (betaRatio 0), so one loop serves every trend.
	betaRatio := 0.0
	if s.trended() {
		betaRatio = p.Beta / p.Alpha
	}
	m := s.period()
	l, b := x.Level, x.Slope
	season := x.Season
	if season == nil {
		season = []float64{0}
	}
	mult := s.Error == Multiplicative
	checkZero := mult || s.Season == Multiplicative
	alpha, gamma := p.Alpha, p.Gamma
	// Σ log|ŷ| is taken as the log of products of 8 factors, 8 times fewer logs.
	var sumLog float64
	prod, inProd := 1.0, 0
	j := start % m
	for _, v := range y {
		q := l + phi*b
		old := season[j]
		var f float64
		switch s.Season {
		case None:
			f = q
		case Additive:
			f = q + old
		default:
			f = q * old
		}
		if v != v { // not observed: carry the state forward
			l = q
			b *= phi
		} else {
			if !(math.Abs(f) <= math.MaxFloat64) || (checkZero && math.Abs(f) < 1e-10) {
				return math.Inf(1), math.Inf(1), n
			}
			e := v - f
			if mult {
				e /= f
				prod *= math.Abs(f)
				if inProd++; inProd == 8 {
					sumLog += math.Log(prod)
					prod, inProd = 1, 0
				}
			}
			sse += e * e
			n++
			var nl float64
			switch s.Season {
			case None:
				nl = q + alpha*(v-q)
			case Additive:
				nl = q + alpha*(v-old-q)
				season[j] = old + gamma*(v-q-old)
			default:
				nl = q + alpha*(v/old-q)
				season[j] = old + gamma*(v/q-old)
			}
			b = phi*b + betaRatio*(nl-l-phi*b)
			l = nl
		}
		if j++; j == m {
			j = 0
		}
	}
	sumLog += math.Log(prod)
	x.Level, x.Slope = l, b
	if n == 0 {
		return math.Inf(1), sse, n
	}
	if sse <= 0 { // a perfect fit
		sse = math.SmallestNonzeroFloat64
	}
	return float64(n)*math.Log(sse) + 2*sumLog, sse, n
}
