package trend

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/optimize"
)

// Stan's L-BFGS defaults (CmdStan optimize), as Prophet runs it with iter=10000.
const (
	stanIterations = 10000
	stanHistory    = 5     // history_size
	stanTolObj     = 1e-12 // absolute change in the objective
	stanTolRelObj  = 1e4   // relative change, in units of machine epsilon
	stanTolGrad    = 1e-8  // gradient max-norm
	stanTolParam   = 1e-8  // parameter step norm
)

// ErrFit is wrapped when the optimiser cannot produce finite parameters.
var ErrFit = errors.New("trend: fit failed")

// FitInfo describes how the parameters were obtained.
type FitInfo struct {
	// Method is "lbfgs", "constant" (Prophet's shortcut for a constant
	// history: initial values, sigma_obs 1e-9, no optimisation) or
	// "fallback" (see FitWithFallback).
	Method      string  `json:"method"`
	Iterations  int     `json:"iterations"`
	Evaluations int     `json:"evaluations"`
	Objective   float64 `json:"objective"` // minus the log posterior at the optimum (Stan's -lp__)
	Status      string  `json:"status"`
}

// stanConverger applies Stan's L-BFGS termination tests that need only the
// iterates: absolute and relative objective change and parameter step. (The
// gradient test is Settings.GradientThreshold; Stan's relative-gradient test
// needs its inverse Hessian approximation and is not reproduced, so the
// search may run a little longer than Stan's.)
type stanConverger struct {
	first bool
	prevF float64
	prevX []float64
}

func (c *stanConverger) Init(dim int) {
	c.first = true
	c.prevX = make([]float64, dim)
}

func (c *stanConverger) Converged(loc *optimize.Location) optimize.Status {
	if c.first {
		c.first = false
		c.prevF = loc.F
		copy(c.prevX, loc.X)
		return optimize.NotTerminated
	}
	df := math.Abs(c.prevF - loc.F)
	rel := df / math.Max(math.Max(math.Abs(c.prevF), math.Abs(loc.F)), 1)
	step := floats.Distance(loc.X, c.prevX, 2)
	c.prevF = loc.F
	copy(c.prevX, loc.X)
	switch {
	case df < stanTolObj, rel < stanTolRelObj*epsilon:
		return optimize.FunctionConvergence
	case step < stanTolParam:
		return optimize.StepConvergence
	}
	return optimize.NotTerminated
}

// epsilon is the float64 machine epsilon, Stan's unit for relative tolerances.
const epsilon = 2.220446049250313e-16

// evalCache lets gonum ask for the value and the gradient at one point
// separately while the objective computes both in one pass.
type evalCache struct {
	obj *negLogPosterior
	x   []float64
	g   []float64
	f   float64
	ok  bool
}

func (c *evalCache) at(x []float64) {
	if c.ok && slices.Equal(c.x, x) {
		return
	}
	c.x = append(c.x[:0], x...)
	if c.g == nil {
		c.g = make([]float64, len(x))
	}
	c.f = c.obj.eval(x, c.g)
	c.ok = true
}

func (c *evalCache) value(x []float64) float64 {
	c.at(x)
	return c.f
}

func (c *evalCache) gradient(grad, x []float64) {
	c.at(x)
	copy(grad, c.g)
}

// maxResets bounds how often a stalled line search may reset the L-BFGS memory.
const maxResets = 50

// maximumAPosteriori minimises the negative log posterior of d from x0 with
// L-BFGS (Stan's history size and line-search constants, analytic
// gradients). The Laplace prior makes the objective non-smooth at δ = 0, so
// the line search can stall; Stan then resets its Hessian approximation and
// carries on ("LS failed, Hessian reset"). This does the same: after a
// line-search failure that still improved the objective, L-BFGS restarts
// from the best iterate with an empty memory. It stops on one of Stan's
// convergence tests, or when a restart makes no progress; the best iterate is
// returned and the last reason is recorded in FitInfo.Status.
func maximumAPosteriori(d *design, x0 []float64) ([]float64, FitInfo, error) {
	var rss sumSquares
	if d.mult {
		rss = newDirectSSR(d)
	} else {
		rss = newReducedSSR(d)
	}
	obj := newNegLogPosterior(d, rss)
	cache := &evalCache{obj: obj}
	f0 := cache.value(x0)
	if math.IsNaN(f0) || math.IsInf(f0, 0) {
		return nil, FitInfo{}, fmt.Errorf("%w: objective at the initial values is %v", ErrFit, f0)
	}
	problem := optimize.Problem{Func: cache.value, Grad: cache.gradient}
	info := FitInfo{Method: "lbfgs", Objective: f0}
	x := slices.Clone(x0)
	for reset := 0; ; reset++ {
		settings := &optimize.Settings{
			GradientThreshold: stanTolGrad,
			Converger:         &stanConverger{},
			MajorIterations:   stanIterations - info.Iterations,
		}
		method := &optimize.LBFGS{
			Linesearcher: &optimize.MoreThuente{DecreaseFactor: 1e-4, CurvatureFactor: 0.9},
			Store:        stanHistory,
		}
		res, err := optimize.Minimize(problem, x, settings, method)
		if res == nil {
			return nil, info, fmt.Errorf("%w: %w", ErrFit, err)
		}
		info.Iterations += res.Stats.MajorIterations
		progressed := res.F < info.Objective
		if progressed {
			info.Objective = res.F
			copy(x, res.X)
		}
		if err == nil {
			info.Status = res.Status.String()
			break
		}
		info.Status = err.Error()
		if reset == 0 && !progressed {
			return nil, info, fmt.Errorf("%w: no progress from the initial values: %w", ErrFit, err)
		}
		if !progressed || reset == maxResets || info.Iterations >= stanIterations {
			break
		}
	}
	info.Evaluations = obj.evals
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, info, fmt.Errorf("%w: parameter %d is %v after optimisation", ErrFit, i, v)
		}
	}
	return x, info, nil
}
