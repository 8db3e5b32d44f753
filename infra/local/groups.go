package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/stockcast/stockcast/shared/backtest"
	"github.com/stockcast/stockcast/shared/series"
	"github.com/stockcast/stockcast/shared/stats"
)

// Sources of a group backtest.
const (
	// groupDirect forecasts a group from its own history (its auto selection).
	groupDirect = "direct"
	// groupBottomUp sums the auto forecasts of the group's products.
	groupBottomUp = "bottom_up"
)

// groupReport compares the two ways to forecast the groups of a dataset (the total, each
// category, each region): from the group's own history, or as the sum of its products'
// forecasts, on the same windows.
type groupReport struct {
	Data      string          `json:"data"`
	Frequency stats.Frequency `json:"frequency"`
	Horizon   int             `json:"horizon"`
	Origins   int             `json:"origins"`
	Products  int             `json:"products"`
	// Levels are the scores by level (total, category, region) and over every group ("all").
	Levels []groupLevel `json:"levels"`
	// Fallbacks counts the product windows that no backtest covered (a product too short at
	// that origin), for which the bottom-up sum took the product's mean before the cut.
	Fallbacks int               `json:"fallbacks"`
	Skipped   map[string]string `json:"skipped,omitempty"`
}

// groupLevel is one level's pooled scores of both sources.
type groupLevel struct {
	Level  string                 `json:"level"`
	Series int                    `json:"series"`
	Scores []backtest.ModelScores `json:"scores"`
}

// groupSeries is one group and the histories of its products' rows in it.
type groupSeries struct {
	level   string
	history stats.History
	members []int // indices into the member histories
}

// backtestGroups backtests each group of table directly and bottom-up: every group and every
// product (its rows in the group) by backtest.Evaluate with the same configuration, each read
// up to the dataset's last date, so that every series has the same origins.
func backtestGroups(ctx context.Context, table *series.Table, name string, cands []stats.Forecaster, workers int, cfg backtest.Config) (*groupReport, error) {
	all := table.Standard()
	if len(all) == 0 {
		return nil, fmt.Errorf("%s has no rows", name)
	}
	freq := stats.Detect(all[0].Dates)
	end, _ := table.LastDate()
	regular := func(s series.Series) (stats.History, error) {
		h, err := stats.FromDatesAt(s.Key, s.Dates, s.Values, freq)
		for err == nil && h.Date(h.Len()-1).Before(end) {
			h.Values = append(h.Values, math.NaN()) // no rows yet: not observed
		}
		return h, err
	}
	report := &groupReport{Data: name, Frequency: freq, Products: len(table.Products()), Skipped: map[string]string{}}
	var members []stats.History
	memberIndex := map[string]int{} // by product, for a product whose rows are all in the group
	products := map[string]series.Series{}
	for _, s := range all {
		if id, ok := strings.CutPrefix(s.Key, series.ProductKey("")); ok {
			products[id] = s
		}
	}
	var groups []groupSeries
	for _, s := range all {
		level, value, _ := strings.Cut(s.Key, "/")
		var f series.Filter
		switch level {
		case series.Total:
		case "category":
			f.Category = value
		case "region":
			f.Region = value
		default:
			continue
		}
		h, err := regular(s)
		if err != nil {
			return nil, err
		}
		g := groupSeries{level: level, history: h}
		for _, id := range table.Products() {
			f.ProductID = id
			m, err := table.Filtered(f)
			if errors.Is(err, series.ErrNoMatch) {
				continue
			}
			if err != nil {
				return nil, err
			}
			whole := products[id]
			if i, ok := memberIndex[id]; ok && sameSeries(m, whole) {
				g.members = append(g.members, i)
				continue
			}
			mh, err := regular(m)
			if err != nil {
				return nil, err
			}
			if sameSeries(m, whole) {
				mh.Key = whole.Key
				memberIndex[id] = len(members)
			}
			g.members = append(g.members, len(members))
			members = append(members, mh)
		}
		groups = append(groups, g)
	}
	histories := slices.Clone(members)
	for _, g := range groups {
		histories = append(histories, g.history)
	}
	evals, errs, err := evaluateAll(ctx, histories, cands, cfg, workers)
	if err != nil {
		return nil, err
	}
	memberEvals, groupEvals := evals[:len(members)], evals[len(members):]
	byLevel := map[string][]backtest.Split{}
	var rows []backtest.Row
	for gi, g := range groups {
		ev := groupEvals[gi]
		if ev == nil {
			report.Skipped[g.history.Key] = errs[len(members)+gi].Error()
			continue
		}
		report.Horizon, report.Origins = ev.Horizon, max(report.Origins, len(ev.Cuts))
		byLevel[g.level] = append(byLevel[g.level], ev.Split())
		for _, r := range ev.Rows() {
			if r.Model == backtest.Auto {
				r.Model = groupDirect
				rows = append(rows, r)
			}
		}
		for o, cut := range ev.Cuts {
			sum := make([]float64, ev.Horizon)
			for _, m := range g.members {
				f, ok := forecastAt(memberEvals[m], g.history.Date(cut), ev.Horizon)
				if !ok {
					report.Fallbacks++
					f = meanBefore(members[m], g.history.Date(cut), ev.Horizon)
				}
				for s := range sum {
					sum[s] += f[s]
				}
			}
			for s, v := range sum {
				rows = append(rows, backtest.Row{Series: g.history.Key, Origin: o, Step: s, Model: groupBottomUp, Mean: v, Lower: math.NaN(), Upper: math.NaN()})
			}
		}
	}
	var every []backtest.Split
	for _, level := range []string{series.Total, "category", "region"} {
		if splits := byLevel[level]; len(splits) > 0 {
			report.Levels = append(report.Levels, groupLevel{Level: level, Series: len(splits), Scores: backtest.Score(splits, rows)})
			every = append(every, splits...)
		}
	}
	report.Levels = append(report.Levels, groupLevel{Level: "all", Series: len(every), Scores: backtest.Score(every, rows)})
	return report, nil
}

