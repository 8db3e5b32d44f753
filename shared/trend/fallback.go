package trend

import (
	"fmt"
	"math"
	"slices"
	"time"
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
// no model can describe those.
func FitWithFallback(ds []time.Time, y []float64, opts Options) (*Model, string, error) {
	if err := opts.Validate(); err != nil {
		return nil, "", err
	}
	m, fitErr := Fit(ds, y, opts)
	if fitErr == nil {
		return m, "", nil
	}
	if len(ds) != len(y) {
		return nil, "", fitErr
	}
	fb, err := fallbackModel(ds, y, opts, fitErr.Error())
	if err != nil {
		return nil, "", err
	}
	return fb, fitErr.Error(), nil
}

// fallbackModel builds the flat model FitWithFallback documents.
func fallbackModel(ds []time.Time, y []float64, opts Options, reason string) (*Model, error) {
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
		return nil, fmt.Errorf("%w: no usable date for a fallback model", ErrInvalidInput)
	}
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
		params: Params{M: level / yScale, Delta: []float64{0}, SigmaObs: spread / yScale},
		unc:    Uncertainty{Samples: opts.UncertaintySamples, IntervalWidth: opts.IntervalWidth, Seed: opts.Seed},
		info:   FitInfo{Method: "fallback", Status: reason},
	}
	if err := m.init(); err != nil {
		return nil, err
	}
	return m, nil
}
