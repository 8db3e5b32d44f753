package ets

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/stockcast/stockcast/shared/stats"
)

// Candidates are the admissible specs of R's ets() defaults for a
// history: errors A and M, trends N, A and Ad, seasons N, A and M with
// period m (seasons only for 2 ≤ m ≤ 24), without ETS(A,·,M). Specs the
// data cannot support are dropped at Fit.
func Candidates(period int) []Spec {
	var out []Spec
	seasons := []byte{None}
	if period >= 2 && period <= 24 {
		seasons = append(seasons, Additive, Multiplicative)
	}
	for _, e := range []byte{Additive, Multiplicative} {
		for _, t := range []byte{None, Additive, Damped} {
			for _, s := range seasons {
				if e == Additive && s == Multiplicative {
					continue
				}
				out = append(out, Spec{Error: e, Trend: t, Season: s, Period: period})
			}
		}
	}
	return out
}

// Auto fits every spec of specs (Candidates(h.Period()) when nil) and
// returns the one with the smallest AICc. It stops with an error wrapping
// ctx's when ctx ends.
func Auto(ctx context.Context, h stats.History, specs []Spec) (*Model, error) {
	if specs == nil {
		specs = Candidates(h.Period())
	}
	var best *Model
	var problems []string
	for _, s := range specs {
		m, err := Fit(ctx, h, s)
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return nil, fmt.Errorf("ets of %s: %w", h.Key, cerr)
			}
			if !errors.Is(err, ErrNotAdmissible) {
				problems = append(problems, err.Error())
			}
			continue
		}
		if best == nil || m.AICc < best.AICc {
			best = m
		}
	}
	if best == nil {
		reason := "no admissible model for the data"
		if len(problems) > 0 {
			reason = strings.Join(problems, "; ")
		}
		return nil, fmt.Errorf("ets of %s (%d steps): %s", h.Key, h.Len(), reason)
	}
	return best, nil
}

// Forecaster is ETS as a backtest candidate. With Spec nil it chooses the
// model by AICc (Auto) at every fit; otherwise it fits that spec.
type Forecaster struct {
	Spec *Spec
}

// Name is "ets".
func (Forecaster) Name() string { return "ets" }

// Refit fits prev's model (the form Auto chose on an earlier prefix of h)
// to h, starting from prev's parameters.
func (f Forecaster) Refit(ctx context.Context, prev stats.Model, h stats.History) (stats.Model, error) {
	m, ok := prev.(*Model)
	if !ok {
		return nil, fmt.Errorf("ets: cannot refit a %T", prev)
	}
	return fit(ctx, h, m.Spec, m)
}

// Fit fits the forecaster's model to h.
func (f Forecaster) Fit(ctx context.Context, h stats.History) (stats.Model, error) {
	if f.Spec != nil {
		return Fit(ctx, h, *f.Spec)
	}
	return Auto(ctx, h, nil)
}
