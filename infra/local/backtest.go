package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/stockcast/stockcast/shared/backtest"
	"github.com/stockcast/stockcast/shared/lstm"
	"github.com/stockcast/stockcast/shared/lstminput"
	"github.com/stockcast/stockcast/shared/parallel"
	"github.com/stockcast/stockcast/shared/series"
	"github.com/stockcast/stockcast/shared/stats"
	"github.com/stockcast/stockcast/shared/stats/candidates"
	"github.com/stockcast/stockcast/shared/trend"
)

// Files of a backtest's export directory.
const (
	historyFile   = "history.csv"
	originsFile   = "origins.csv"
	forecastsFile = "forecasts.csv"
)

// maxSelectionLines bounds the selections the table lists.
const maxSelectionLines = 12

// backtestReport is the JSON output of the backtest command.
type backtestReport struct {
	Data      string                  `json:"data,omitempty"`
	Frequency stats.Frequency         `json:"frequency,omitempty"`
	Series    int                     `json:"series"`
	Horizon   int                     `json:"horizon,omitempty"`
	Origins   int                     `json:"origins,omitempty"`
	Models    []backtest.ModelScores  `json:"models"`
	Selection map[string]int          `json:"selection,omitempty"`
	Skipped   map[string]string       `json:"skipped,omitempty"`
	Reference string                  `json:"reference,omitempty"`
	Ratios    map[string]float64      `json:"mase_ratio_to_reference,omitempty"`
	Details   []backtestSeriesSummary `json:"series_detail,omitempty"`
}

// backtestSeriesSummary is one series' selections at the outer origins.
type backtestSeriesSummary struct {
	Series     string   `json:"series"`
	Selections []string `json:"selections"`
}

// runBacktest backtests every product of a dataset (or scores exported forecasts).
func runBacktest(ctx context.Context, args []string) error {
	flags := flag.NewFlagSet("backtest", flag.ContinueOnError)
	source := addDataFlags(flags, "the dataset CSV (required unless --score)")
	data := source.data
	horizon := flags.Int("horizon", 0, "steps per origin (default 28 daily, 8 weekly, 6 monthly)")
	origins := flags.Int("origins", 3, "rolling origins")
	models := flags.String("models", "", "comma-separated candidates (default all: "+strings.Join(candidates.Names(candidates.All(trend.DefaultOptions())), ",")+")")
	sample := flags.Int("sample", 0, "backtest only N products, evenly spaced in name order (0: all)")
	jsonOut := flags.String("json", "", "write the report as JSON to this file (- for stdout instead of the table)")
	export := flags.String("export", "", "write the splits and every forecast to this directory ("+historyFile+", "+originsFile+", "+forecastsFile+")")
	score := flags.String("score", "", "score the forecasts of an export directory (every *.csv beside the splits) instead of backtesting")
	workers := flags.Int("workers", runtime.GOMAXPROCS(0), "series backtested at once")
	groups := flags.Bool("groups", false, "backtest the groups (the total, each category, each region) instead of the products: each from its own history (direct) and as the sum of its products' forecasts (bottom_up), on the same windows")
	withLSTM := flags.Bool("lstm", false, "add the global LSTM to the candidates of daily data, as the refit does: trained in full on the days before the first inner origin, then fine-tuned through each later origin, as the pipeline does after each upload (minutes per data set; ignored, with a note, for weekly or monthly data)")
	flags.Usage = func() {
		fmt.Fprint(flags.Output(), "usage: stockcast backtest --data FILE [--horizon N] [--origins K] [--models a,b] [--sample N] [--json FILE] [--export DIR]\n"+
			"       stockcast backtest --score DIR [--json FILE]\n\n"+
			"Rolling-origin backtest of every product: each candidate, and 'auto' — the per-series selection made\n"+
			"without seeing the window it forecasts — scored by pooled MASE, WAPE, RMSE and 80% interval coverage.\n\n")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return exitError{2}
	}
	if (*data == "") == (*score == "") || flags.NArg() > 0 || *workers < 1 || (*groups && (*data == "" || *sample != 0 || *export != "" || *withLSTM)) {
		flags.Usage()
		return exitError{2}
	}
	var report *backtestReport
	var err error
	if *score != "" {
		report, err = scoreExport(*score)
	} else {
		var names []string
		if *models != "" {
			names = strings.Split(*models, ",")
		}
		cfg := backtest.Config{Horizon: *horizon, Origins: *origins}
		if *groups {
			return backtestGroupsFile(ctx, source, names, *workers, cfg, *jsonOut, os.Stdout)
		}
		report, err = backtestFile(ctx, source, names, *sample, *workers, cfg, *export, *withLSTM)
	}
	if err != nil {
		return err
	}
	return writeReport(report, *jsonOut, os.Stdout)
}

