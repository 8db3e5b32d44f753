package backtest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/stockcast/stockcast/shared/stats"
)

// Config sets up backtests. Zero fields take the defaults.
type Config struct {
	// Horizon is the window after each origin, in steps (0: DefaultHorizon).
	Horizon int
	// Origins is the number of origins (0: 3).
	Origins int
	// Level is the central probability of the intervals scored and served (0: 0.8).
	Level float64
	// Combine is how many of the best candidates a combination takes (0: 3).
	Combine int
}

// DefaultHorizon is 28 days, 8 weeks or 6 months.
func DefaultHorizon(f stats.Frequency) int {
	switch f {
	case stats.Weekly:
		return 8
	case stats.Monthly:
		return 6
	}
	return 28
}

func (c Config) withDefaults(f stats.Frequency) Config {
	if c.Horizon <= 0 {
		c.Horizon = DefaultHorizon(f)
	}
	if c.Origins <= 0 {
		c.Origins = 3
	}
	if c.Level <= 0 || c.Level >= 1 {
		c.Level = 0.8
	}
	if c.Combine <= 0 {
		c.Combine = 3
	}
	return c
}

// ErrTooShort is wrapped by the error for a history too short to backtest.
var ErrTooShort = errors.New("history too short to backtest")

// plan returns the cuts (the first step of each window, ascending) and the
// window length for a history of n steps with period m.
func plan(n, m int, c Config) ([]int, int, error) {
	fits := func(k, h int) bool { return n >= max(m+1, 2*h)+k*h }
	k, h := c.Origins, c.Horizon
	for k > 1 && !fits(k, h) {
		k--
	}
	for h > 1 && !fits(k, h) {
		h--
	}
	if !fits(k, h) {
		return nil, 0, fmt.Errorf("%d steps: %w", n, ErrTooShort)
	}
	cuts := make([]int, k)
	for i := range cuts {
		cuts[i] = n - (k-i)*h
	}
	return cuts, h, nil
}

// DailyOrigins returns, ascending, the last day of history before each window of the backtest
// that cfg makes of a daily series observed from first to last: the latest day through which a
// model that learns from every series (the global LSTM) may be trained to forecast each window
// without having seen it. A series of the same dataset that is shorter or ends earlier has
// windows no later than these.
func DailyOrigins(first, last time.Time, cfg Config) ([]time.Time, error) {
	cfg = cfg.withDefaults(stats.Daily)
	cuts, _, err := plan(stats.Daily.Steps(first, last)+1, stats.Daily.Period(), cfg)
	if err != nil {
		return nil, fmt.Errorf("backtest origins from %s to %s: %w", first.Format(time.DateOnly), last.Format(time.DateOnly), err)
	}
	out := make([]time.Time, len(cuts))
	for i, cut := range cuts {
		out[i] = stats.Daily.Step(first, cut-1)
	}
	return out, nil
}

// run is the forecasts of every candidate from every cut.
type run struct {
	horizon int
	level   float64
	// fc[c][cut] is candidate c's forecast from cut (nil with err[c][cut]).
	fc  []map[int]*stats.Forecast
	err []map[int]error
	// desc[c][cut] is the fitted model's description, model[c][cut] the model.
	desc  []map[int]string
	model []map[int]stats.Model
}

func newRun(n, horizon int, level float64) *run {
	r := &run{horizon: horizon, level: level, fc: make([]map[int]*stats.Forecast, n),
		err: make([]map[int]error, n), desc: make([]map[int]string, n), model: make([]map[int]stats.Model, n)}
	for i := range n {
		r.fc[i], r.err[i], r.desc[i], r.model[i] = map[int]*stats.Forecast{}, map[int]error{}, map[int]string{}, map[int]stats.Model{}
	}
	return r
}

// at fits every candidate on h's steps before cut (once per cut); a
// Refitter refits the model of the nearest earlier cut it fitted. It stops
// with ctx's error, wrapped, when ctx ends: no fit is recorded then, since
// its failure says nothing of the candidate.
func (r *run) at(ctx context.Context, h stats.History, cands []stats.Forecaster, cut int) error {
	for i, c := range cands {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("backtest %s: %w", h.Key, err)
		}
		if _, done := r.fc[i][cut]; done {
			continue
		}
		if _, done := r.err[i][cut]; done {
			continue
		}
		var prev stats.Model
		if _, ok := c.(stats.Refitter); ok {
			best := -1
			for k, m := range r.model[i] {
				if k < cut && k > best && m != nil {
					best, prev = k, m
				}
			}
		}
		m, f, err := fitForecast(ctx, c, prev, h.Head(cut), r.horizon)
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return fmt.Errorf("backtest %s: %w", h.Key, cerr)
			}
			r.err[i][cut] = err
			continue
		}
		r.fc[i][cut], r.desc[i][cut], r.model[i][cut] = f, m.Describe(), m
	}
	return nil
}

// fitForecast fits c to h (refitting prev when c is a Refitter and prev is
// not nil) and forecasts horizon steps, catching a candidate's panic as its
// error.
func fitForecast(ctx context.Context, c stats.Forecaster, prev stats.Model, h stats.History, horizon int) (m stats.Model, f *stats.Forecast, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s: panic: %v", c.Name(), p)
		}
	}()
	if h.Observed() == 0 {
		return nil, nil, fmt.Errorf("%s: %w", c.Name(), stats.ErrNoHistory)
	}
	if prev != nil {
		m, err = c.(stats.Refitter).Refit(ctx, prev, h)
	} else {
		m, err = c.Fit(ctx, h)
	}
	if err != nil {
		return nil, nil, err
	}
	out, err := m.Forecast(horizon)
	if err != nil {
		return nil, nil, err
	}
	if len(out.Mean) != horizon {
		return nil, nil, fmt.Errorf("%s: %d forecast steps for a horizon of %d", c.Name(), len(out.Mean), horizon)
	}
	for _, v := range out.Mean {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, nil, fmt.Errorf("%s: forecast is not finite", c.Name())
		}
	}
	return m, &out, nil
}

// scale is the MASE denominator of the steps before cut: the mean absolute
// seasonal difference (lag m), else the lag-1 one, else 1.
func scale(y []float64, m int) float64 {
	for _, lag := range []int{m, 1} {
		var sum float64
		n := 0
		for i := lag; i < len(y); i++ {
			if d := math.Abs(y[i] - y[i-lag]); !math.IsNaN(d) {
				sum += d
				n++
			}
		}
		if n > 0 && sum > 0 {
			return sum / float64(n)
		}
	}
	return 1
}

// window returns the values of the window after cut.
func window(h stats.History, cut, horizon int) []float64 {
	return slices.Clone(h.Values[cut : cut+horizon])
}
