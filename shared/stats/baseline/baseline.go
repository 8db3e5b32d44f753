// Package baseline holds the simple forecasts every model must beat: the
// naive forecast (the last observed value), the seasonal naive forecast (the
// last observed value of the same season, the same weekday for daily data)
// and the window average (the mean of the last observed values over four
// weeks of daily data, a quarter of weekly data, a year of monthly data).
//
// They read observed steps only: a step without a row is skipped, never
// taken as zero. Their distributions are normal with the RMS of the
// in-sample errors of the same rule: one-step differences widening as √h
// (naive), seasonal differences widening as √⌈h/m⌉ (seasonal naive), the
// window's standard deviation times √(1 + 1/w) (average).
package baseline

import (
	"context"
	"fmt"
	"math"

	"github.com/stockcast/stockcast/shared/stats"
)

// Naive repeats the last observed value.
type Naive struct{}

// SeasonalNaive repeats the last observed value of the same season.
type SeasonalNaive struct{}

// Mean is the average of a recent window.
type Mean struct{}

// Name is "naive".
func (Naive) Name() string { return "naive" }

// Name is "snaive".
func (SeasonalNaive) Name() string { return "snaive" }

// Name is "mean".
func (Mean) Name() string { return "mean" }

// Window is the number of steps the window average covers at a frequency.
func Window(f stats.Frequency) int {
	switch f {
	case stats.Weekly:
		return 13
	case stats.Monthly:
		return 12
	}
	return 28
}

// Model is a fitted baseline.
type Model struct {
	describe string
	mean     func(h int) float64
	sigma    func(h int) float64
}

// Describe names the baseline.
func (m *Model) Describe() string { return m.describe }

// Forecast predicts the horizon steps after the history.
func (m *Model) Forecast(horizon int) (stats.Forecast, error) {
	f := stats.Forecast{Mean: make([]float64, horizon), Sigma: make([]float64, horizon)}
	for h := range f.Mean {
		f.Mean[h], f.Sigma[h] = m.mean(h), m.sigma(h)
	}
	return f, nil
}

// rmsLag is the RMS of y[i] − y[i−lag] over pairs both observed.
func rmsLag(y []float64, lag int) (float64, bool) {
	var sq float64
	n := 0
	for i := lag; i < len(y); i++ {
		if d := y[i] - y[i-lag]; !math.IsNaN(d) {
			sq += d * d
			n++
		}
	}
	if n == 0 {
		return 0, false
	}
	return math.Sqrt(sq / float64(n)), true
}

func last(h stats.History) (float64, error) {
	for i := len(h.Values) - 1; i >= 0; i-- {
		if !math.IsNaN(h.Values[i]) {
			return h.Values[i], nil
		}
	}
	return 0, fmt.Errorf("series %s: %w", h.Key, stats.ErrNoHistory)
}

// Fit fits the naive forecast.
func (Naive) Fit(_ context.Context, h stats.History) (stats.Model, error) {
	v, err := last(h)
	if err != nil {
		return nil, err
	}
	s, _ := rmsLag(h.Values, 1)
	return &Model{describe: "naive", mean: func(int) float64 { return v },
		sigma: func(k int) float64 { return s * math.Sqrt(float64(k+1)) }}, nil
}

// Fit fits the seasonal naive forecast: step n+k gets the latest observed
// value of its season; a season never observed in the history gets the
// last observed value.
func (SeasonalNaive) Fit(_ context.Context, h stats.History) (stats.Model, error) {
	v, err := last(h)
	if err != nil {
		return nil, err
	}
	m, n := h.Period(), len(h.Values)
	if n < m {
		return nil, fmt.Errorf("snaive of %s: %d steps, less than one season of %d", h.Key, n, m)
	}
	season := make([]float64, m) // by phase i mod m
	for i := n - m; i < n; i++ {
		season[i%m] = v
		for j := i; j >= 0; j -= m {
			if !math.IsNaN(h.Values[j]) {
				season[i%m] = h.Values[j]
				break
			}
		}
	}
	s, ok := rmsLag(h.Values, m)
	if !ok {
		s, _ = rmsLag(h.Values, 1)
	}
	return &Model{describe: fmt.Sprintf("seasonal naive (period %d)", m),
		mean:  func(k int) float64 { return season[(n+k)%m] },
		sigma: func(k int) float64 { return s * math.Sqrt(float64(k/m+1)) }}, nil
}

// Fit fits the window average over the last Window(h.Freq) observed values.
func (Mean) Fit(_ context.Context, h stats.History) (stats.Model, error) {
	w := Window(h.Freq)
	var vals []float64
	for i := len(h.Values) - 1; i >= 0 && len(vals) < w; i-- {
		if !math.IsNaN(h.Values[i]) {
			vals = append(vals, h.Values[i])
		}
	}
	if len(vals) == 0 {
		return nil, fmt.Errorf("mean of %s: %w", h.Key, stats.ErrNoHistory)
	}
	var mean, sq float64
	for _, v := range vals {
		mean += v / float64(len(vals))
	}
	for _, v := range vals {
		sq += (v - mean) * (v - mean)
	}
	sd := math.Sqrt(sq / math.Max(1, float64(len(vals)-1)))
	k := float64(len(vals))
	return &Model{describe: fmt.Sprintf("mean of the last %d observed values", len(vals)),
		mean:  func(int) float64 { return mean },
		sigma: func(int) float64 { return sd * math.Sqrt(1+1/k) }}, nil
}
