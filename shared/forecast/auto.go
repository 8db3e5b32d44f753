package forecast

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stockcast/stockcast/shared/backtest"
	"github.com/stockcast/stockcast/shared/lstm"
	"github.com/stockcast/stockcast/shared/series"
	"github.com/stockcast/stockcast/shared/stats"
	"github.com/stockcast/stockcast/shared/stats/candidates"
	"github.com/stockcast/stockcast/shared/trend"
)

// trendPointOnly predicts the trend model's part without simulating an interval.
var trendPointOnly = trend.Uncertainty{IntervalWidth: 0.8}

// Sources of a selection (SelectionInfo.Source).
const (
	SelectionPrecomputed = "precomputed"          // the refit's backtest
	SelectionOnDemand    = "backtested_on_demand" // backtested when first asked (ad-hoc series, offline evaluation)
	SelectionNone        = "not_backtested"       // too short to backtest: the median of the models that fit
)

// IntervalLevel is the central probability of the statistical path's intervals.
const IntervalLevel = 0.8

// ServedModel is one model whose forecast makes up the served one.
type ServedModel struct {
	// Model is the model's name ("ets", "trend", "lstm", …); Weight its share of the served
	// forecast (for a median, 1/k of the k models whose per-day median is served).
	Model  string  `json:"model"`
	Weight float64 `json:"weight"`
	// Fitted describes the fitted model, e.g. "ETS(A,N,A)"; empty for the LSTM and the trend
	// model of the blend path.
	Fitted string `json:"fitted,omitempty"`
	// Backtest is the model's rolling-origin backtest on this series (MASE, WAPE, RMSE, the
	// coverage of its own 80% interval); null when it was not backtested.
	Backtest *backtest.Scores `json:"backtest"`
}

// SelectionInfo describes what model=auto served and how far to trust it.
type SelectionInfo struct {
	// Method is "single", "median" or "weighted"; Choice the same in a few words
	// ("median(ets,theta,trend)").
	Method string `json:"method"`
	Choice string `json:"choice"`
	// Source is "precomputed", "backtested_on_demand" or "not_backtested".
	Source string `json:"source"`
	// Horizon and Origins are the backtest's window (in steps of the series) and origins.
	Horizon int `json:"horizon,omitempty"`
	Origins int `json:"origins,omitempty"`
	// Backtest is the served forecast's backtest on this series (the coverage is its best
	// model's own interval's); null when not backtested.
	Backtest *backtest.Scores `json:"backtest"`
	// CalibrationErrors is the number of backtest errors the interval and the safety stock
	// are read from (0: the models' own distributions).
	CalibrationErrors int `json:"calibration_errors"`
}

// statHistory is a history's regular series and selection, built on first use.
type statHistory struct {
	build     sync.Mutex // held while building; built is set once built
	built     bool
	hist      stats.History
	err       error
	selection *backtest.Selection
	source    string
	why       string // why there is no selection

	mu     sync.Mutex
	fitted map[string]fitted
	memo   map[string]*prediction // by model and horizon
}

type fitted struct {
	model stats.Model
	err   error
}

// maxStatMemo bounds the predictions kept per series.
const maxStatMemo = 16

// stepDays is the number of days one step of a frequency stands for.
func stepDays(f stats.Frequency) int {
	switch f {
	case stats.Weekly:
		return 7
	case stats.Monthly:
		return 30
	}
	return 1
}

// frequency is the dataset's frequency: the selections', or detected from every date of
// the source's total (read whatever ctx's cancellation: the result is kept).
func (e *Engine) frequency(ctx context.Context) stats.Frequency {
	e.freqOnce.Do(func() {
		if e.meta.Selections != nil && e.meta.Selections.Frequency != "" {
			e.freq = e.meta.Selections.Frequency
			return
		}
		e.freq = stats.Daily
		if total, _, err := e.source.Series(context.WithoutCancel(ctx), series.Filter{}, nil); err == nil {
			e.freq = stats.Detect(total.Dates)
		}
	})
	return e.freq
}

