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
	r, ok := s.filter(p, x, y, start, nil)
	if !ok || r.n == 0 {
		return math.Inf(1), math.Inf(1), r.n
	}
	if r.sse <= 0 { // a perfect fit
		r.sse = math.SmallestNonzeroFloat64
	}
	sumLog := math.Log(r.prod) + float64(r.exps)*math.Ln2
	return float64(r.n)*math.Log(r.sse) + 2*sumLog, r.sse, r.n
}

// filtered is what filter accumulates: the sum of squared innovations,
// Π|ŷ| = prod · 2^exps over the observed steps (for multiplicative errors)
// and the number of observed steps.
type filtered struct {
	sse  float64
	prod float64
	exps int
	n    int
}

// filter is run without the logarithms: false when a one-step forecast is
// not finite, or zero with a multiplicative component (x's seasonal states
// are then updated up to that step, its level and slope not at all).
//
// With draws, filter simulates instead: each step's value is the one-step
// forecast with the innovation draws[i] (f + e, or f·(1 + e) for
// multiplicative errors), written to y[i] and filtered; a step whose
// forecast is impossible leaves the state as it was, and the path goes on.
func (s Spec) filter(p Params, x *State, y []float64, start int, draws []float64) (filtered, bool) {
	phi := p.Phi
	if s.Trend != Damped {
		phi = 1
	}
	// Without a trend the slope stays 0 (β 0), so one loop serves every trend.
	beta := 0.0
	if s.trended() {
		beta = p.Beta
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
	// R's updates ℓ' = q + α(u − q) and b' = φb + β(u − q), with q = ℓ + φb
	// and u the observation adjusted for the season (v, v − s or v/s), are
	// linear in (ℓ, b): ℓ' = (1−α)ℓ + (1−α)φb + αu, b' = −βℓ + (1−β)φb + βu.
	// In that form a step's new state is two multiplications and two
	// additions away from the old one (u does not depend on it), which is
	// what bounds the loop's speed.
	ll, lb := 1-alpha, (1-alpha)*phi
	bl, bb := -beta, (1-beta)*phi
	// Σ log|ŷ| is taken with one log, by run: the product of the mantissas
	// of |ŷ| (each in [1, 2), renormalised every 512 factors) and the sum of
	// their binary exponents.
	prod, exps, inProd := 1.0, 0, 0
	var sse float64
	n := 0
	j := start%m - 1 // the season of the step, advanced first
	for i, v := range y {
		if j++; j == m {
			j = 0
		}
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
		if draws != nil {
			if mult {
				v = f * (1 + draws[i])
			} else {
				v = f + draws[i]
			}
			y[i] = v
		}
		if v != v { // not observed: carry the state forward
			l = q
			b *= phi
			continue
		}
		if !(math.Abs(f) <= math.MaxFloat64) || (checkZero && math.Abs(f) < 1e-10) {
			if draws != nil {
				continue
			}
			return filtered{n: n}, false
		}
		e := v - f
		if mult {
			e /= f
			mant, exp := split(f)
			prod *= mant
			exps += exp
			if inProd++; inProd == 512 {
				mant, exp = split(prod)
				prod, inProd = mant, 0
				exps += exp
			}
		}
		sse += e * e
		n++
		var u float64 // the observation adjusted for the season
		switch s.Season {
		case None:
			u = v
		case Additive:
			u = v - old
			season[j] = old + gamma*(v-q-old)
		default:
			u = v / old
			season[j] = old + gamma*(v/q-old)
		}
		l, b = ll*l+(lb*b+alpha*u), bl*l+(bb*b+beta*u)
	}
	x.Level, x.Slope = l, b
	return filtered{sse: sse, prod: prod, exps: exps, n: n}, true
}

// split returns |v| = mant · 2^exp with mant in [1, 2), for a finite normal v.
func split(v float64) (mant float64, exp int) {
	const expMask = 0x7ff << 52
	bits := math.Float64bits(v)
	return math.Float64frombits(bits&^(expMask|1<<63) | 1023<<52), int(bits&expMask>>52) - 1023
}
