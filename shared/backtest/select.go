package backtest

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/stockcast/stockcast/shared/stats"
)

// Combination methods (Selection.Method).
const (
	Single   = "single"   // the best candidate alone
	Median   = "median"   // the per-step median of the best candidates
	Weighted = "weighted" // their mean weighted by 1/MASE
)

// Selection is what a series' backtest chose to serve, and why.
type Selection struct {
	// Method is Single, Median or Weighted.
	Method string `json:"method"`
	// Models are the candidates served, best first; Weights their weights
	// (1 for Single, equal for Median — whose value is the median, not a
	// weighted mean — and ∝ 1/MASE for Weighted).
	Models  []string  `json:"models"`
	Weights []float64 `json:"weights"`
	// Horizon and Origins are the backtest's window length and origins.
	Horizon int `json:"horizon"`
	Origins int `json:"origins"`
	// Scores are the served forecast's backtest scores; its coverage is
	// that of the best model's own interval (nil without one).
	Scores Scores `json:"scores"`
	// Candidates are every candidate's backtest: its scores or why it could not serve.
	Candidates map[string]Result `json:"candidates"`
	// Calibration holds the served forecast's backtest errors.
	Calibration Calibration `json:"calibration"`
}

// Result is one candidate's backtest on one series.
type Result struct {
	Scores *Scores `json:"scores,omitempty"`
	// Model describes the model fitted at the last origin, e.g. "ETS(A,N,A)".
	Model string `json:"model,omitempty"`
	// Error says why the candidate could not be scored.
	Error string `json:"error,omitempty"`
}

// Combine forms the served forecast of a method from the forecasts of its
// models (in the order of Selection.Models).
func Combine(method string, weights []float64, forecasts [][]float64) []float64 {
	out := make([]float64, len(forecasts[0]))
	vals := make([]float64, len(forecasts))
	for i := range out {
		switch method {
		case Median:
			for k, f := range forecasts {
				vals[k] = f[i]
			}
			out[i] = median(vals)
		default:
			for k, f := range forecasts {
				out[i] += weights[k] * f[i]
			}
		}
	}
	return out
}

func median(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Select backtests every candidate on h and returns the selection. It
// stops with an error wrapping ctx's when ctx ends.
func Select(ctx context.Context, h stats.History, cands []stats.Forecaster, cfg Config) (*Selection, error) {
	cfg = cfg.withDefaults(h.Freq)
	cuts, horizon, err := plan(h.Len(), h.Period(), cfg)
	if err != nil {
		return nil, fmt.Errorf("backtest %s: %w", h.Key, err)
	}
	r := newRun(len(cands), horizon, cfg.Level)
	for _, c := range cuts {
		if err := r.at(ctx, h, cands, c); err != nil {
			return nil, err
		}
	}
	return r.selection(h, cands, cuts, horizon, cfg)
}

// selection chooses from the run's forecasts at cuts.
// The windows are horizon steps (at most the run's horizon).
func (r *run) selection(h stats.History, cands []stats.Forecaster, cuts []int, horizon int, cfg Config) (*Selection, error) {
	s := scale(h.Values[:cuts[0]], h.Period())
	sel := &Selection{Horizon: horizon, Origins: len(cuts), Candidates: map[string]Result{}}
	var ok []scored
	for i, c := range cands {
		var t Tally
		var failure error
		for _, cut := range cuts {
			if err := r.err[i][cut]; err != nil {
				failure = err
				break
			}
			f := r.fc[i][cut]
			lo, hi := bounds(f, cfg.Level, horizon)
			t.Add(window(h, cut, horizon), f.Mean[:horizon], lo, hi)
		}
		if failure != nil {
			sel.Candidates[c.Name()] = Result{Error: failure.Error()}
			continue
		}
		sc := t.Scores(s)
		sel.Candidates[c.Name()] = Result{Scores: &sc, Model: r.desc[i][cuts[len(cuts)-1]]}
		if t.Points > 0 {
			ok = append(ok, scored{i, sc.MASE})
		}
	}
	if len(ok) == 0 {
		return nil, fmt.Errorf("backtest %s: no candidate could forecast every origin", h.Key)
	}
	slices.SortStableFunc(ok, func(a, b scored) int { return cmp.Compare(a.mase, b.mase) })
	best := ok[0]
	sel.Method, sel.Models, sel.Weights = Single, []string{cands[best.idx].Name()}, []float64{1}
	bestMASE := best.mase
	if k := min(cfg.Combine, len(ok)); k >= 2 {
		top := ok[:k]
		names := make([]string, k)
		idx := make([]int, k)
		inv := make([]float64, k)
		var sum float64
		for j, c := range top {
			names[j], idx[j] = cands[c.idx].Name(), c.idx
			inv[j] = 1 / math.Max(c.mase, 1e-9)
			sum += inv[j]
		}
		equal := make([]float64, k)
		for j := range inv {
			inv[j] /= sum
			equal[j] = 1 / float64(k)
		}
		for _, m := range []struct {
			method  string
			weights []float64
		}{{Median, equal}, {Weighted, inv}} {
			var t Tally
			for _, cut := range cuts {
				t.Add(window(h, cut, horizon), r.combined(idx, cut, m.method, m.weights)[:horizon], nil, nil)
			}
			if mase := t.Scores(s).MASE; mase < bestMASE {
				bestMASE = mase
				sel.Method, sel.Models, sel.Weights = m.method, names, m.weights
			}
		}
	}
	idx := make([]int, len(sel.Models))
	for j, name := range sel.Models {
		idx[j] = slices.IndexFunc(cands, func(c stats.Forecaster) bool { return c.Name() == name })
	}
	var t Tally
	for _, cut := range cuts {
		actual := window(h, cut, horizon)
		f := r.combined(idx, cut, sel.Method, sel.Weights)[:horizon]
		t.Add(actual, f, nil, nil)
		sel.Calibration.add(actual, f)
	}
	sel.Scores = t.Scores(s)
	sel.Scores.Coverage = sel.Candidates[sel.Models[0]].Scores.Coverage
	sel.Calibration.Horizon = horizon
	return sel, nil
}

// scored is a candidate that forecast every origin, with its MASE.
type scored struct {
	idx  int
	mase float64
}

// combined is the served forecast of the candidates idx from cut.
func (r *run) combined(idx []int, cut int, method string, weights []float64) []float64 {
	fs := make([][]float64, len(idx))
	for j, i := range idx {
		fs[j] = r.fc[i][cut].Mean
	}
	return Combine(method, weights, fs)
}

// bounds is the central interval at level of the first horizon steps of a
// forecast's own distribution; nil without one.
func bounds(f *stats.Forecast, level float64, horizon int) ([]float64, []float64) {
	if !f.HasDistribution() {
		return nil, nil
	}
	lo, hi := make([]float64, horizon), make([]float64, horizon)
	for i := range horizon {
		lo[i] = f.Quantile(i, (1-level)/2)
		hi[i] = f.Quantile(i, (1+level)/2)
	}
	return lo, hi
}