// backtestFile evaluates the products of a dataset file (or bucket).
func backtestFile(ctx context.Context, source dataFlags, names []string, sample, workers int, cfg backtest.Config, export string, withLSTM bool) (*backtestReport, error) {
	cands, err := candidatesNamed(names)
	if err != nil {
		return nil, err
	}
	path := *source.data
	table, err := source.load(ctx)
	if err != nil {
		return nil, err
	}
	histories, freq, err := productHistories(table, path, sample)
	if err != nil {
		return nil, err
	}
	switch {
	case withLSTM && freq != stats.Daily:
		fmt.Fprintf(os.Stderr, "--lstm: the LSTM forecasts daily data and is no candidate of %s data (nor in the refit)\n", freq)
	case withLSTM:
		net, err := lstmCandidate(ctx, table, cfg)
		if err != nil {
			return nil, err
		}
		cands = append(slices.Clone(cands), net)
	}
	evals, errs, err := evaluateAll(ctx, histories, cands, cfg, workers)
	if err != nil {
		return nil, err
	}
	report := &backtestReport{Data: filepath.Base(path), Frequency: freq, Selection: map[string]int{}, Skipped: map[string]string{}}
	var splits []backtest.Split
	var rows []backtest.Row
	for i, ev := range evals {
		if errs[i] != nil {
			report.Skipped[histories[i].Key] = errs[i].Error()
			continue
		}
		splits = append(splits, ev.Split())
		rows = append(rows, ev.Rows()...)
		report.Horizon, report.Origins = ev.Horizon, max(report.Origins, len(ev.Cuts))
		summary := backtestSeriesSummary{Series: ev.History.Key}
		for _, sel := range ev.Selections {
			choice := "median of all (history too short to backtest)"
			if sel != nil {
				choice = sel.Choice()
			}
			summary.Selections = append(summary.Selections, choice)
			report.Selection[choice]++
		}
		report.Details = append(report.Details, summary)
	}
	report.Series = len(splits)
	report.Models = backtest.Score(splits, rows)
	if export != "" {
		if err := writeExport(export, splits, rows); err != nil {
			return nil, err
		}
	}
	return report, nil
}

// candidatesNamed are the named candidates, every candidate for nil names.
func candidatesNamed(names []string) ([]stats.Forecaster, error) {
	all := candidates.All(trend.DefaultOptions())
	if names == nil {
		return all, nil
	}
	return candidates.Named(all, names)
}

// evaluateAll runs backtest.Evaluate on every history with workers goroutines: each history's
// evaluation or why it has none. It stops early, with ctx's error, when ctx is done.
func evaluateAll(ctx context.Context, histories []stats.History, cands []stats.Forecaster, cfg backtest.Config, workers int) ([]*backtest.Evaluation, []error, error) {
	evals := make([]*backtest.Evaluation, len(histories))
	errs := make([]error, len(histories))
	parallel.Each(ctx, len(histories), workers, func(i int) {
		evals[i], errs[i] = backtest.Evaluate(ctx, histories[i], cands, cfg)
	})
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	return evals, errs, nil
}

