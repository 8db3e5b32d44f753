package ets

import (
	"context"
	"errors"
	"fmt"
	"math"
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

// Auto returns the spec of specs (Candidates(h.Period()) when nil) with
// the smallest AICc, fitted. The search races the specs: each is fitted
// coarsely (Nelder–Mead stopped at a spread of coarseTolerance), and only
// those within raceMargin of the best coarse AICc are refined, from where
// they stopped, to the tolerance of Fit. A refinement only improves on its
// coarse fit, so a spec left out was more than raceMargin behind once its
// simplex had all but converged. It stops with an error wrapping ctx's
// when ctx ends.
func Auto(ctx context.Context, h stats.History, specs []Spec) (*Model, error) {
	if specs == nil {
		specs = Candidates(h.Period())
	}
	type entrant struct {
		p *problem
		x []float64
		m *Model
	}
	var field []entrant
	var problems []string
	lead := math.Inf(1)
	for _, s := range specs {
		p, err := prepare(h, s)
		var x []float64
		if err == nil {
			x, err = p.minimise(ctx, p.start(), 1, coarseTolerance)
		}
		var m *Model
		if err == nil {
			m, err = p.model(x)
		}
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return nil, fmt.Errorf("ets of %s: %w", h.Key, cerr)
			}
			if !errors.Is(err, ErrNotAdmissible) {
				problems = append(problems, err.Error())
			}
			continue
		}
		field = append(field, entrant{p, x, m})
		lead = math.Min(lead, m.AICc)
	}
	var best *Model
	for _, e := range field {
		if e.m.AICc > lead+raceMargin {
			continue
		}
		m := e.m
		x, err := e.p.minimise(ctx, e.x, warmStep, likTolerance)
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return nil, fmt.Errorf("ets of %s: %w", h.Key, cerr)
			}
		} else if refined, err := e.p.model(x); err == nil {
			m = refined
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

// Auto's race: the spread of the likelihood criterion at which a coarse
// fit stops, and how far (in AICc) behind the best coarse fit a spec may be
// and still be refined. On generated products and R's data sets, racing
// chose the model of the full search on every series with 0.4 of its
// likelihood evaluations.
const (
	coarseTolerance = 3
	raceMargin      = 10
)

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