// stats returns h's regular history and selection, building them on first use: the refit's
// selection for a standard series forecast from its last date, otherwise a backtest now. The
// only error is ctx's, when it ends during the backtest; nothing is kept then, so that the
// next request backtests again.
func (e *Engine) stats(ctx context.Context, h *history) (*statHistory, error) {
	sh := &h.stat
	sh.build.Lock()
	defer sh.build.Unlock()
	if sh.built {
		return sh, nil
	}
	sh.fitted, sh.memo = map[string]fitted{}, map[string]*prediction{}
	freq := e.frequency(ctx)
	sh.hist, sh.err = stats.FromDatesAt(h.key, h.dates, h.values, freq)
	if sh.err != nil {
		// Dates off the dataset's grid (a daily series in a weekly dataset): read it daily.
		sh.hist, sh.err = stats.FromDatesAt(h.key, h.dates, h.values, stats.Daily)
	}
	if sh.err != nil {
		sh.built = true
		return sh, nil
	}
	if pad := sh.hist.Freq.Steps(h.last, h.end); pad > 0 {
		for range pad {
			sh.hist.Values = append(sh.hist.Values, math.NaN())
		}
	}
	sh.built = true
	if set := e.meta.Selections; set != nil && !h.cut {
		if sel, ok := set.Selections[h.key]; ok {
			sh.selection, sh.source = sel, SelectionPrecomputed
			return sh, nil
		}
		if why, ok := set.Unselected[h.key]; ok {
			sh.source, sh.why = SelectionNone, why
			return sh, nil
		}
	}
	sel, err := backtest.Select(ctx, sh.hist, e.cands, e.cfg.Backtest)
	switch {
	case ctx.Err() != nil:
		sh.built = false
		return nil, fmt.Errorf("select a model for %s: %w", h.key, ctx.Err())
	case err != nil:
		sh.source, sh.why = SelectionNone, err.Error()
	default:
		sh.selection, sh.source = sel, SelectionOnDemand
	}
	return sh, nil
}

// fit returns the named candidate fitted on the whole history (cached, unless the fit
// ended with ctx).
func (e *Engine) fit(ctx context.Context, h *history, name string) (stats.Model, error) {
	sh := &h.stat
	sh.mu.Lock()
	f, ok := sh.fitted[name]
	sh.mu.Unlock()
	if ok {
		return f.model, f.err
	}
	c, err := e.candidate(h, name)
	if err != nil {
		return nil, err
	}
	m, err := c.Fit(ctx, sh.hist)
	if cerr := ctx.Err(); cerr != nil {
		return nil, fmt.Errorf("fit %s: %w", name, cerr)
	}
	sh.mu.Lock()
	sh.fitted[name] = fitted{m, err}
	sh.mu.Unlock()
	return m, err
}

// candidate is the named candidate of h's selection: a statistical one, or the served LSTM
// (which the refit backtested from its models of the backtest origins). The LSTM forecasts as
// candidates.LSTMForecaster does, so only a history that ends on or after the day it was
// trained through: not a cut one, for which it saw the held-out days.
func (e *Engine) candidate(h *history, name string) (stats.Forecaster, error) {
	if name == candidates.LSTM && e.net != nil {
		s := lstm.Series{ID: h.key, Start: h.first, Values: h.daily, Covariates: h.covariates}
		return candidates.LSTMForecaster{Models: []*lstm.Model{e.net}, Series: map[string]lstm.Series{h.key: s}}, nil
	}
	i := slices.IndexFunc(e.cands, func(c stats.Forecaster) bool { return c.Name() == name })
	if i < 0 {
		return nil, fmt.Errorf("unknown model %q", name)
	}
	return e.cands[i], nil
}

// Note codes of the statistical path.
const (
	NoteNotBacktested = "not_backtested"  // too short to backtest: the median of the models that fit, their own intervals
	NoteModelFailed   = "model_failed"    // a model of the selection could not be fitted on the whole history
	NoteWeeklySteps   = "steps_not_days"  // the series is weekly or monthly: days[] holds steps
	NoteOwnInterval   = "model_interval"  // a forced model's interval is its own distribution's
	NoteNoDistrib     = "no_distribution" // the model has no distribution: lower = upper = forecast
)

// forecastStats predicts with model=auto or one statistical model, in steps of the series.
func (e *Engine) forecastStats(ctx context.Context, r Request, h *history) (*prediction, error) {
	sh, err := e.stats(ctx, h)
	if err != nil {
		return nil, err
	}
	if sh.err != nil {
		return nil, fmt.Errorf("series %s: %w", h.key, sh.err)
	}
	days := stepDays(sh.hist.Freq)
	leadSteps := (r.LeadTimeDays + days - 1) / days
	horizon := max(r.Days, leadSteps)
	memoKey := fmt.Sprintf("%s/%d", r.Model, horizon)
	sh.mu.Lock()
	p, ok := sh.memo[memoKey]
	sh.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err = e.predictStats(ctx, r, h, sh, horizon)
	if err != nil {
		return nil, err
	}
	sh.mu.Lock()
	if len(sh.memo) < maxStatMemo {
		sh.memo[memoKey] = p
	}
	sh.mu.Unlock()
	return p, nil
}

