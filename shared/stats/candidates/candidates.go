// Package candidates names the forecasters the backtest chooses from and
// the API can force: the statistical models of shared/stats, and the
// Prophet-style trend model through an adapter. Other models join the
// same way: a stats.Forecaster with a unique Name, added to All.
package candidates

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/stockcast/stockcast/shared/stats"
	"github.com/stockcast/stockcast/shared/stats/baseline"
	"github.com/stockcast/stockcast/shared/stats/ets"
	"github.com/stockcast/stockcast/shared/stats/intermittent"
	"github.com/stockcast/stockcast/shared/stats/theta"
	"github.com/stockcast/stockcast/shared/trend"
)

// Names of the candidates.
const (
	ETS     = "ets"
	Theta   = "theta"
	Croston = "croston"
	TSB     = "tsb"
	Naive   = "naive"
	SNaive  = "snaive"
	Mean    = "mean"
	Trend   = "trend"
)

// All returns every candidate, the trend model with the given options.
func All(trendOptions trend.Options) []stats.Forecaster {
	return []stats.Forecaster{
		ets.Forecaster{}, theta.Forecaster{}, TrendForecaster{Options: trendOptions},
		baseline.SeasonalNaive{}, baseline.Naive{}, baseline.Mean{},
		intermittent.Croston{}, intermittent.TSB{},
	}
}

// Named returns the named candidates of all, in the order given; an
// unknown name is an error listing the known ones. (backtest.Select is the
// selection among candidates by their backtests.)
func Named(all []stats.Forecaster, names []string) ([]stats.Forecaster, error) {
	var out []stats.Forecaster
	for _, name := range names {
		i := slices.IndexFunc(all, func(f stats.Forecaster) bool { return f.Name() == name })
		if i < 0 {
			return nil, fmt.Errorf("unknown model %q (known: %s)", name, strings.Join(Names(all), ", "))
		}
		out = append(out, all[i])
	}
	return out, nil
}

// Names lists the candidates' names.
func Names(all []stats.Forecaster) []string {
	out := make([]string, len(all))
	for i, f := range all {
		out[i] = f.Name()
	}
	return out
}

// TrendForecaster is the Prophet-style trend model as a candidate: fitted
// on the observed steps (Prophet needs no regular calendar), with the
// trend package's flat fallback when the fit fails.
type TrendForecaster struct {
	Options trend.Options
}

// Name is "trend".
func (TrendForecaster) Name() string { return Trend }

// Fit fits the trend model to the observed steps of h.
func (t TrendForecaster) Fit(ctx context.Context, h stats.History) (stats.Model, error) {
	var dates []time.Time
	var values []float64
	for i, v := range h.Values {
		if !math.IsNaN(v) {
			dates, values = append(dates, h.Date(i)), append(values, v)
		}
	}
	m, reason, err := trend.FitWithFallback(ctx, dates, values, t.Options)
	if err != nil {
		return nil, fmt.Errorf("trend of %s: %w", h.Key, err)
	}
	return &trendModel{model: m, h: h, fallback: reason}, nil
}

// trendSamples is the number of simulated paths of a trend candidate's
// interval.
const trendSamples = 200

type trendModel struct {
	model    *trend.Model
	h        stats.History
	fallback string
}

func (m *trendModel) Describe() string {
	if m.fallback != "" {
		return "trend fallback (flat): " + m.fallback
	}
	return "Prophet-style trend (" + strings.Join(m.model.Seasonalities(), ", ") + ")"
}

// Forecast predicts the steps after the history with Prophet's simulated
// 80% interval read as a normal's.
func (m *trendModel) Forecast(horizon int) (stats.Forecast, error) {
	n := m.h.Len()
	dates := make([]time.Time, horizon)
	for i := range dates {
		dates[i] = m.h.Date(n + i)
	}
	width := 0.8
	p, err := m.model.PredictWith(dates, trend.Uncertainty{Samples: trendSamples, IntervalWidth: width, Seed: uint64(n)})
	if err != nil {
		return stats.Forecast{}, fmt.Errorf("trend of %s: %w", m.h.Key, err)
	}
	f := stats.Forecast{Mean: p.Yhat}
	if p.Lower != nil {
		z := 1.2815515655446004 // Φ⁻¹(0.9)
		f.Sigma = make([]float64, horizon)
		for i := range f.Sigma {
			f.Sigma[i] = (p.Upper[i] - p.Lower[i]) / (2 * z)
		}
	}
	return f, nil
}
