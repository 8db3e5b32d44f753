package trend

import (
	"context"
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
	stanMaxLSIts   = 20    // trial steps per line search (Stan's WolfeLineSearch)
)

// cappedLinesearch is Moré–Thuente with Stan's sufficient-decrease and
// curvature constants and Stan's limit on trial steps: on the non-smooth
// Laplace term an uncapped search can bisect a kink for hundreds of steps.
type cappedLinesearch struct {
	mt    optimize.MoreThuente
	steps int
}

func newCappedLinesearch() *cappedLinesearch {
	return &cappedLinesearch{mt: optimize.MoreThuente{DecreaseFactor: 1e-4, CurvatureFactor: 0.9}}
}

func (c *cappedLinesearch) Init(value, derivative, step float64) optimize.Operation {
	c.steps = 0
	return c.mt.Init(value, derivative, step)
}

func (c *cappedLinesearch) Iterate(value, derivative float64) (optimize.Operation, float64, error) {
	c.steps++
	if c.steps > stanMaxLSIts {
		return optimize.NoOperation, 0, optimize.ErrLinesearcherFailure
	}
	return c.mt.Iterate(value, derivative)
}

// ErrFit is wrapped when the optimiser cannot produce finite parameters.
var ErrFit = errors.New("trend: fit failed")

// FitInfo describes how the parameters were obtained.
type FitInfo struct {
	// Method is the optimiser that produced the parameters, "lbfgs" or
	// "newton" (see Algorithm; a Newton fit after a failed L-BFGS run says
	// so in Status), or "constant" (Prophet's shortcut for a constant
	// history: initial values, sigma_obs 1e-9, no optimisation) or
	// "fallback" (see FitWithFallback).
	Method      string  `json:"method"`
	Iterations  int     `json:"iterations"`
	Evaluations int     `json:"evaluations"` // objective evaluations
	Objective   float64 `json:"objective"`   // minus the log posterior at the optimum (Stan's -lp__)
	// Status is why the optimiser stopped.
	Status string `json:"status"`
}

// stanConverger applies Stan's L-BFGS termination tests that need only the
// iterates: absolute and relative objective change and parameter step.
// (minimise tests the gradient; Stan's relative-gradient test needs its
// inverse Hessian approximation and is not reproduced, so the search may
// run a little longer than Stan's.)
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

// lbfgsRun is one L-BFGS run: gonum's L-BFGS directions and line search,
// driven synchronously (gonum's Minimize runs them on goroutines, whose
// hand-offs cost more than an evaluation of this objective).
type lbfgsRun struct {
	ls  *optimize.LinesearchMethod
	loc *optimize.Location
	cv  stanConverger
}

func newLBFGSRun(x []float64, f float64, g []float64) *lbfgsRun {
	r := &lbfgsRun{
		ls: &optimize.LinesearchMethod{
			NextDirectioner: &optimize.LBFGS{Store: stanHistory},
			Linesearcher:    newCappedLinesearch(),
		},
		loc: &optimize.Location{X: slices.Clone(x), F: f, Gradient: slices.Clone(g)},
	}
	r.cv.Init(len(x))
	r.cv.Converged(r.loc)
	return r
}

// errLBFGS is wrapped when L-BFGS stops where Stan's would stop with an
// error: a line search fails right after the memory was emptied.
var errLBFGS = errors.New("L-BFGS failed")

// maximumAPosteriori minimises the negative log posterior of d from x0 as
// Prophet has Stan do it (models.py): with Newton's method (newtonMAP) for
// histories under 100 rows or when alg asks for it, otherwise with L-BFGS
// (minimise); when L-BFGS fails, Prophet logs "Optimization terminated
// abnormally. Falling back to Newton." and runs Newton from the same
// initial values, and so does this. FitInfo then describes the Newton run,
// its Status starts with the L-BFGS error and Evaluations counts both runs.
func maximumAPosteriori(ctx context.Context, d *design, x0 []float64, alg Algorithm) ([]float64, FitInfo, error) {
	var rss sumSquares
	if d.mult {
		rss = newDirectSSR(d)
	} else {
		rss = newReducedSSR(d)
	}
	obj := newNegLogPosterior(d, rss)
	if alg == AlgorithmNewton || alg == AlgorithmAuto && len(d.t) < prophetNewtonRows {
		return newtonMAP(ctx, obj, x0)
	}
	x, info, err := minimise(ctx, obj, x0)
	if !errors.Is(err, errLBFGS) {
		return x, info, err
	}
	x, info, newtonErr := newtonMAP(ctx, obj, x0)
	info.Status = fmt.Sprintf("%v; Newton: %s", err, info.Status)
	return x, info, newtonErr
}

