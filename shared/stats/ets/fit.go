package ets

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/stockcast/stockcast/shared/stats"
)

// Model is a fitted ETS model.
type Model struct {
	Spec   Spec    `json:"-"`
	Params Params  `json:"params"`
	Init   State   `json:"init"`  // the initial state (before the first step)
	Final  State   `json:"final"` // the state after the last step
	Steps  int     `json:"steps"` // steps of history, observed or not
	N      int     `json:"n"`     // observed steps
	Sigma2 float64 `json:"sigma2"`
	// Lik is R's likelihood criterion: n·log(SSE) + 2·Σlog|ŷ| (the second
	// term for multiplicative errors); AIC, AICc and BIC are R's.
	Lik  float64 `json:"lik"`
	AIC  float64 `json:"aic"`
	AICc float64 `json:"aicc"`
	BIC  float64 `json:"bic"`
}

// Describe is the model's R name, e.g. "ETS(M,Ad,M)".
func (m *Model) Describe() string { return m.Spec.String() }

// ErrNotAdmissible is wrapped by the errors of a model that cannot be
// fitted to the data (too short, not positive for a multiplicative model).
var ErrNotAdmissible = errors.New("ets: model not admissible for the data")

// Parameter bounds, R's "usual" ones.
const (
	lowerBound = 1e-4
	upperBound = 0.9999
	phiLower   = 0.8
	phiUpper   = 0.98
)

// Fit fits one model to h by maximum likelihood. The optimiser stops with
// an error wrapping ctx's when ctx ends.
func Fit(ctx context.Context, h stats.History, s Spec) (*Model, error) { return fit(ctx, h, s, nil) }

// fit is Fit, starting from warm's parameters and initial level and slope
// (a fit of the same spec on a prefix of h) when warm is not nil.
func fit(ctx context.Context, h stats.History, s Spec, warm *Model) (*Model, error) {
	p, err := prepare(h, s)
	if err != nil {
		return nil, err
	}
	x0, step := p.start(), 1.0
	if warm != nil {
		if w := p.encode(warm); !math.IsInf(p.objective(w), 1) {
			x0, step = w, warmStep
		}
	}
	x, err := p.minimise(ctx, x0, step, likTolerance)
	if err != nil {
		return nil, err
	}
	return p.model(x)
}

// prepare checks that the data admit s and sets up its likelihood from
// the heuristic initial state.
func prepare(h stats.History, s Spec) (*problem, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	y := h.Values
	if err := admissible(s, y); err != nil {
		return nil, err
	}
	init, err := initialState(s, y)
	if err != nil {
		return nil, err
	}
	return newProblem(s, y, init), nil
}

// model is the fitted model at the coordinates x.
func (p *problem) model(x []float64) (*Model, error) {
	s, y := p.spec, p.y
	params, x0 := p.decode(x)
	final := x0.clone()
	lik, sse, n := s.run(params, &final, y, 0)
	if math.IsInf(lik, 1) {
		return nil, fmt.Errorf("%s: the fit gives impossible forecasts: %w", s, ErrNotAdmissible)
	}
	np := s.parameters()
	m := &Model{Spec: s, Params: params, Init: x0, Final: final, Steps: len(y), N: n, Lik: lik}
	m.Sigma2 = sse / math.Max(1, float64(n-np+1))
	m.AIC = lik + 2*float64(np)
	m.BIC = lik + math.Log(float64(n))*float64(np)
	m.AICc = m.AIC + 2*float64(np)*float64(np+1)/float64(n-np-1)
	return m, nil
}

// admissible checks the data requirements of a spec.
func admissible(s Spec, y []float64) error {
	n, positive := 0, true
	for _, v := range y {
		if math.IsNaN(v) {
			continue
		}
		if math.IsInf(v, 0) {
			return fmt.Errorf("ets: value %v is not finite", v)
		}
		n++
		if v <= 0 {
			positive = false
		}
	}
	switch {
	case (s.Error == Multiplicative || s.Season == Multiplicative) && !positive:
		return fmt.Errorf("%s needs strictly positive data: %w", s, ErrNotAdmissible)
	case s.seasonal() && (s.Period > 24 || len(y) < 2*s.Period || n < 2*s.Period):
		return fmt.Errorf("%s needs a period of at most 24 and two full seasons of data: %w", s, ErrNotAdmissible)
	case n <= s.parameters()+1:
		return fmt.Errorf("%s has %d parameters for %d observations: %w", s, s.parameters(), n, ErrNotAdmissible)
	}
	return nil
}

