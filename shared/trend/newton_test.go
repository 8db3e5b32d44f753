package trend

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// gradHessLogProb is Stan's grad_hess_log_prob written out over the free
// parameters: the gradient at x + o·ε·e_d for each stencil offset o,
// weighted by (ε/2)·w and added to row d and to column d. It is the
// reference for newtonSolver.stanHessian.
func gradHessLogProb(obj *negLogPosterior, free []int, x []float64) []float64 {
	m := len(free)
	h := make([]float64, m*m)
	xp := slices.Clone(x)
	g := make([]float64, len(x))
	for a, d := range free {
		for _, st := range hessianStencil {
			xp[d] = x[d] + st.offset*hessianEpsilon
			obj.eval(xp, g)
			for b, dd := range free {
				inc := hessianEpsilon / 2 * st.weight * g[dd]
				h[a*m+b] += inc
				h[a+b*m] += inc
			}
		}
		xp[d] = x[d]
	}
	return h
}

var objectiveCases = []struct {
	name    string
	growth  Growth
	mode    Mode
	reduced bool
}{
	{"additive direct", GrowthLinear, Additive, false},
	{"additive reduced", GrowthLinear, Additive, true},
	{"multiplicative", GrowthLinear, Multiplicative, false},
	{"flat additive reduced", GrowthFlat, Additive, true},
	{"flat multiplicative", GrowthFlat, Multiplicative, false},
}

func caseObjective(t testing.TB, n int, growth Growth, mode Mode, reduced bool) *negLogPosterior {
	d := testDesign(t, n, growth, mode)
	if reduced {
		return newNegLogPosterior(d, newReducedSSR(d))
	}
	return newNegLogPosterior(d, newDirectSSR(d))
}

// The analytic Hessian agrees with central differences of the analytic
// gradient away from the Laplace kink.
func TestHessianMatchesFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, c := range objectiveCases {
		t.Run(c.name, func(t *testing.T) {
			obj := caseObjective(t, 300, c.growth, c.mode, c.reduced)
			n := obj.l.params()
			h := make([]float64, n*n)
			gp, gm := make([]float64, n), make([]float64, n)
			for range 3 {
				x := randomParams(obj.l, rng)
				obj.hessian(x, h)
				for j := range n {
					step := 1e-6 * math.Max(1, math.Abs(x[j]))
					xp, xm := slices.Clone(x), slices.Clone(x)
					xp[j] += step
					xm[j] -= step
					obj.eval(xp, gp)
					obj.eval(xm, gm)
					for i := range n {
						fd := (gp[i] - gm[i]) / (2 * step)
						if math.Abs(fd-h[i*n+j]) > 1e-5*math.Max(1, math.Abs(fd)) {
							t.Errorf("∂²f/∂x%d∂x%d: analytic %v, finite difference %v", i, j, h[i*n+j], fd)
						}
					}
				}
			}
		})
	}
}

// stanHessian is Stan's finite-difference matrix, including its ε² scale
// and the stencil straddling the Laplace kink, at rate changes of exactly
// zero, within ε of zero and between ε and 2ε of zero.
func TestStanHessianMatchesGradHessLogProb(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	nearKink := []float64{0, 0.4e-3, -0.7e-3, 1.5e-3, -1.2e-3, 2.5e-3}
	for _, c := range objectiveCases {
		t.Run(c.name, func(t *testing.T) {
			obj := caseObjective(t, 80, c.growth, c.mode, c.reduced)
			s := newNewtonSolver(obj)
			m := len(s.free)
			for range 3 {
				x := randomParams(obj.l, rng)
				if c.growth == GrowthFlat {
					x[0] = 0
					clear(x[obj.l.delta():obj.l.sigma()])
				} else {
					for j, v := range nearKink {
						x[obj.l.delta()+j] = v
					}
				}
				s.stanHessian(x)
				want := gradHessLogProb(obj, s.free, x)
				scale := 0.0
				for _, v := range want {
					scale = math.Max(scale, math.Abs(v))
				}
				for i := range m * m {
					if math.Abs(s.h[i]-want[i]) > 1e-9*scale {
						t.Errorf("entry (%d, %d): %v, grad_hess_log_prob %v", i/m, i%m, s.h[i], want[i])
					}
				}
			}
		})
	}
}

// The direction is −V·|Λ|⁻¹·Vᵀ·∇f, by the Cholesky path for a positive
// definite matrix and by the eigendecomposition for an indefinite one.
func TestNewtonDirection(t *testing.T) {
	obj := caseObjective(t, 80, GrowthLinear, Additive, true)
	s := newNewtonSolver(obj)
	m := len(s.free)
	rng := rand.New(rand.NewPCG(25, 26))
	for _, shift := range []float64{float64(m), -2} { // definite, then indefinite
		a := mat.NewDense(m, m, nil)
		for i := range m {
			for j := range m {
				a.Set(i, j, rng.NormFloat64())
			}
		}
		var sym mat.SymDense
		sym.SymOuterK(1.0/float64(m), a)
		for i := range m {
			sym.SetSym(i, i, sym.At(i, i)+shift*rng.Float64())
		}
		for i := range m {
			for j := range m {
				s.h[i*m+j] = sym.At(i, j)
			}
		}
		for _, i := range s.free {
			s.grad[i] = rng.NormFloat64()
		}
		var eig mat.EigenSym
		if !eig.Factorize(&sym, true) {
			t.Fatal("reference eigendecomposition failed")
		}
		var v mat.Dense
		eig.VectorsTo(&v)
		vals := eig.Values(nil)
		if definite := slices.Min(vals) > 0; definite != (shift > 0) {
			t.Fatalf("shift %v: eigenvalues %v", shift, vals)
		}
		g := mat.NewVecDense(m, nil)
		for a, i := range s.free {
			g.SetVec(a, s.grad[i])
		}
		var proj, want mat.VecDense
		proj.MulVec(v.T(), g)
		for i, l := range vals {
			proj.SetVec(i, -proj.AtVec(i)/math.Abs(l))
		}
		want.MulVec(&v, &proj)
		if !s.direction() {
			t.Fatalf("shift %v: direction not finite", shift)
		}
		for i := range m {
			if d := math.Abs(s.dir[i] - want.AtVec(i)); d > 1e-9*math.Max(1, math.Abs(want.AtVec(i))) {
				t.Errorf("shift %v: direction %d is %v, want %v", shift, i, s.dir[i], want.AtVec(i))
			}
		}
	}
}