// minimise runs L-BFGS on obj: gonum's L-BFGS directions and line search
// with Stan's history size, line-search constants and trial-step limit,
// and analytic gradients, until one of Stan's convergence tests holds. The
// Laplace prior makes the objective non-smooth at δ = 0, so the line
// search can stall; Stan then resets its Hessian approximation and carries
// on ("LS failed, Hessian reset"). This does the same: after a failed line
// search the run restarts from the best iterate with an empty memory. When
// the line search fails again at once, where Stan reports an error, the
// error wraps errLBFGS. The fit stops, with ctx's error, at the first iteration after ctx ends.
func minimise(ctx context.Context, obj *negLogPosterior, x0 []float64) ([]float64, FitInfo, error) {
	cache := &evalCache{obj: obj}
	f0 := cache.value(x0)
	if math.IsNaN(f0) || math.IsInf(f0, 0) {
		return nil, FitInfo{}, fmt.Errorf("%w: objective at the initial values is %v", ErrFit, f0)
	}
	best := &optimize.Location{X: slices.Clone(x0), F: f0, Gradient: slices.Clone(cache.g)}
	info := FitInfo{Method: string(AlgorithmLBFGS)}
	for reset := 0; ; reset++ {
		startF := best.F
		run := newLBFGSRun(best.X, best.F, best.Gradient)
		status, err := run.minimise(ctx, cache, best, &info)
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, info, fmt.Errorf("fit stopped after %d iterations: %w", info.Iterations, ctxErr)
		}
		if err == nil {
			info.Status = status.String()
			break
		}
		info.Status = err.Error()
		if best.F >= startF {
			info.Evaluations = obj.evals
			return nil, info, fmt.Errorf("%w: line search with an empty memory made no progress after %d iterations: %w",
				errLBFGS, info.Iterations, err)
		}
		if reset == maxResets || info.Iterations >= stanIterations {
			break
		}
	}
	info.Objective = best.F
	info.Evaluations = obj.evals
	for i, v := range best.X {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, info, fmt.Errorf("%w: parameter %d is %v after optimisation", ErrFit, i, v)
		}
	}
	return best.X, info, nil
}

// minimise iterates until convergence (nil error), the iteration budget,
// or a line-search failure (the error). Every accepted iterate that lowers
// the objective is copied into best.
func (r *lbfgsRun) minimise(ctx context.Context, cache *evalCache, best *optimize.Location, info *FitInfo) (optimize.Status, error) {
	const evaluation = optimize.FuncEvaluation | optimize.GradEvaluation
	op, err := r.ls.Init(r.loc)
	for err == nil {
		switch {
		case op == optimize.MajorIteration:
			if err := ctx.Err(); err != nil {
				return optimize.Failure, err
			}
			info.Iterations++
			if r.loc.F < best.F {
				best.F = r.loc.F
				copy(best.X, r.loc.X)
				copy(best.Gradient, r.loc.Gradient)
			}
			if floats.Norm(r.loc.Gradient, math.Inf(1)) < stanTolGrad {
				return optimize.GradientThreshold, nil
			}
			if s := r.cv.Converged(r.loc); s != optimize.NotTerminated {
				return s, nil
			}
			if info.Iterations >= stanIterations {
				return optimize.IterationLimit, nil
			}
		case op&evaluation != 0:
			if op&optimize.FuncEvaluation != 0 {
				r.loc.F = cache.value(r.loc.X)
			}
			if op&optimize.GradEvaluation != 0 {
				cache.gradient(r.loc.Gradient, r.loc.X)
			}
		default:
			return optimize.Failure, fmt.Errorf("unexpected operation %v", op)
		}
		op, err = r.ls.Iterate(r.loc)
	}
	return optimize.Failure, err
}