func (e *Engine) predictStats(ctx context.Context, r Request, h *history, sh *statHistory, horizon int) (*prediction, error) {
	hist := sh.hist
	n := hist.Len()
	p := &prediction{dates: make([]time.Time, horizon), direct: true, stepDays: stepDays(hist.Freq), models: map[string][]float64{}}
	for i := range p.dates {
		p.dates[i] = hist.Date(n + i)
	}
	if hist.Freq != stats.Daily {
		p.notes = append(p.notes, Message{NoteWeeklySteps, fmt.Sprintf(
			"The series is %s: each entry of days is one step (%d days) dated on its first day; the lead time and review period are rounded up to whole steps.",
			hist.Freq, p.stepDays)})
	}
	method, names, weights := backtest.Single, []string{string(r.Model)}, []float64{1}
	sel := sh.selection
	if r.Model == ModelAuto {
		if sel != nil {
			method, names, weights = sel.Method, sel.Models, slices.Clone(sel.Weights)
		} else {
			method, names, weights = backtest.Median, candidates.Names(e.cands), nil
			p.notes = append(p.notes, Message{NoteNotBacktested,
				"The series could not be backtested (" + sh.why + "): the median of the models that fit serves, with the median of their own intervals."})
		}
	}
	var means, los, his [][]float64
	var kept []string
	var keptWeights []float64
	for j, name := range names {
		m, err := e.fit(ctx, h, name)
		var f stats.Forecast
		if err == nil {
			f, err = m.Forecast(horizon)
		}
		if err != nil && ctx.Err() != nil {
			return nil, err
		}
		if err != nil {
			if r.Model != ModelAuto {
				return nil, &RequestError{Problems: []Problem{{"model", fmt.Sprintf("%s cannot forecast series %s: %v", name, h.key, err)}}}
			}
			if sel != nil {
				p.notes = append(p.notes, Message{NoteModelFailed, fmt.Sprintf("%s, part of the selection, could not be fitted on the whole history: %v; the others serve.", name, err)})
			}
			continue
		}
		kept = append(kept, name)
		if weights != nil {
			keptWeights = append(keptWeights, weights[j])
		}
		means = append(means, f.Mean)
		p.models[name] = f.Mean
		if f.HasDistribution() {
			lo, hi := make([]float64, horizon), make([]float64, horizon)
			for i := range lo {
				lo[i], hi[i] = f.Quantile(i, (1-IntervalLevel)/2), f.Quantile(i, (1+IntervalLevel)/2)
			}
			los, his = append(los, lo), append(his, hi)
		}
		p.served = append(p.served, ServedModel{Model: name, Fitted: m.Describe(), Backtest: candidateScores(sel, name)})
		if p.sigma == 0 {
			p.sigma = oneStepSigma(f)
		}
	}
	if len(means) == 0 {
		return nil, fmt.Errorf("series %s: no model could forecast it", h.key)
	}
	if method == backtest.Median || keptWeights == nil {
		keptWeights = make([]float64, len(kept))
		for j := range keptWeights {
			keptWeights[j] = 1 / float64(len(kept))
		}
	} else {
		var sum float64
		for _, w := range keptWeights {
			sum += w
		}
		for j := range keptWeights {
			keptWeights[j] /= sum
		}
	}
	for j := range p.served {
		p.served[j].Weight = roundTo(keptWeights[j], 4)
		switch p.served[j].Model {
		case candidates.Trend:
			p.weights.Trend = p.served[j].Weight
		case candidates.LSTM:
			p.weights.LSTM = p.served[j].Weight
			p.lstm = p.models[candidates.LSTM]
		}
	}
	p.forecast = backtest.Combine(method, keptWeights, means)
	width := IntervalLevel
	p.intervalWidth = &width
	calibrated := r.Model == ModelAuto && sel != nil && sel.Calibration.Points() > 0
	switch {
	case calibrated:
		p.lower, p.upper = make([]float64, horizon), make([]float64, horizon)
		for i := range horizon {
			lo, hi := sel.Calibration.Interval(i, IntervalLevel)
			p.lower[i], p.upper[i] = p.forecast[i]+lo, p.forecast[i]+hi
		}
		var sq float64
		for _, e := range sel.Calibration.Error {
			sq += e * e
		}
		p.sigma = math.Sqrt(sq / float64(len(sel.Calibration.Error)))
		calibration := sel.Calibration
		p.safety = func(steps int, level float64) float64 { return calibration.LeadTime(steps, level) }
	case len(los) > 0:
		p.lower, p.upper = backtest.Combine(backtest.Median, nil, los), backtest.Combine(backtest.Median, nil, his)
		if r.Model != ModelAuto {
			p.notes = append(p.notes, Message{NoteOwnInterval, fmt.Sprintf(
				"The interval is %s's own 80%% distribution, not calibrated on backtest errors (model=auto is); its backtest coverage is in served[].backtest.coverage.", r.Model)})
		}
	default:
		p.lower, p.upper = slices.Clone(p.forecast), slices.Clone(p.forecast)
		p.intervalWidth = nil
		p.notes = append(p.notes, Message{NoteNoDistrib, "The model has no distribution: lower and upper equal the forecast."})
	}
	if r.Model == ModelAuto {
		p.selection = &SelectionInfo{Method: method, Source: sh.source}
		if sel != nil {
			p.selection.Choice, p.selection.Horizon, p.selection.Origins, p.selection.Backtest = sel.Choice(), sel.Horizon, sel.Origins, roundScores(sel.Scores)
			p.selection.CalibrationErrors = sel.Calibration.Points()
			if len(kept) != len(sel.Models) {
				p.selection.Choice = method + "(" + strings.Join(kept, ",") + ")"
			}
		} else {
			p.selection.Choice = "median(" + strings.Join(kept, ",") + ")"
		}
	}
	// The trend model's part (Day.Trend), at the same dates.
	tf, err := h.trend.PredictWith(p.dates, trendPointOnly)
	if err != nil {
		return nil, fmt.Errorf("predict trend of %s: %w", h.key, err)
	}
	p.trend = tf.Yhat
	return p, nil
}