// Fit chooses the optimiser as Prophet does: Newton under 100 rows,
// L-BFGS from 100 rows on, either when asked; the automatic choice gives
// exactly what the forced one gives.
func TestAlgorithmChoice(t *testing.T) {
	cases := []struct {
		rows int
		alg  Algorithm
		want string
	}{
		{99, AlgorithmAuto, "newton"},
		{100, AlgorithmAuto, "lbfgs"},
		{60, AlgorithmLBFGS, "lbfgs"},
		{150, AlgorithmNewton, "newton"},
	}
	for _, c := range cases {
		ds, y, _ := retailSeries(c.rows, 41, 2, false)
		o := DefaultOptions()
		o.Algorithm = c.alg
		m, err := Fit(context.Background(), ds, y, o)
		if err != nil {
			t.Fatal(err)
		}
		if m.FitInfo().Method != c.want {
			t.Errorf("%d rows, %s: method %q, want %q", c.rows, c.alg, m.FitInfo().Method, c.want)
		}
		if c.alg != AlgorithmAuto {
			continue
		}
		o.Algorithm = Algorithm(c.want)
		forced, err := Fit(context.Background(), ds, y, o)
		if err != nil {
			t.Fatal(err)
		}
		if !equalParams(m.Params(), forced.Params()) {
			t.Errorf("%d rows: automatic choice %+v differs from forced %s %+v", c.rows, m.Params(), c.want, forced.Params())
		}
	}
}

func equalParams(a, b Params) bool {
	return a.K == b.K && a.M == b.M && a.SigmaObs == b.SigmaObs &&
		slices.Equal(a.Delta, b.Delta) && slices.Equal(a.Beta, b.Beta)
}

// When L-BFGS fails, Prophet runs Newton from the same initial values. With
// no changepoints, the dummy one at t=0 duplicates k and its MAP rate
// change sits on the Laplace kink at 0, where L-BFGS's line search stalls
// with a fresh memory on this series.
func TestLBFGSFailureFallsBackToNewton(t *testing.T) {
	ds := days("2020-01-01", 200)
	y := make([]float64, len(ds))
	for i := range y {
		y[i] = 5 + 0.1*float64(i) + math.Sin(float64(i))
	}
	o := DefaultOptions()
	o.NChangepoints = 0
	m, err := Fit(context.Background(), ds, y, o)
	if err != nil {
		t.Fatal(err)
	}
	info := m.FitInfo()
	if info.Method != "newton" || !strings.HasPrefix(info.Status, "L-BFGS failed: ") || !strings.Contains(info.Status, "; Newton: ") {
		t.Fatalf("fit %+v, want a Newton fit after an L-BFGS failure", info)
	}
	o.Algorithm = AlgorithmNewton
	newton, err := Fit(context.Background(), ds, y, o)
	if err != nil {
		t.Fatal(err)
	}
	if !equalParams(m.Params(), newton.Params()) || info.Evaluations <= newton.FitInfo().Evaluations {
		t.Errorf("fallback %+v (%+v) is not Newton from the initial values %+v (%+v)",
			m.Params(), info, newton.Params(), newton.FitInfo())
	}
}

// Newton fits are deterministic, to the bit.
func TestNewtonIsDeterministic(t *testing.T) {
	for _, mode := range []Mode{Additive, Multiplicative} {
		ds, y, _ := retailSeries(60, 43, 3, mode == Multiplicative)
		o := DefaultOptions()
		o.SeasonalityMode = mode
		a, err := Fit(context.Background(), ds, y, o)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Fit(context.Background(), ds, y, o)
		if err != nil {
			t.Fatal(err)
		}
		if a.FitInfo().Method != "newton" || !equalParams(a.Params(), b.Params()) || a.FitInfo() != b.FitInfo() {
			t.Errorf("%s: two fits differ: %+v %+v", mode, a.FitInfo(), b.FitInfo())
		}
	}
}

// Newton stops with Stan's rules: on a history the model can interpolate
// (3 rows, more parameters) the posterior has no maximum and the step
// halving eventually finds no decrease; on a regular short series the
// objective settles within 1e-8.
func TestNewtonStoppingRules(t *testing.T) {
	cases := []struct {
		rows   int
		status string
	}{
		{3, "no decrease down to a step size of 1e-50"},
		{60, "objective change within 1e-8"},
	}
	for _, c := range cases {
		ds, y, _ := retailSeries(c.rows, 1, 1, false)
		m, err := Fit(context.Background(), ds, y, DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		if info := m.FitInfo(); info.Status != c.status || info.Iterations >= stanIterations {
			t.Errorf("%d rows: %+v, want status %q", c.rows, info, c.status)
		}
	}
}
