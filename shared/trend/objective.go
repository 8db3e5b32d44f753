package trend

import (
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// layout indexes the parameter vector in Stan's declaration order:
// k, m, delta[S], sigma_obs (as log sigma_obs), beta[K].
type layout struct{ s, k int }

func (l layout) delta() int  { return 2 }
func (l layout) sigma() int  { return 2 + l.s }
func (l layout) beta() int   { return 3 + l.s }
func (l layout) params() int { return 3 + l.s + l.k }

// design is the scaled training problem: Prophet's Stan data block.
type design struct {
	t, y    []float64 // scaled time and value, t ascending
	x       []float64 // row-major T×K seasonal features
	cps     []float64 // changepoint times (S ≥ 1, may be the dummy [0])
	cpStart []int     // first row with t ≥ cps[j] (Stan's changepoint matrix A)
	prec    []float64 // 1/sigmas² per feature
	tau     float64
	linear  bool // linear growth; otherwise flat
	mult    bool // multiplicative seasonality; otherwise additive
}

func newDesign(t, y, x []float64, cps, prec []float64, tau float64, growth Growth, mode Mode) *design {
	d := &design{t: t, y: y, x: x, cps: cps, prec: prec, tau: tau,
		linear: growth == GrowthLinear, mult: mode == Multiplicative}
	d.cpStart = make([]int, len(cps))
	i := 0
	for j, s := range cps {
		for i < len(t) && t[i] < s {
			i++
		}
		d.cpStart[j] = i
	}
	return d
}

func (d *design) layout() layout { return layout{s: len(d.cps), k: len(d.prec)} }

// features is the T×K feature matrix in blas form.
func (d *design) features() blas64.General {
	k := len(d.prec)
	return blas64.General{Rows: len(d.t), Cols: k, Stride: max(k, 1), Data: d.x}
}

// sumSquares evaluates the residual sum of squares of a parameter vector
// and writes its gradient with respect to every parameter except sigma
// (whose slot is left at zero) into grad.
type sumSquares interface {
	ssr(theta, grad []float64) float64
}

// negLogPosterior is minus Prophet's Stan log density as Stan's optimizer
// sees it: constants dropped (the `~` statements), no Jacobian for
// sigma_obs > 0, sigma_obs reparameterised as exp(u) exactly as Stan's
// unconstrained space does it.
//
//	f = k²/50 + m²/50 + Σ|δ|/τ + 2σ² + Σ β²/(2 sigmas²) + T·log σ + SSR/(2σ²)
//
// The Laplace term's derivative at δ = 0 is taken as 0, as Stan's
// double_exponential gradient (sign(0) = 0) does.
type negLogPosterior struct {
	d     *design
	l     layout
	rss   sumSquares
	gRSS  []float64
	nObs  float64
	evals int
}

func newNegLogPosterior(d *design, rss sumSquares) *negLogPosterior {
	l := d.layout()
	return &negLogPosterior{d: d, l: l, rss: rss, gRSS: make([]float64, l.params()), nObs: float64(len(d.t))}
}

func sign(v float64) float64 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// eval returns f(x) and, when grad is not nil, writes ∇f(x) into it.
func (o *negLogPosterior) eval(x, grad []float64) float64 {
	o.evals++
	l := o.l
	u := x[l.sigma()]
	sigma := math.Exp(u)
	inv := math.Exp(-2 * u) // 1/σ²
	ssr := o.rss.ssr(x, o.gRSS)

	k, m := x[0], x[1]
	f := k*k/50 + m*m/50 + 2*sigma*sigma + o.nObs*u + ssr*inv/2
	delta := x[l.delta():l.sigma()]
	for _, v := range delta {
		f += math.Abs(v) / o.d.tau
	}
	beta := x[l.beta():]
	for b, v := range beta {
		f += v * v * o.d.prec[b] / 2
	}
	if grad == nil {
		return f
	}
	for i, g := range o.gRSS {
		grad[i] = g * inv / 2
	}
	grad[0] += k / 25
	grad[1] += m / 25
	for j, v := range delta {
		grad[l.delta()+j] += sign(v) / o.d.tau
	}
	grad[l.sigma()] = 4*sigma*sigma + o.nObs - ssr*inv
	for b, v := range beta {
		grad[l.beta()+b] += v * o.d.prec[b]
	}
	return f
}

// directSSR evaluates the model row by row, in O(T·K) per call: the
// reference implementation, and the one used for multiplicative seasonality.
type directSSR struct {
	d               *design
	s, trend, w, wt []float64
}

func newDirectSSR(d *design) *directSSR {
	n := len(d.t)
	return &directSSR{d: d, s: make([]float64, n), trend: make([]float64, n),
		w: make([]float64, n), wt: make([]float64, n)}
}

func (r *directSSR) ssr(theta, grad []float64) float64 {
	d := r.d
	l := d.layout()
	k, m := theta[0], theta[1]
	delta := theta[l.delta():l.sigma()]
	beta := theta[l.beta():]
	x := d.features()
	if l.k > 0 {
		blas64.Gemv(blas.NoTrans, 1, x, blas64.Vector{N: l.k, Inc: 1, Data: beta}, 0,
			blas64.Vector{N: len(r.s), Inc: 1, Data: r.s})
	}
	// Trend, walking the changepoints: slope and offset change at each one.
	kc, mc, j := k, m, 0
	for i, t := range d.t {
		if !d.linear {
			r.trend[i] = m
			continue
		}
		for j < len(d.cps) && d.cps[j] <= t {
			kc += delta[j]
			mc -= delta[j] * d.cps[j]
			j++
		}
		r.trend[i] = kc*t + mc
	}
	var ssr float64
	for i, y := range d.y {
		var yhat float64
		if d.mult {
			yhat = r.trend[i] * (1 + r.s[i])
		} else {
			yhat = r.trend[i] + r.s[i]
		}
		res := y - yhat
		ssr += res * res
		r.w[i] = -2 * res // dSSR/dyhat
	}
	clear(grad)
	// Trend parameters: weight dSSR/dtrend, then suffix sums for delta.
	var sw, swt float64
	for i := len(d.t) - 1; i >= 0; i-- {
		tw := r.w[i]
		if d.mult {
			tw *= 1 + r.s[i]
		}
		sw += tw
		swt += tw * d.t[i]
		r.wt[i] = tw
	}
	grad[1] = sw
	if d.linear {
		grad[0] = swt
		// Σ_{i ≥ start_j} tw_i (t_i − s_j), with suffix sums built from the end.
		j := len(d.cps) - 1
		var aw, awt float64
		for i := len(d.t) - 1; i >= -1 && j >= 0; i-- {
			for j >= 0 && d.cpStart[j] == i+1 {
				grad[l.delta()+j] = awt - d.cps[j]*aw
				j--
			}
			if i >= 0 {
				aw += r.wt[i]
				awt += r.wt[i] * d.t[i]
			}
		}
	}
	if l.k > 0 {
		if d.mult {
			for i := range r.w {
				r.w[i] *= r.trend[i]
			}
		}
		blas64.Gemv(blas.Trans, 1, x, blas64.Vector{N: len(r.w), Inc: 1, Data: r.w}, 0,
			blas64.Vector{N: l.k, Inc: 1, Data: grad[l.beta():]})
	}
	return ssr
}
