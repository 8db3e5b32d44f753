// Package theta is the Theta method of Assimakopoulos and Nikolopoulos
// (2000), the M3 competition's winner, as Hyndman and Billah (2003) showed
// it and R's forecast::thetaf() computes it: simple exponential smoothing
// of the (seasonally adjusted) series plus half the slope of its linear
// trend, the drift term b/2·(h − 1 + (1 − (1−α)^n)/α).
//
// Seasonal adjustment is thetaf's: when the period m > 1, the series is not
// constant and n > 2m, the series is seasonal if its lag-m autocorrelation
// exceeds 1.645 standard errors (√((1 + 2Σ_{k<m} r_k²)/n)); it is then
// divided by the seasonal indices of a multiplicative classical
// decomposition (an additive one, subtracted, when the data are not all
// positive) and the forecast reseasonalised. Unobserved steps are
// interpolated for the autocorrelation, the decomposition and the trend
// regression; the exponential smoothing skips them. The distribution is
// thetaf's: normal around the forecast with SES's analytic standard
// deviation σ·√(1 + (h−1)α²) (in the adjusted series' units).
package theta

import (
	"context"
	"fmt"
	"math"

	"github.com/stockcast/stockcast/shared/stats"
	"github.com/stockcast/stockcast/shared/stats/ets"
)

// Forecaster is the Theta method as a backtest candidate.
type Forecaster struct{}

// Name is "theta".
func (Forecaster) Name() string { return "theta" }

// Fit fits the Theta method to h.
func (Forecaster) Fit(ctx context.Context, h stats.History) (stats.Model, error) {
	return Fit(ctx, h)
}

// Model is a fitted Theta method.
type Model struct {
	ses            *ets.Model
	drift          float64   // half the slope of the adjusted series' trend
	figure         []float64 // seasonal indices by phase; nil when not seasonal
	multiplicative bool
	steps          int
	interpolated   int
}

// Fit fits the Theta method to h; the fit of its exponential smoothing
// stops with an error wrapping ctx's when ctx ends.
func Fit(ctx context.Context, h stats.History) (*Model, error) {
	if h.Observed() < 3 {
		return nil, fmt.Errorf("theta of %s: %d observations, need 3", h.Key, h.Observed())
	}
	filled, interpolated := stats.Interpolate(h.Values)
	n, m := len(filled), h.Period()
	mod := &Model{steps: n, interpolated: interpolated}
	adjusted := h.Values
	if m > 1 && n > 2*m && seasonal(filled, m) {
		mult := positive(filled)
		if fig, err := stats.SeasonalFigure(filled, m, mult); err == nil && (!mult || minAbs(fig) >= 1e-4) {
			mod.figure, mod.multiplicative = fig, mult
			adjusted = make([]float64, n)
			for i, v := range h.Values {
				adjusted[i] = mod.deseason(v, i)
			}
		}
	}
	// The drift: half the least-squares slope of the adjusted series on 0..n-1.
	var sx, sy, sxx, sxy, k float64
	for i, v := range adjusted {
		if math.IsNaN(v) {
			continue
		}
		t := float64(i)
		sx, sy, sxx, sxy, k = sx+t, sy+v, sxx+t*t, sxy+t*v, k+1
	}
	if d := k*sxx - sx*sx; d > 0 {
		mod.drift = (k*sxy - sx*sy) / d / 2
	}
	ses, err := ets.Fit(ctx, stats.History{Key: h.Key, Start: h.Start, Freq: h.Freq, Values: adjusted}, ets.Spec{Error: ets.Additive, Trend: ets.None, Season: ets.None, Period: 1})
	if err != nil {
		return nil, fmt.Errorf("theta of %s: %w", h.Key, err)
	}
	mod.ses = ses
	return mod, nil
}

func (m *Model) deseason(v float64, i int) float64 {
	if m.multiplicative {
		return v / m.figure[i%len(m.figure)]
	}
	return v - m.figure[i%len(m.figure)]
}

func (m *Model) reseason(v float64, i int) float64 {
	if m.figure == nil {
		return v
	}
	if m.multiplicative {
		return v * m.figure[i%len(m.figure)]
	}
	return v + m.figure[i%len(m.figure)]
}

// Describe names the method and its seasonal adjustment.
func (m *Model) Describe() string {
	d := "Theta"
	switch {
	case m.figure != nil && m.multiplicative:
		d += fmt.Sprintf(" (multiplicative seasonal adjustment, period %d)", len(m.figure))
	case m.figure != nil:
		d += fmt.Sprintf(" (additive seasonal adjustment, period %d)", len(m.figure))
	}
	if m.interpolated > 0 {
		d += fmt.Sprintf(", %d unobserved steps interpolated", m.interpolated)
	}
	return d
}

// Forecast predicts the horizon steps after the history.
func (m *Model) Forecast(horizon int) (stats.Forecast, error) {
	f, err := m.ses.Forecast(horizon)
	if err != nil {
		return stats.Forecast{}, err
	}
	alpha := math.Max(1e-10, m.ses.Params.Alpha)
	n := float64(m.steps)
	base := (1 - math.Pow(1-alpha, n)) / alpha
	for h := range f.Mean {
		i := m.steps + h
		f.Mean[h] = m.reseason(f.Mean[h]+m.drift*(float64(h)+base), i)
	}
	return f, nil
}

// seasonal is thetaf's test: |r_m| > 1.645·√((1 + 2·Σ_{k<m} r_k²)/n).
func seasonal(y []float64, m int) bool {
	n := len(y)
	var mean float64
	for _, v := range y {
		mean += v / float64(n)
	}
	var c0 float64
	for _, v := range y {
		c0 += (v - mean) * (v - mean)
	}
	if c0 == 0 {
		return false
	}
	r := func(k int) float64 {
		var c float64
		for i := k; i < n; i++ {
			c += (y[i] - mean) * (y[i-k] - mean)
		}
		return c / c0
	}
	var sum float64
	for k := 1; k < m; k++ {
		sum += r(k) * r(k)
	}
	return math.Abs(r(m)) > 1.6448536269514722*math.Sqrt((1+2*sum)/float64(n))
}

func positive(y []float64) bool {
	for _, v := range y {
		if v <= 0 {
			return false
		}
	}
	return true
}

func minAbs(y []float64) float64 {
	out := math.Inf(1)
	for _, v := range y {
		out = math.Min(out, math.Abs(v))
	}
	return out
}