// candidateScores is a candidate's backtest scores in a selection, rounded (nil without).
func candidateScores(sel *backtest.Selection, name string) *backtest.Scores {
	if sel == nil {
		return nil
	}
	if res, ok := sel.Candidates[name]; ok && res.Scores != nil {
		return roundScores(*res.Scores)
	}
	return nil
}

// roundScores rounds scores for display: ratios to 4 decimals, RMSE to 2.
func roundScores(sc backtest.Scores) *backtest.Scores {
	sc.MASE, sc.WAPE, sc.RMSE = roundTo(sc.MASE, 4), roundTo(sc.WAPE, 4), roundTo(sc.RMSE, 2)
	if sc.Coverage != nil {
		c := roundTo(*sc.Coverage, 4)
		sc.Coverage = &c
	}
	return &sc
}

// oneStepSigma is the standard deviation of a forecast's first step (0 without a distribution).
func oneStepSigma(f stats.Forecast) float64 {
	switch {
	case f.Sigma != nil:
		return f.Sigma[0]
	case f.Samples != nil:
		var mean, sq float64
		for _, v := range f.Samples[0] {
			mean += v / float64(len(f.Samples[0]))
		}
		for _, v := range f.Samples[0] {
			sq += (v - mean) * (v - mean)
		}
		return math.Sqrt(sq / float64(max(1, len(f.Samples[0])-1)))
	}
	return 0
}

// servedPath lists the models of the trend/LSTM path with their weights and, where the
// refit's selection has it, the trend model's backtest.
func (e *Engine) servedPath(h *history, p *prediction) []ServedModel {
	var sel *backtest.Selection
	if set := e.meta.Selections; set != nil && !h.cut {
		sel = set.Selections[h.key]
	}
	out := []ServedModel{}
	if p.weights.Trend > 0 {
		out = append(out, ServedModel{Model: string(ModelTrend), Weight: p.weights.Trend, Backtest: candidateScores(sel, candidates.Trend)})
	}
	if p.weights.LSTM > 0 {
		out = append(out, ServedModel{Model: string(ModelLSTM), Weight: p.weights.LSTM})
	}
	slices.SortStableFunc(out, func(a, b ServedModel) int { return cmp.Compare(b.Weight, a.Weight) })
	return out
}