// initialState is R's heuristic start: the seasonal figure of the
// classical decomposition of the first three seasons (or of what there is,
// at least two), then a regression on the first max(10, 2m) seasonally
// adjusted values for the level and slope. Unobserved steps are
// interpolated for this start only.
func initialState(s Spec, y []float64) (State, error) {
	filled, _ := stats.Interpolate(y)
	m := s.period()
	adjusted := filled
	var x State
	if s.seasonal() {
		k := min(len(filled), 3*m)
		fig, err := stats.SeasonalFigure(filled[:k], m, s.Season == Multiplicative)
		if err != nil {
			return State{}, fmt.Errorf("%s initial season: %w", s, err)
		}
		x.Season = fig
		adjusted = make([]float64, k)
		for i := range adjusted {
			if s.Season == Multiplicative {
				adjusted[i] = filled[i] / fig[i%m]
			} else {
				adjusted[i] = filled[i] - fig[i%m]
			}
		}
	}
	k := min(max(10, 2*m), len(adjusted))
	if !s.trended() {
		for _, v := range adjusted[:k] {
			x.Level += v / float64(k)
		}
		return x, nil
	}
	// Least squares of adjusted[i] on i+1, i = 0..k-1.
	var sx, sy, sxx, sxy float64
	for i, v := range adjusted[:k] {
		t := float64(i + 1)
		sx, sy, sxx, sxy = sx+t, sy+v, sxx+t*t, sxy+t*v
	}
	kf := float64(k)
	x.Slope = (kf*sxy - sx*sy) / (kf*sxx - sx*sx)
	x.Level = (sy - x.Slope*sx) / kf
	if math.Abs(x.Level+x.Slope) < 1e-8 {
		x.Level *= 1 + 1e-3
		x.Slope *= 1 - 1e-3
	}
	return x, nil
}

// problem is the likelihood as a function of unconstrained coordinates:
// logits of α, of β/α, of γ/(1−α), of (φ−0.8)/0.18, and the initial level
// and slope in units of the data's scale.
type problem struct {
	spec  Spec
	y     []float64
	init  State
	scale float64
	work  State
}