// backtestGroupsFile backtests the groups of a dataset file and prints the report (as JSON too
// with jsonOut, a file or - for stdout instead of the table).
func backtestGroupsFile(ctx context.Context, source dataFlags, names []string, workers int, cfg backtest.Config, jsonOut string, stdout io.Writer) error {
	cands, err := candidatesNamed(names)
	if err != nil {
		return err
	}
	path := *source.data
	table, err := source.load(ctx)
	if err != nil {
		return err
	}
	report, err := backtestGroups(ctx, table, filepath.Base(path), cands, workers, cfg)
	if err != nil {
		return err
	}
	if done, err := writeJSON(report, jsonOut, stdout); done || err != nil {
		return err
	}
	return writeGroupReport(report, stdout)
}

// sameSeries reports whether a group's rows of a product are all of the product's rows.
func sameSeries(a, b series.Series) bool {
	return len(a.Dates) == len(b.Dates) && slices.Equal(a.Values, b.Values)
}

// forecastAt is the auto forecast of an evaluation (nil: none) from its window that starts on
// date, if it has one that long.
func forecastAt(ev *backtest.Evaluation, date time.Time, horizon int) ([]float64, bool) {
	if ev == nil || ev.Horizon < horizon {
		return nil, false
	}
	for o, cut := range ev.Cuts {
		if ev.History.Date(cut).Equal(date) {
			return ev.Sources[backtest.Auto].Forecasts[o][:horizon], true
		}
	}
	return nil, false
}

// meanBefore is a history's mean over its observed steps before date, for every step of the
// horizon (0 without any).
func meanBefore(h stats.History, date time.Time, horizon int) []float64 {
	var sum float64
	n := 0
	for i, v := range h.Values {
		if !h.Date(i).Before(date) {
			break
		}
		if !math.IsNaN(v) {
			sum, n = sum+v, n+1
		}
	}
	out := make([]float64, horizon)
	if n > 0 {
		for s := range out {
			out[s] = sum / float64(n)
		}
	}
	return out
}

// writeGroupReport prints a group report as a table.
func writeGroupReport(r *groupReport, w io.Writer) error {
	fmt.Fprintf(w, "%s: groups of %d products, %s, %d origins × %d steps; direct = the group's own history, bottom_up = the sum of its products' forecasts\n",
		r.Data, r.Products, r.Frequency, r.Origins, r.Horizon)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "level\tseries\tmodel\tMASE\tWAPE\tRMSE\t")
	for _, l := range r.Levels {
		for _, s := range l.Scores {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%.4f\t%.4f\t%.2f\t\n", l.Level, s.Series, s.Model, s.MASE, s.WAPE, s.RMSE)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if r.Fallbacks > 0 {
		fmt.Fprintf(w, "%d product windows had no backtest (too short at that origin): bottom_up took their mean before the cut\n", r.Fallbacks)
	}
	for key, why := range r.Skipped {
		fmt.Fprintf(w, "skipped %s: %s\n", key, why)
	}
	return nil
}
