package trend

import (
	"context"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack"
	"gonum.org/v1/gonum/lapack/lapack64"
)

// Stan's Newton optimizer as CmdStan 2.33 (the version Prophet ships) runs
// it: stan/services/optimize/newton.hpp around stan/optimization/newton.hpp,
// with the Hessian of stan/model/grad_hess_log_prob.hpp.
const (
	// prophetNewtonRows: Prophet optimises with Newton when the history has
	// fewer rows than this (models.py: algorithm='Newton' if T < 100).
	prophetNewtonRows = 100
	newtonTolObj      = 1e-8  // stop when the objective changes by at most this
	newtonMinStep     = 1e-50 // step halving gives up below this step size
	hessianEpsilon    = 1e-3  // grad_hess_log_prob's finite-difference step
)

// hessianStencil is grad_hess_log_prob's fourth-order central difference:
// offsets in units of hessianEpsilon, and weights.
var hessianStencil = [4]struct{ offset, weight float64 }{
	{-2, 1.0 / 12}, {-1, -2.0 / 3}, {1, 2.0 / 3}, {2, -1.0 / 12},
}

// newtonSolver holds the state and scratch space of one Newton run.
type newtonSolver struct {
	obj  *negLogPosterior
	free []int     // parameters Newton moves (see freeParams)
	full []float64 // n×n Hessian of the objective
	h    []float64 // m×m matrix over the free parameters; eigenvectors after direction
	chol []float64 // its Cholesky factor
	grad []float64 // gradient at the current point (all n parameters)
	eig  []float64 // eigenvalues
	proj []float64 // eigenvector projections of the gradient
	dir  []float64 // step direction over the free parameters
	xt   []float64 // trial point
	work []float64 // LAPACK workspace
}

// freeParams lists the parameters an optimiser can move. With flat growth
// nothing in the likelihood depends on k or delta: their gradient is zero
// at the initial zeros and their block of the Hessian is separate, so
// Stan's Newton step leaves them at 0; they are left out of the solve
// rather than perturbed by rounding in the eigensolver.
func freeParams(d *design) []int {
	l := d.layout()
	var free []int
	for i := range l.params() {
		if d.linear || (i != 0 && (i < l.delta() || i >= l.sigma())) {
			free = append(free, i)
		}
	}
	return free
}

func newNewtonSolver(obj *negLogPosterior) *newtonSolver {
	n := obj.l.params()
	free := freeParams(obj.d)
	m := len(free)
	s := &newtonSolver{obj: obj, free: free,
		full: make([]float64, n*n), h: make([]float64, m*m), chol: make([]float64, m*m), grad: make([]float64, n),
		eig: make([]float64, m), proj: make([]float64, m), dir: make([]float64, m),
		xt: make([]float64, n), work: make([]float64, 1)}
	lapack64.Syev(lapack.EVCompute, s.symmetric(), s.eig, s.work, -1)
	s.work = make([]float64, int(s.work[0]))
	return s
}

func (s *newtonSolver) symmetric() blas64.Symmetric {
	m := len(s.free)
	return blas64.Symmetric{N: m, Stride: m, Uplo: blas.Upper, Data: s.h}
}

// stanHessian fills s.h with the matrix that Stan's newton_step solves
// with at x, over the free parameters. grad_hess_log_prob differentiates
// the gradient with the central stencil above at a fixed step ε = 1e-3 and
// multiplies by ε/2 where a finite difference divides by it, adding each
// weighted gradient to row d and to column d; so the matrix is
//
//	ε²·∇²f + ε·diag(Σᵢ wᵢ·sign(δⱼ + oᵢ·ε)/τ)
//
// The first term is ε² times the Hessian, computed analytically (the
// stencil is exact on the sum of squares, a polynomial of degree 2 or 4,
// and within about 1e-12 relative in sigma). The second is the
// stencil straddling the Laplace prior's kink: nonzero when |δⱼ| < 2ε
// (positive curvature within ε of 0, negative beyond). Both are Prophet's
// behaviour and are kept: the step halving then settles near a step of
// 2⁻¹⁹ ≈ 1.9·ε², about 1.9 Newton steps, and rate changes near zero move
// slowly.
func (s *newtonSolver) stanHessian(x []float64) {
	o := s.obj
	n, m := o.l.params(), len(s.free)
	o.hessian(x, s.full)
	const eps2 = hessianEpsilon * hessianEpsilon
	for a, i := range s.free {
		for b, j := range s.free {
			s.h[a*m+b] = eps2 * s.full[i*n+j]
		}
		if i < o.l.delta() || i >= o.l.sigma() {
			continue
		}
		var kink float64
		for _, st := range hessianStencil {
			kink += st.weight * sign(x[i]+st.offset*hessianEpsilon) / o.d.tau
		}
		s.h[a*m+a] += hessianEpsilon * kink
	}
}

