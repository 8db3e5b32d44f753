package trend

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/lapack/lapack64"
)

// reducedSSR evaluates the residual sum of squares of an additive model in
// O(p²) per call, independent of the history length. With additive
// seasonality yhat = Aθ is linear in θ = (k, m, δ, β), so with the
// Householder factorisation A = QR, computed once,
//
//	‖y − Aθ‖² = ‖c − Rθ‖² + e,  c = (Qᵀy)[:r],  e = ‖(Qᵀy)[r:]‖²,  r = min(T, p).
//
// Both terms are sums of squares, so nothing cancels (unlike the normal
// equations), and a rank-deficient A (short histories, flat growth's unused
// columns) needs no special case.
type reducedSSR struct {
	r, p  int
	rMat  []float64 // r×p, upper trapezoidal, row-major
	c     []float64 // first r entries of Qᵀy
	e     float64   // squared norm of the rest of Qᵀy
	param []int     // column → index in the parameter vector
	theta []float64 // scratch: parameters in column order
	g     []float64 // scratch: gradient in column order
	v     []float64 // scratch: c − Rθ
	n     int       // length of the parameter vector
	hess  []float64 // 2·RᵀR over the parameter vector, built on first use
}

// newReducedSSR factorises the additive design of d. It panics on a
// multiplicative design, which is not linear in θ.
func newReducedSSR(d *design) *reducedSSR {
	if d.mult {
		panic("trend: reducedSSR needs additive seasonality")
	}
	l := d.layout()
	var param []int
	if d.linear {
		param = append(param, 0, 1)
		for j := range l.s {
			param = append(param, l.delta()+j)
		}
	} else {
		param = append(param, 1)
	}
	for b := range l.k {
		param = append(param, l.beta()+b)
	}
	n, p := len(d.t), len(param)
	a := make([]float64, n*p)
	for i, t := range d.t {
		row := a[i*p : (i+1)*p]
		c := 0
		if d.linear {
			row[0], row[1] = t, 1
			for j, s := range d.cps {
				if t >= s {
					row[2+j] = t - s
				}
			}
			c = 2 + l.s
		} else {
			row[0] = 1
			c = 1
		}
		copy(row[c:], d.x[i*l.k:(i+1)*l.k])
	}
	r := min(n, p)
	ga := blas64.General{Rows: n, Cols: p, Stride: p, Data: a}
	tau := make([]float64, r)
	work := make([]float64, 1)
	lapack64.Geqrf(ga, tau, work, -1)
	work = make([]float64, int(work[0]))
	lapack64.Geqrf(ga, tau, work, len(work))

	qty := append([]float64(nil), d.y...)
	gy := blas64.General{Rows: n, Cols: 1, Stride: 1, Data: qty}
	lapack64.Ormqr(blas.Left, blas.Trans, ga, tau, gy, work[:1], -1)
	if need := int(work[0]); need > len(work) {
		work = make([]float64, need)
	}
	lapack64.Ormqr(blas.Left, blas.Trans, ga, tau, gy, work, len(work))

	rs := &reducedSSR{r: r, p: p, n: l.params(), rMat: make([]float64, r*p), c: qty[:r], param: param,
		theta: make([]float64, p), g: make([]float64, p), v: make([]float64, r)}
	for i := range r {
		copy(rs.rMat[i*p+i:(i+1)*p], a[i*p+i:(i+1)*p])
	}
	for _, v := range qty[r:] {
		rs.e += v * v
	}
	return rs
}

func (rs *reducedSSR) ssr(theta, grad []float64) float64 {
	p, th, g := rs.p, rs.theta, rs.g
	for c, i := range rs.param {
		th[c] = theta[i]
	}
	ssr := rs.e
	for i := range rs.r {
		v := rs.c[i] - floats.Dot(rs.rMat[i*p+i:(i+1)*p], th[i:])
		rs.v[i] = v
		ssr += v * v
	}
	clear(g)
	for i := range rs.r {
		floats.AddScaled(g[i:], -2*rs.v[i], rs.rMat[i*p+i:(i+1)*p])
	}
	clear(grad)
	for c, i := range rs.param {
		grad[i] = g[c]
	}
	return ssr
}

// hessian is the constant 2·RᵀR (= 2·AᵀA), scattered to parameter order.
func (rs *reducedSSR) hessian(_, h []float64) {
	if rs.hess == nil {
		p, n := rs.p, rs.n
		rtr := make([]float64, p*p)
		blas64.Syrk(blas.Trans, 2, blas64.General{Rows: rs.r, Cols: p, Stride: p, Data: rs.rMat}, 0,
			blas64.Symmetric{N: p, Stride: p, Uplo: blas.Upper, Data: rtr})
		rs.hess = make([]float64, n*n)
		for a, i := range rs.param {
			for b := a; b < p; b++ {
				v := rtr[a*p+b]
				rs.hess[i*n+rs.param[b]], rs.hess[rs.param[b]*n+i] = v, v
			}
		}
	}
	copy(h, rs.hess)
}
