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

// sumSquares evaluates the residual sum of squares of a parameter vector:
// ssr writes its gradient with respect to every parameter except sigma
// (whose slot is left at zero) into grad; hessian writes its Hessian into
// h, row-major over the whole parameter vector, sigma's row and column zero.
type sumSquares interface {
	ssr(theta, grad []float64) float64
	hessian(theta, h []float64)
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
	f := o.withFit(x, ssr*inv/2)
	if grad == nil {
		return f
	}
	k, m := x[0], x[1]
	delta := x[l.delta():l.sigma()]
	beta := x[l.beta():]
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

// hessian writes the Hessian of f at x into h (row-major, n×n). The
// Laplace term is linear on either side of δ = 0 and adds nothing; Newton's
// method accounts for its kink as Stan does (see newtonSolver.stanHessian).
//
//	∂²f/∂θ² = ∇²SSR/(2σ²) + prior precisions,  ∂²f/∂θ∂u = −∇SSR/σ²,  ∂²f/∂u² = 8σ² + 2·SSR/σ²
func (o *negLogPosterior) hessian(x, h []float64) {
	l := o.l
	n := l.params()
	s := l.sigma()
	u := x[s]
	inv := math.Exp(-2 * u)
	ssr := o.rss.ssr(x, o.gRSS)
	o.rss.hessian(x, h)
	for i := range h {
		h[i] *= inv / 2
	}
	h[0] += 1.0 / 25
	h[n+1] += 1.0 / 25
	for b, p := range o.d.prec {
		i := l.beta() + b
		h[i*n+i] += p
	}
	for i, g := range o.gRSS {
		if i != s {
			h[i*n+s], h[s*n+i] = -g*inv, -g*inv
		}
	}
	h[s*n+s] = 8*math.Exp(2*u) + 2*ssr*inv
}

// withFit is f at x given its likelihood term SSR/(2σ²), fit: the other
// terms are added to it in one fixed order. With fit = 0 it is a lower
// bound on f even in floating point, since rounded addition is monotonic,
// at a cost of O(params).
func (o *negLogPosterior) withFit(x []float64, fit float64) float64 {
	l := o.l
	u := x[l.sigma()]
	sigma := math.Exp(u)
	k, m := x[0], x[1]
	f := k*k/50 + m*m/50 + 2*sigma*sigma + o.nObs*u + fit
	for _, v := range x[l.delta():l.sigma()] {
		f += math.Abs(v) / o.d.tau
	}
	for b, v := range x[l.beta():] {
		f += v * v * o.d.prec[b] / 2
	}
	return f
}

// directSSR evaluates the model row by row, in O(T·K) per call: the
// reference implementation, and the one used for multiplicative seasonality.
type directSSR struct {
	d               *design
	s, trend, w, wt []float64
	jac, cross      []float64 // scratch for hessian
}

func newDirectSSR(d *design) *directSSR {
	n := len(d.t)
	return &directSSR{d: d, s: make([]float64, n), trend: make([]float64, n),
		w: make([]float64, n), wt: make([]float64, n)}
}

// model sets r.s to the seasonal terms and r.trend to the trend at theta.
func (r *directSSR) model(theta []float64) {
	d := r.d
	l := d.layout()
	k, m := theta[0], theta[1]
	delta := theta[l.delta():l.sigma()]
	beta := theta[l.beta():]
	if l.k > 0 {
		blas64.Gemv(blas.NoTrans, 1, d.features(), blas64.Vector{N: l.k, Inc: 1, Data: beta}, 0,
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
}

// residual is y − yhat in row i after model.
func (r *directSSR) residual(i int) float64 {
	if r.d.mult {
		return r.d.y[i] - r.trend[i]*(1+r.s[i])
	}
	return r.d.y[i] - (r.trend[i] + r.s[i])
}

func (r *directSSR) ssr(theta, grad []float64) float64 {
	d := r.d
	l := d.layout()
	x := d.features()
	r.model(theta)
	var ssr float64
	for i := range d.y {
		res := r.residual(i)
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

// hessian is 2·JᵀJ − 2·Σ rᵢ·∇²yhatᵢ, J the Jacobian of yhat. Additive yhat
// is linear in θ; multiplicative yhat = trend·(1 + Xβ) is bilinear, so its
// only second derivatives are ∂²yhatᵢ/∂θ_trend∂β = aᵢ·xᵢ, aᵢ the row of
// the trend's design ([t, 1, (t − s_j)+] or [1] for flat growth).
func (r *directSSR) hessian(theta, h []float64) {
	d := r.d
	l := d.layout()
	n := l.params()
	rows := len(d.t)
	if r.jac == nil {
		r.jac = make([]float64, rows*n)
	}
	r.model(theta)
	clear(r.jac)
	for i, t := range d.t {
		row := r.jac[i*n : (i+1)*n]
		trendScale, betaScale := 1.0, 1.0
		if d.mult {
			trendScale, betaScale = 1+r.s[i], r.trend[i]
		}
		r.trendRow(row, t, trendScale)
		for b := range l.k {
			row[l.beta()+b] = d.x[i*l.k+b] * betaScale
		}
	}
	c := blas64.Symmetric{N: n, Stride: n, Uplo: blas.Upper, Data: h}
	blas64.Syrk(blas.Trans, 2, blas64.General{Rows: rows, Cols: n, Stride: n, Data: r.jac}, 0, c)
	for i := range n {
		for j := range i {
			h[i*n+j] = h[j*n+i]
		}
	}
	if !d.mult || l.k == 0 {
		return
	}
	// Cross terms Σᵢ −2rᵢ·aᵢ·xᵢᵀ between the trend parameters and beta: the
	// Jacobian's trend columns are reused for −2rᵢ·aᵢ.
	nt := l.sigma()
	for i, t := range d.t {
		row := r.jac[i*n : i*n+nt]
		clear(row)
		r.trendRow(row, t, -2*r.residual(i))
	}
	if r.cross == nil {
		r.cross = make([]float64, nt*l.k)
	}
	blas64.Gemm(blas.Trans, blas.NoTrans, 1, blas64.General{Rows: rows, Cols: nt, Stride: n, Data: r.jac},
		d.features(), 0, blas64.General{Rows: nt, Cols: l.k, Stride: l.k, Data: r.cross})
	for p := range nt {
		for b, c := range r.cross[p*l.k : (p+1)*l.k] {
			h[p*n+l.beta()+b] += c
			h[(l.beta()+b)*n+p] += c
		}
	}
}

// trendRow writes scale times the trend's design row at time t into the
// trend slots (k, m, delta) of row.
func (r *directSSR) trendRow(row []float64, t, scale float64) {
	d := r.d
	if !d.linear {
		row[1] = scale
		return
	}
	row[0], row[1] = t*scale, scale
	for j, c := range d.cps {
		if c <= t {
			row[2+j] = (t - c) * scale
		}
	}
}