// lstmCandidate trains the LSTM candidate of a backtest of table: one model in full through the
// first origin of the first outer origin's own backtest, then one fine-tuned through each later
// origin (backtest.DailyOrigins of every outer window and of the selection's backtest before
// each), so that every forecast of the backtest comes from a model that never saw the days it
// forecasts, as the refit's LSTM candidate does.
func lstmCandidate(ctx context.Context, table *series.Table, cfg backtest.Config) (candidates.LSTMForecaster, error) {
	first, _ := table.FirstDate()
	last, _ := table.LastDate()
	outer, err := backtest.DailyOrigins(first, last, cfg)
	if err != nil {
		return candidates.LSTMForecaster{}, fmt.Errorf("--lstm: %w", err)
	}
	cuts := slices.Clone(outer)
	for _, o := range outer {
		if inner, err := backtest.DailyOrigins(first, o, cfg); err == nil {
			cuts = append(cuts, inner...)
		}
	}
	slices.SortFunc(cuts, time.Time.Compare)
	cuts = slices.CompactFunc(cuts, time.Time.Equal)
	all, err := lstminput.Standard(table, nil)
	if err != nil {
		return candidates.LSTMForecaster{}, err
	}
	started := time.Now()
	return candidates.TrainLSTM(ctx, all, lstm.DefaultConfig(), lstm.DefaultPolicy(), cuts, func(r lstm.Report) {
		fmt.Fprintf(os.Stderr, "LSTM %s through %s: %d epochs, %d windows, val_loss %.4f (%.0fs)\n",
			r.Mode, r.Until.Format(time.DateOnly), r.Epochs, r.Windows, r.ValLoss, time.Since(started).Seconds())
	})
}

// productHistories reads a dataset's products as regular histories at the dataset's
// frequency, every k-th product in name order when sample > 0.
func productHistories(table *series.Table, path string, sample int) ([]stats.History, stats.Frequency, error) {
	all := table.Standard()
	if len(all) == 0 {
		return nil, "", fmt.Errorf("%s has no rows", path)
	}
	freq := stats.Detect(all[0].Dates) // the total's dates: every date of the dataset
	var products []series.Series
	for _, s := range all {
		if strings.HasPrefix(s.Key, series.ProductKey("")) {
			products = append(products, s)
		}
	}
	if sample > 0 && sample < len(products) {
		picked := make([]series.Series, sample)
		for i := range picked {
			picked[i] = products[i*len(products)/sample]
		}
		products = picked
	}
	out := make([]stats.History, len(products))
	for i, s := range products {
		var err error
		if out[i], err = stats.FromDatesAt(s.Key, s.Dates, s.Values, freq); err != nil {
			return nil, "", err
		}
	}
	return out, freq, nil
}

// writeExport writes the splits and forecasts of a backtest into dir.
func writeExport(dir string, splits []backtest.Split, rows []backtest.Row) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	hf, err := os.Create(filepath.Join(dir, historyFile))
	if err != nil {
		return err
	}
	of, err := os.Create(filepath.Join(dir, originsFile))
	if err != nil {
		return errors.Join(err, hf.Close())
	}
	err = backtest.WriteSplits(hf, of, splits)
	if err = errors.Join(err, hf.Close(), of.Close()); err != nil {
		return fmt.Errorf("write splits: %w", err)
	}
	ff, err := os.Create(filepath.Join(dir, forecastsFile))
	if err != nil {
		return err
	}
	if err := errors.Join(backtest.WriteRows(ff, rows), ff.Close()); err != nil {
		return fmt.Errorf("write forecasts: %w", err)
	}
	return nil
}