func newProblem(s Spec, y []float64, init State) *problem {
	var sum, sq float64
	n := 0
	for _, v := range y {
		if !math.IsNaN(v) {
			sum, sq, n = sum+v, sq+v*v, n+1
		}
	}
	mean := sum / float64(n)
	scale := math.Sqrt(math.Max(sq/float64(n)-mean*mean, 0))
	if scale == 0 {
		scale = math.Max(math.Abs(mean), 1)
	}
	return &problem{spec: s, y: y, init: init, scale: scale, work: init.clone()}
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
func logit(p float64) float64   { return math.Log(p / (1 - p)) }

// decode maps coordinates to parameters and the initial state.
func (p *problem) decode(x []float64) (Params, State) {
	s := p.spec
	i := 0
	next := func() float64 { v := x[i]; i++; return v }
	var par Params
	par.Alpha = lowerBound + (upperBound-lowerBound)*sigmoid(next())
	if s.trended() {
		par.Beta = lowerBound + (par.Alpha-lowerBound)*sigmoid(next())
	}
	if s.seasonal() {
		par.Gamma = lowerBound + (1-par.Alpha-lowerBound)*sigmoid(next())
	}
	if s.Trend == Damped {
		par.Phi = phiLower + (phiUpper-phiLower)*sigmoid(next())
	}
	x0 := p.init
	x0.Level += next() * p.scale
	if s.trended() {
		x0.Slope += next() * p.scale / 10
	}
	return par, x0
}

// start is R's initial parameters: α = 0.2/m of the way, β = 0.1·α,
// γ = 0.05·(1−α), φ = 0.978 (inside the bounds), the heuristic states.
func (p *problem) start() []float64 {
	s := p.spec
	alpha := lowerBound + 0.2*(upperBound-lowerBound)/float64(s.period())
	x := []float64{logit((alpha - lowerBound) / (upperBound - lowerBound))}
	if s.trended() {
		x = append(x, logit((0.1*alpha-lowerBound)/(alpha-lowerBound)))
	}
	if s.seasonal() {
		x = append(x, logit((0.05*(1-alpha)-lowerBound)/(1-alpha-lowerBound)))
	}
	if s.Trend == Damped {
		x = append(x, logit((0.97-phiLower)/(phiUpper-phiLower)))
	}
	x = append(x, 0)
	if s.trended() {
		x = append(x, 0)
	}
	return x
}

func (p *problem) objective(x []float64) float64 {
	par, x0 := p.decode(x)
	p.work.Level, p.work.Slope = x0.Level, x0.Slope
	copy(p.work.Season, x0.Season)
	lik, _, _ := p.spec.run(par, &p.work, p.y, 0)
	return lik
}

// minimise runs Nelder–Mead from x0 with an initial simplex of the given
// step until the likelihood criterion differs by less than tol across the
// simplex, as R's optim() stops on the simplex's spread, or until ctx ends.
func (p *problem) minimise(ctx context.Context, x0 []float64, step, tol float64) ([]float64, error) {
	if math.IsInf(p.objective(x0), 1) {
		return nil, fmt.Errorf("%s: impossible forecasts at the initial state: %w", p.spec, ErrNotAdmissible)
	}
	x, err := nelderMead(ctx, p.objective, x0, step, tol, 200*(len(x0)+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.spec, err)
	}
	return x, nil
}

// warmStep is the initial simplex of a warm start: a fit of a slightly
// shorter history lies close to the optimum.
const warmStep = 0.2

// encode is decode's inverse: the coordinates of warm's parameters and
// initial level and slope.
func (p *problem) encode(warm *Model) []float64 {
	s, par := p.spec, warm.Params
	clamp := func(v float64) float64 { return math.Min(1-1e-9, math.Max(1e-9, v)) }
	x := []float64{logit(clamp((par.Alpha - lowerBound) / (upperBound - lowerBound)))}
	if s.trended() {
		x = append(x, logit(clamp((par.Beta-lowerBound)/(par.Alpha-lowerBound))))
	}
	if s.seasonal() {
		x = append(x, logit(clamp((par.Gamma-lowerBound)/(1-par.Alpha-lowerBound))))
	}
	if s.Trend == Damped {
		x = append(x, logit(clamp((par.Phi-phiLower)/(phiUpper-phiLower))))
	}
	x = append(x, (warm.Init.Level-p.init.Level)/p.scale)
	if s.trended() {
		x = append(x, (warm.Init.Slope-p.init.Slope)/(p.scale/10))
	}
	return x
}

// likTolerance is the spread of the likelihood criterion (n·log SSE + …)
// at which the fit stops: 0.001 of a log-likelihood unit, far below what
// moves an AICc comparison.
const likTolerance = 1e-3

// nelderMead minimises f from x0 with an initial simplex of the given step
// along each axis (reflection 1, expansion 2, contraction and shrink ½),
// until the spread of f over the simplex is at most tol or maxEval
// evaluations are spent, and returns the best vertex; or ctx's error when
// ctx ends first (checked at every iteration).
func nelderMead(ctx context.Context, f func([]float64) float64, x0 []float64, step, tol float64, maxEval int) ([]float64, error) {
	d := len(x0)
	pts := make([][]float64, d+1)
	vals := make([]float64, d+1)
	for i := range pts {
		pts[i] = append([]float64(nil), x0...)
		if i > 0 {
			pts[i][i-1] += step
		}
		vals[i] = f(pts[i])
	}
	evals := d + 1
	centroid, trial, trial2 := make([]float64, d), make([]float64, d), make([]float64, d)
	along := func(dst []float64, t float64, worst []float64) {
		for k := range dst {
			dst[k] = centroid[k] + t*(worst[k]-centroid[k])
		}
	}
	for evals < maxEval {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// Order: best first, worst last.
		for i := 1; i <= d; i++ {
			for j := i; j > 0 && vals[j] < vals[j-1]; j-- {
				vals[j], vals[j-1] = vals[j-1], vals[j]
				pts[j], pts[j-1] = pts[j-1], pts[j]
			}
		}
		if vals[d]-vals[0] <= tol {
			break
		}
		for k := range centroid {
			centroid[k] = 0
			for i := range d {
				centroid[k] += pts[i][k] / float64(d)
			}
		}
		worst := pts[d]
		along(trial, -1, worst)
		fr := f(trial)
		evals++
		switch {
		case fr < vals[0]:
			along(trial2, -2, worst)
			fe := f(trial2)
			evals++
			if fe < fr {
				copy(worst, trial2)
				vals[d] = fe
			} else {
				copy(worst, trial)
				vals[d] = fr
			}
		case fr < vals[d-1]:
			copy(worst, trial)
			vals[d] = fr
		default:
			if fr < vals[d] {
				along(trial2, -0.5, worst) // outside contraction
			} else {
				along(trial2, 0.5, worst) // inside contraction
			}
			fc := f(trial2)
			evals++
			if fc < math.Min(fr, vals[d]) {
				copy(worst, trial2)
				vals[d] = fc
				continue
			}
			for i := 1; i <= d; i++ { // shrink towards the best
				for k := range pts[i] {
					pts[i][k] = pts[0][k] + 0.5*(pts[i][k]-pts[0][k])
				}
				vals[i] = f(pts[i])
			}
			evals += d
		}
	}
	best := 0
	for i := range vals {
		if vals[i] < vals[best] {
			best = i
		}
	}
	return pts[best], nil
}
