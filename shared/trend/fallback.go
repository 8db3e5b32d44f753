package trend

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"gonum.org/v1/gonum/stat/distuv"
)

// FallbackWindow is the span of recent history a fallback model averages.
const FallbackWindow = 28 * 24 * time.Hour

// FitWithFallback fits like Fit. When Fit fails — too few rows, NaN or
// infinite values, a single date, an optimiser failure — it returns instead
// a flat fallback model and the reason (Fit's error message): the level is
// the mean of the finite values dated within FallbackWindow of the last
// one, the noise sigma is the root-mean-square deviation from that level
// over the same window (0 for a single value), there is no seasonality and
// no trend uncertainty, and FitInfo().Method is "fallback". The reason is
// empty when the fit succeeded. The only errors are invalid options, and
// input with mismatched lengths or without a single non-zero date, since
// no model can describe those, and ctx's error when it ends first.
//
// A history of fewer than ShortHistory finite rows is not fitted at all: see
// shortHistoryModel.
func FitWithFallback(ctx context.Context, ds []time.Time, y []float64, opts Options) (*Model, string, error) {
	if err := opts.Validate(); err != nil {
		return nil, "", err
	}
	if len(ds) == len(y) {
		if values := finiteValues(ds, y); len(values) > 0 && len(values) < ShortHistory {
			m, err := shortHistoryModel(ds, values, opts)
			return m, "", err
		}
	}
	m, fitErr := Fit(ctx, ds, y, opts)
	if fitErr == nil {
		return m, "", nil
	}
	if len(ds) != len(y) || ctx.Err() != nil {
		return nil, "", fitErr
	}
	fb, err := fallbackModel(ds, y, opts, fitErr.Error())
	if err != nil {
		return nil, "", err
	}
	return fb, fitErr.Error(), nil
}

// ShortHistory is the fewest finite rows FitWithFallback fits Prophet's model to: with less than
// two weeks of observations no trend or weekly cycle can be told from noise.
const ShortHistory = 14

// MethodMean is the FitInfo().Method of a short history's model.
const MethodMean = "mean"

// shortHistoryModel is the model of a history shorter than ShortHistory: flat at the mean of its
// values, with a noise sigma that makes the model's interval the prediction interval of one more
// observation from so few — Student's t with n−1 degrees of freedom (1 for a single value) on
// the sample standard deviation, times √(1+1/n) — the deviation taken at least √|mean|, the
// spread of counts with that mean (Poisson's), since two or three days cannot show how demand
// varies.
func shortHistoryModel(ds []time.Time, values []float64, opts Options) (*Model, error) {
	n := float64(len(values))
	var level, ss float64
	for _, v := range values {
		level += v
	}
	level /= n
	for _, v := range values {
		ss += (v - level) * (v - level)
	}
	sd := 0.0
	if n > 1 {
		sd = math.Sqrt(ss / (n - 1))
	}
	sd = math.Max(sd, math.Sqrt(math.Abs(level)))
	q := (1 + opts.IntervalWidth) / 2
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: math.Max(n-1, 1)}.Quantile(q)
	z := distuv.UnitNormal.Quantile(q)
	sigma := sd * math.Sqrt(1+1/n) * t / z
	reason := fmt.Sprintf("history has %d rows, fewer than %d: its mean, with the interval so few rows justify", len(values), ShortHistory)
	return flatModel(ds, values, opts, level, sigma, FitInfo{Method: MethodMean, Status: reason})
}

// finiteValues returns the finite values of rows with a non-zero date.
func finiteValues(ds []time.Time, y []float64) []float64 {
	var out []float64
	for i, d := range ds {
		if !d.IsZero() && finite(y[i]) {
			out = append(out, y[i])
		}
	}
	return out
}

// fallbackModel builds the flat model FitWithFallback documents.
func fallbackModel(ds []time.Time, y []float64, opts Options, reason string) (*Model, error) {
	var lastFinite time.Time
	for i, d := range ds {
		if !d.IsZero() && finite(y[i]) && d.After(lastFinite) {
			lastFinite = d.UTC()
		}
	}
	var window []float64
	for i, d := range ds {
		if !d.IsZero() && finite(y[i]) && lastFinite.Sub(d.UTC()) <= FallbackWindow {
			window = append(window, y[i])
		}
	}
	var level, spread float64
	if len(window) > 0 {
		for _, v := range window {
			level += v
		}
		level /= float64(len(window))
		for _, v := range window {
			spread += (v - level) * (v - level)
		}
		spread = math.Sqrt(spread / float64(len(window)))
	}
	return flatModel(ds, window, opts, level, spread, FitInfo{Method: "fallback", Status: reason})
}

// flatModel is a flat model of the history ds at level with noise sigma; window holds the values
// that set its scale.
func flatModel(ds []time.Time, window []float64, opts Options, level, sigma float64, info FitInfo) (*Model, error) {
	var first, last time.Time
	n := 0
	for _, d := range ds {
		if d.IsZero() {
			continue
		}
		d = d.UTC()
		if n == 0 || d.Before(first) {
			first = d
		}
		if n == 0 || d.After(last) {
			last = d
		}
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: no usable date for a flat model", ErrInvalidInput)
	}
	yScale := 1.0
	if len(window) > 0 {
		if s := math.Max(math.Abs(slices.Min(window)), math.Abs(slices.Max(window))); s > 0 {
			yScale = s
		}
	}
	tScale := last.Sub(first)
	if tScale <= 0 {
		tScale = 24 * time.Hour
	}
	m := &Model{
		growth: GrowthFlat, mode: opts.SeasonalityMode, scaling: ScalingAbsMax,
		first: first, last: last, tScale: tScale, n: n,
		yScale: yScale, cps: []float64{0}, tau: opts.ChangepointPriorScale,
		params: Params{M: level / yScale, Delta: []float64{0}, SigmaObs: sigma / yScale},
		unc:    Uncertainty{Samples: opts.UncertaintySamples, IntervalWidth: opts.IntervalWidth, Seed: opts.Seed},
		info:   info,
	}
	if err := m.init(); err != nil {
		return nil, err
	}
	return m, nil
}
