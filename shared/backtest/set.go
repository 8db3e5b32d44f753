package backtest

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/stockcast/stockcast/shared/parallel"
	"github.com/stockcast/stockcast/shared/stats"
)

// SetFormat names the format and version of a Set.
const SetFormat = "stockcast.selection/v1"

// Set is the refit's selections for every series of one model version: what
// the API serves for model=auto, with the backtest behind each choice.
type Set struct {
	Format     string          `json:"format"`
	Created    time.Time       `json:"created"`
	Frequency  stats.Frequency `json:"frequency"`
	Candidates []string        `json:"candidates"`
	// Selections are by series key.
	Selections map[string]*Selection `json:"selections"`
	// Unselected are the series without a selection, and why (too short to
	// backtest, no candidate forecast every origin).
	Unselected map[string]string `json:"unselected,omitempty"`
	// Summary pools the backtests over the series.
	Summary Summary `json:"summary"`
}

// Summary pools a Set's backtests: each candidate's mean MASE and pooled
// coverage, and the selections' (on the windows they were chosen on, so
// optimistic: the honest figure of a selection is Evaluate's); WAPE and
// RMSE are not pooled here (null). Choices counts each choice.
type Summary struct {
	Models  []ModelScores  `json:"models"`
	Choices map[string]int `json:"choices"`
}

// Choice is a selection in a few words: "ets", "median(ets,theta,snaive)".
func (s *Selection) Choice() string {
	if s.Method == Single {
		return s.Models[0]
	}
	out := s.Method + "("
	for i, m := range s.Models {
		if i > 0 {
			out += ","
		}
		out += m
	}
	return out + ")"
}

// SelectAll runs Select on every history with workers goroutines (0: one
// per core). It stops early, with ctx's error, when ctx is done: no history
// is started after that and the fits under way stop.
func SelectAll(ctx context.Context, hs []stats.History, cands []stats.Forecaster, cfg Config, workers int) (*Set, error) {
	sels := make([]*Selection, len(hs))
	errs := make([]error, len(hs))
	parallel.Each(ctx, len(hs), workers, func(i int) {
		sels[i], errs[i] = Select(ctx, hs[i], cands, cfg)
	})
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("select models: %w", err)
	}
	set := &Set{Format: SetFormat, Selections: map[string]*Selection{}, Unselected: map[string]string{}}
	for _, c := range cands {
		set.Candidates = append(set.Candidates, c.Name())
	}
	if len(hs) > 0 {
		set.Frequency = hs[0].Freq
	}
	totals := map[string]*Totals{}
	add := func(name string, sc *Scores) {
		if sc == nil || sc.Points == 0 {
			return
		}
		t := totals[name]
		if t == nil {
			t = &Totals{}
			totals[name] = t
		}
		t.MASESum += sc.MASE
		t.Series++
		t.Points += sc.Points
		if sc.Coverage != nil {
			t.Intervals += sc.Points
			t.Covered += int(*sc.Coverage*float64(sc.Points) + 0.5)
		}
	}
	set.Summary.Choices = map[string]int{}
	for i, h := range hs {
		if errs[i] != nil {
			set.Unselected[h.Key] = errs[i].Error()
			continue
		}
		sel := sels[i]
		set.Selections[h.Key] = sel
		set.Summary.Choices[sel.Choice()]++
		add(Auto, &sel.Scores)
		for name, res := range sel.Candidates {
			add(name, res.Scores)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(totals)) {
		t := totals[name]
		sc := Scores{MASE: t.MASESum / float64(t.Series), WAPE: math.NaN(), RMSE: math.NaN(), Points: t.Points}
		if t.Intervals > 0 {
			c := float64(t.Covered) / float64(t.Intervals)
			sc.Coverage = &c
		}
		set.Summary.Models = append(set.Summary.Models, ModelScores{Model: name, Scores: sc, Series: t.Series})
	}
	return set, nil
}
