// Package intermittent forecasts intermittent demand — series with many
// zero days — by Croston's method with the Syntetos–Boylan bias correction
// (SBA) and by the method of Teunter, Syntetos and Babai (TSB).
//
// Both read only observed steps: a step without a row (NaN) is neither a
// zero nor a demand, and does not count in the interval between demands.
// Croston smooths the non-zero demand sizes z and the intervals p between
// them (in observed steps) and forecasts (1 − α/2)·z/p; TSB smooths the
// sizes with α and the probability of a demand, updated at every observed
// step, with β, and forecasts probability × size. The smoothing parameters
// are chosen from a small grid by the in-sample mean squared one-step
// error, as tsintermittent's "MSE" cost does. Both need non-negative data,
// at least two demands and at least MinZeroShare of the observed steps at
// zero (with fewer zeros they are exponential smoothing by another name). The distribution is a normal with the
// in-sample one-step RMSE, widening as √h.
package intermittent

import (
	"context"
	"fmt"
	"math"

	"github.com/stockcast/stockcast/shared/stats"
)

// MinZeroShare is the smallest share of zero observations the methods fit.
const MinZeroShare = 0.2

// grid is the smoothing parameters tried.
var grid = []float64{0.05, 0.1, 0.2, 0.3}

// Croston is Croston's method with the SBA correction.
type Croston struct{}

// TSB is the Teunter–Syntetos–Babai method.
type TSB struct{}

// Name is "croston".
func (Croston) Name() string { return "croston" }

// Name is "tsb".
func (TSB) Name() string { return "tsb" }

// Model is a fitted Croston or TSB model: a flat forecast.
type Model struct {
	name        string
	alpha, beta float64
	level       float64
	rmse        float64
}

// Describe names the method and its parameters.
func (m *Model) Describe() string {
	if m.name == "tsb" {
		return fmt.Sprintf("TSB(α=%g, β=%g)", m.alpha, m.beta)
	}
	return fmt.Sprintf("Croston SBA(α=%g)", m.alpha)
}

// Forecast is the flat forecast with a normal distribution widening as √h.
func (m *Model) Forecast(horizon int) (stats.Forecast, error) {
	f := stats.Forecast{Mean: make([]float64, horizon), Sigma: make([]float64, horizon)}
	for h := range f.Mean {
		f.Mean[h] = m.level
		f.Sigma[h] = m.rmse * math.Sqrt(float64(h+1))
	}
	return f, nil
}

// observed returns the observed values, checking the method's needs.
func observed(h stats.History, method string) ([]float64, error) {
	var y []float64
	demands, zeros := 0, 0
	for _, v := range h.Values {
		if math.IsNaN(v) {
			continue
		}
		if v < 0 {
			return nil, fmt.Errorf("%s of %s: negative value %v", method, h.Key, v)
		}
		if v > 0 {
			demands++
		} else {
			zeros++
		}
		y = append(y, v)
	}
	if share := float64(zeros) / float64(max(1, len(y))); share < MinZeroShare {
		return nil, fmt.Errorf("%s of %s: %.0f%% zero observations, the method needs %.0f%%", method, h.Key, 100*share, 100*MinZeroShare)
	}
	if demands < 2 {
		return nil, fmt.Errorf("%s of %s: %d non-zero demands, need 2", method, h.Key, demands)
	}
	return y, nil
}

// Fit fits Croston's method to h.
func (Croston) Fit(_ context.Context, h stats.History) (stats.Model, error) {
	y, err := observed(h, "croston")
	if err != nil {
		return nil, err
	}
	var best *Model
	for _, a := range grid {
		level, mse := croston(y, a)
		if best == nil || mse < best.rmse {
			best = &Model{name: "croston", alpha: a, level: level, rmse: mse}
		}
	}
	best.rmse = math.Sqrt(best.rmse)
	return best, nil
}

// croston runs Croston SBA with parameter a over y and returns the final
// forecast and the in-sample mean squared one-step error (after the first
// demand).
func croston(y []float64, a float64) (float64, float64) {
	var z, p, forecast, sse float64
	started := false
	since, n := 0, 0
	for _, v := range y {
		since++
		if started {
			e := v - forecast
			sse += e * e
			n++
		}
		if v > 0 {
			if !started {
				z, p, started = v, float64(since), true
			} else {
				z += a * (v - z)
				p += a * (float64(since) - p)
			}
			since = 0
			forecast = (1 - a/2) * z / p
		}
	}
	return forecast, sse / math.Max(1, float64(n))
}

// Fit fits TSB to h.
func (TSB) Fit(_ context.Context, h stats.History) (stats.Model, error) {
	y, err := observed(h, "tsb")
	if err != nil {
		return nil, err
	}
	var best *Model
	for _, a := range grid {
		for _, b := range grid {
			level, mse := tsb(y, a, b)
			if best == nil || mse < best.rmse {
				best = &Model{name: "tsb", alpha: a, beta: b, level: level, rmse: mse}
			}
		}
	}
	best.rmse = math.Sqrt(best.rmse)
	return best, nil
}

// tsb runs TSB over y, started at the first demand's size and the share
// of demand steps, and returns the final forecast and the in-sample mean
// squared one-step error.
func tsb(y []float64, a, b float64) (float64, float64) {
	var z, demands float64
	for _, v := range y {
		if v > 0 {
			if z == 0 {
				z = v
			}
			demands++
		}
	}
	p := demands / float64(len(y))
	var sse float64
	for _, v := range y {
		e := v - p*z
		sse += e * e
		if v > 0 {
			p += b * (1 - p)
			z += a * (v - z)
		} else {
			p -= b * p
		}
	}
	return p * z, sse / float64(len(y))
}