// direction sets s.dir to Stan's make_negative_definite_and_solve applied
// to the gradient: −V·|Λ|⁻¹·Vᵀ·∇f over the free parameters (H = VΛVᵀ),
// which descends along every eigenvector whatever the sign of its
// curvature. When H is positive definite |Λ| = Λ and that is −H⁻¹·∇f, so
// a Cholesky solve gives it at a fraction of the cost of the
// eigendecomposition, which is left for indefinite H. It reports false
// when the result is not finite (a zero eigenvalue), where Stan's step
// halving finds no finite trial point and the step fails.
func (s *newtonSolver) direction() bool {
	m := len(s.free)
	for a, i := range s.free {
		s.dir[a] = s.grad[i]
	}
	copy(s.chol, s.h)
	if t, ok := lapack64.Potrf(blas64.Symmetric{N: m, Stride: m, Uplo: blas.Upper, Data: s.chol}); ok {
		lapack64.Potrs(t, blas64.General{Rows: m, Cols: 1, Stride: 1, Data: s.dir})
		for a := range s.dir {
			s.dir[a] = -s.dir[a]
		}
		return finite(s.dir...)
	}
	if !lapack64.Syev(lapack.EVCompute, s.symmetric(), s.eig, s.work, len(s.work)) {
		return false
	}
	v := blas64.General{Rows: m, Cols: m, Stride: m, Data: s.h}
	blas64.Gemv(blas.Trans, 1, v, blas64.Vector{N: m, Inc: 1, Data: s.dir}, 0,
		blas64.Vector{N: m, Inc: 1, Data: s.proj})
	for i, p := range s.proj {
		s.proj[i] = -p / math.Abs(s.eig[i])
	}
	blas64.Gemv(blas.NoTrans, 1, v, blas64.Vector{N: m, Inc: 1, Data: s.proj}, 0,
		blas64.Vector{N: m, Inc: 1, Data: s.dir})
	return finite(s.dir...)
}

// step is Stan's newton_step from x, which it updates in place: along the
// direction with step sizes 1, 1/2, 1/4, … until the objective does not
// increase; a trial point where it is not finite is rejected, as Stan
// rejects one where the log density throws. Below newtonMinStep it gives
// up and x stays. It returns f at the new x and whether x moved. Most
// trial steps are far too long (the matrix is ε² times the Hessian), and
// their priors alone already exceed f(x): those are rejected from the
// lower bound withFit(x, 0) without computing the fit, which decides
// exactly as the full evaluation would.
func (s *newtonSolver) step(x []float64) (float64, bool) {
	f0 := s.obj.eval(x, s.grad)
	s.stanHessian(x)
	if !s.direction() {
		return f0, false
	}
	copy(s.xt, x)
	for size := 1.0; size >= newtonMinStep; size /= 2 {
		for a, i := range s.free {
			s.xt[i] = x[i] + size*s.dir[a]
		}
		if s.obj.withFit(s.xt, 0) > f0 {
			continue // f is larger still: no need to evaluate the fit
		}
		if f1 := s.obj.eval(s.xt, nil); f1 <= f0 {
			copy(x, s.xt)
			return f1, true
		}
	}
	return f0, false
}

// newtonMAP minimises obj from x0 with Stan's Newton method: Newton steps
// until the objective changes by at most newtonTolObj, a step fails, or
// stanIterations steps are taken. Stan compares the first step's log
// density with an initial value that includes the constants the steps
// drop, so the first step never stops it; the test applies from the
// second step on.
func newtonMAP(ctx context.Context, obj *negLogPosterior, x0 []float64) ([]float64, FitInfo, error) {
	info := FitInfo{Method: string(AlgorithmNewton)}
	last := obj.eval(x0, nil)
	if !finite(last) {
		return nil, info, fmt.Errorf("%w: objective at the initial values is %v", ErrFit, last)
	}
	x := slices.Clone(x0)
	s := newNewtonSolver(obj)
	info.Status = "iteration limit"
	for it := range stanIterations {
		if err := ctx.Err(); err != nil {
			return nil, info, fmt.Errorf("fit stopped after %d iterations: %w", it, err)
		}
		f, moved := s.step(x)
		info.Iterations = it + 1
		if !moved {
			info.Status = "no decrease down to a step size of 1e-50"
			break
		}
		if it > 0 && math.Abs(f-last) <= newtonTolObj {
			info.Status = "objective change within 1e-8"
			last = f
			break
		}
		last = f
	}
	info.Objective = last
	info.Evaluations = obj.evals
	if !finite(x...) {
		return nil, info, fmt.Errorf("%w: Newton's method ended at non-finite parameters", ErrFit)
	}
	return x, info, nil
}
