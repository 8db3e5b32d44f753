package backtest

import (
	"context"
	"fmt"
	"slices"

	"github.com/stockcast/stockcast/shared/stats"
)

// Auto is the name of the selection in an Evaluation's sources.
const Auto = "auto"

// Evaluation is the outer backtest of one series: every candidate and the
// selection procedure (Auto) scored on the same windows.
type Evaluation struct {
	History stats.History
	// Cuts are the first steps of the windows; Horizon their length.
	Cuts    []int
	Horizon int
	// Scale is the MASE denominator (the history before the first cut).
	Scale float64
	// Sources are the candidates by name, and Auto.
	Sources map[string]*Source
	// Selections are the selections made before each cut (nil where the
	// history before it was too short to backtest: Auto then serves the
	// median of the candidates).
	Selections []*Selection
}

// Source is one forecast source's outer backtest.
type Source struct {
	// Forecasts, Lower and Upper are per window (nil where the source
	// failed, bounds nil without an interval).
	Forecasts, Lower, Upper [][]float64
	Tally                   Tally
	// Model describes the fitted model at the last window.
	Model string
	// Error is why the source failed on some window ("" when it did not).
	Error string
}

// Scores are the source's scores on the evaluation's windows.
func (s *Source) Scores(e *Evaluation) Scores { return s.Tally.Scores(e.Scale) }

// Evaluate backtests every candidate on h and scores the selection
// procedure without hindsight: at each cut, Select runs on the history
// before it and its served forecast and calibrated interval are scored on
// the window after. It stops with an error wrapping ctx's when ctx ends.
func Evaluate(ctx context.Context, h stats.History, cands []stats.Forecaster, cfg Config) (*Evaluation, error) {
	cfg = cfg.withDefaults(h.Freq)
	cuts, horizon, err := plan(h.Len(), h.Period(), cfg)
	if err != nil {
		return nil, fmt.Errorf("backtest %s: %w", h.Key, err)
	}
	ev := &Evaluation{History: h, Cuts: cuts, Horizon: horizon, Scale: scale(h.Values[:cuts[0]], h.Period()),
		Sources: map[string]*Source{}}
	r := newRun(len(cands), horizon, cfg.Level)
	for _, c := range cands {
		ev.Sources[c.Name()] = &Source{}
	}
	auto := &Source{}
	ev.Sources[Auto] = auto
	// Every fit, outer and inner, in time order: a Refitter refits the previous origin's model.
	var all []int
	for _, cut := range cuts {
		all = append(all, cut)
		if inner, _, err := r.innerPlan(h, cut, cfg); err == nil {
			all = append(all, inner...)
		}
	}
	slices.Sort(all)
	for _, cut := range slices.Compact(all) {
		if err := r.at(ctx, h, cands, cut); err != nil {
			return nil, err
		}
	}
	for _, cut := range cuts {
		actual := window(h, cut, horizon)
		for i, c := range cands {
			src := ev.Sources[c.Name()]
			f := r.fc[i][cut]
			if f == nil {
				src.Error = r.err[i][cut].Error()
				src.Forecasts, src.Lower, src.Upper = append(src.Forecasts, nil), append(src.Lower, nil), append(src.Upper, nil)
				continue
			}
			lo, hi := bounds(f, cfg.Level, horizon)
			src.Forecasts, src.Lower, src.Upper = append(src.Forecasts, f.Mean), append(src.Lower, lo), append(src.Upper, hi)
			src.Model = r.desc[i][cut]
			if src.Error == "" {
				src.Tally.Add(actual, f.Mean, lo, hi)
			}
		}
		sel := r.innerSelection(h, cands, cut, cfg)
		ev.Selections = append(ev.Selections, sel)
		f, lo, hi := r.serve(sel, cands, cut, horizon, cfg.Level)
		auto.Forecasts, auto.Lower, auto.Upper = append(auto.Forecasts, f), append(auto.Lower, lo), append(auto.Upper, hi)
		auto.Tally.Add(actual, f, lo, hi)
	}
	// A candidate that failed on any window is not scored at all, so that
	// every score is over the same windows.
	for _, src := range ev.Sources {
		if src.Error != "" {
			src.Tally = Tally{}
		}
	}
	return ev, nil
}

// innerSelection is Select on the history before cut from the run's fits
// (Evaluate fitted every inner cut); nil when that history is too short.
func (r *run) innerSelection(h stats.History, cands []stats.Forecaster, cut int, cfg Config) *Selection {
	cuts, horizon, err := r.innerPlan(h, cut, cfg)
	if err != nil {
		return nil
	}
	sel, err := r.selection(h.Head(cut), cands, cuts, horizon, cfg)
	if err != nil {
		return nil
	}
	return sel
}

// innerPlan is the plan of Select on the history before cut.
func (r *run) innerPlan(h stats.History, cut int, cfg Config) ([]int, int, error) {
	inner := cfg
	inner.Horizon = r.horizon
	return plan(cut, h.Period(), inner)
}

// serve is the selection's forecast from cut with its calibrated interval:
// the selection's models that forecast from cut (re-weighted when some
// failed), or without a selection the median of the candidates that did,
// with the median of their own bounds.
func (r *run) serve(sel *Selection, cands []stats.Forecaster, cut, horizon int, level float64) (f, lo, hi []float64) {
	var idx []int
	var weights []float64
	method := Median
	if sel != nil {
		method = sel.Method
		for j, name := range sel.Models {
			i := slices.IndexFunc(cands, func(c stats.Forecaster) bool { return c.Name() == name })
			if r.fc[i][cut] != nil {
				idx, weights = append(idx, i), append(weights, sel.Weights[j])
			}
		}
	}
	if len(idx) == 0 {
		method, weights = Median, nil
		for i := range cands {
			if r.fc[i][cut] != nil {
				idx = append(idx, i)
			}
		}
	}
	if len(idx) == 0 {
		return make([]float64, horizon), nil, nil
	}
	var sum float64
	for _, w := range weights {
		sum += w
	}
	for j := range weights {
		weights[j] /= sum
	}
	f = r.combined(idx, cut, method, weights)[:horizon]
	lo, hi = make([]float64, horizon), make([]float64, horizon)
	if sel != nil && sel.Calibration.Points() > 0 {
		for s := range horizon {
			l, u := sel.Calibration.Interval(s, level)
			lo[s], hi[s] = f[s]+l, f[s]+u
		}
		return f, lo, hi
	}
	var los, his [][]float64
	for _, i := range idx {
		if l, u := bounds(r.fc[i][cut], level, horizon); l != nil {
			los, his = append(los, l), append(his, u)
		}
	}
	if len(los) == 0 {
		return f, nil, nil
	}
	return f, Combine(Median, nil, los), Combine(Median, nil, his)
}