// scoreExport scores every forecasts file of an export directory on its splits; the
// reference is the best of the models named r_* (R's), when there are.
func scoreExport(dir string) (*backtestReport, error) {
	open := func(name string) (*os.File, error) { return os.Open(filepath.Join(dir, name)) }
	hf, err := open(historyFile)
	if err != nil {
		return nil, err
	}
	defer hf.Close()
	of, err := open(originsFile)
	if err != nil {
		return nil, err
	}
	defer of.Close()
	splits, err := backtest.ReadSplits(hf, of)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.csv"))
	if err != nil {
		return nil, err
	}
	var rows []backtest.Row
	for _, file := range files {
		if base := filepath.Base(file); base == historyFile || base == originsFile {
			continue
		}
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		rs, err := backtest.ReadRows(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		rows = append(rows, rs...)
	}
	report := &backtestReport{Data: filepath.Base(dir), Series: len(splits), Models: backtest.Score(splits, rows)}
	if len(splits) > 0 {
		report.Frequency, report.Horizon, report.Origins = splits[0].History.Freq, splits[0].Horizon, len(splits[0].Cuts)
	}
	best := math.Inf(1)
	for _, m := range report.Models {
		if strings.HasPrefix(m.Model, "r_") || m.Model == candidates.SNaive {
			if m.Missing == 0 && m.MASE < best {
				best, report.Reference = m.MASE, m.Model
			}
		}
	}
	if report.Reference != "" {
		report.Ratios = map[string]float64{}
		for _, m := range report.Models {
			report.Ratios[m.Model] = m.MASE / best
		}
	}
	return report, nil
}

// writeReport prints the report as a table, or as JSON to a file or stdout.
func writeReport(r *backtestReport, jsonOut string, stdout io.Writer) error {
	if done, err := writeJSON(r, jsonOut, stdout); done || err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d series, %s, %d origins × %d steps\n", cmp.Or(r.Data, "scored"), r.Series, r.Frequency, r.Origins, r.Horizon)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	header := "model\tMASE\tWAPE\tRMSE\tcoverage 80%\tseries\t"
	if r.Reference != "" {
		header += "MASE / " + r.Reference + "\t"
	}
	fmt.Fprintln(tw, header)
	models := slices.Clone(r.Models)
	slices.SortStableFunc(models, func(a, b backtest.ModelScores) int { return compareNaN(a.MASE, b.MASE) })
	for _, m := range models {
		cov := "-"
		if m.Coverage != nil {
			cov = fmt.Sprintf("%.3f", *m.Coverage)
		}
		line := fmt.Sprintf("%s\t%.4f\t%.4f\t%.2f\t%s\t%d\t", m.Model, m.MASE, m.WAPE, m.RMSE, cov, m.Series)
		if r.Reference != "" {
			line += fmt.Sprintf("%.3f\t", r.Ratios[m.Model])
		}
		fmt.Fprintln(tw, line)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Selection) > 0 {
		fmt.Fprintln(stdout, "selections (series × origins):")
		keys := slices.SortedFunc(func(yield func(string) bool) {
			for k := range r.Selection {
				if !yield(k) {
					return
				}
			}
		}, func(a, b string) int { return cmp.Or(r.Selection[b]-r.Selection[a], strings.Compare(a, b)) })
		for i, k := range keys {
			if i == maxSelectionLines {
				fmt.Fprintf(stdout, "  … %d other choices (see --json)\n", len(keys)-i)
				break
			}
			fmt.Fprintf(stdout, "  %5d  %s\n", r.Selection[k], k)
		}
	}
	for key, why := range r.Skipped {
		fmt.Fprintf(stdout, "skipped %s: %s\n", key, why)
	}
	return nil
}

// writeJSON writes a report as JSON to the file jsonOut, or to stdout for "-" (done: the table
// is not printed); nothing for "".
func writeJSON(report any, jsonOut string, stdout io.Writer) (done bool, err error) {
	if jsonOut == "" {
		return false, nil
	}
	data, err := json.MarshalIndent(report, "", "  ")
	if err != nil {
		return false, err
	}
	data = append(data, '\n')
	if jsonOut == "-" {
		_, err = stdout.Write(data)
		return true, err
	}
	return false, os.WriteFile(jsonOut, data, 0o644)
}

// compareNaN orders numbers ascending with NaN last.
func compareNaN(a, b float64) int {
	switch {
	case math.IsNaN(a) && math.IsNaN(b):
		return 0
	case math.IsNaN(a):
		return 1
	case math.IsNaN(b):
		return -1
	}
	return cmp.Compare(a, b)
}
