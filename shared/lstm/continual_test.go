//go:build unix

package lstm

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stockcast/stockcast/shared/cputime"
	"github.com/stockcast/stockcast/shared/datagen"
	"github.com/stockcast/stockcast/shared/series"
	"github.com/stockcast/stockcast/shared/training"
)

// sharedData is the path of a file of the team's real data (../shared/data
// beside the repository, found from any directory inside it), or "" when
// there is none.
func sharedData(name string) string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for ; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		p := filepath.Join(filepath.Dir(dir), "shared", "data", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// replayData is the daily product data of the continual-learning benchmark:
// Rossmann's stores from the shared data when present (real daily sales with
// closed days and promotions), else two years of 40 generated products.
func replayData(b *testing.B) (name string, all []Series) {
	ctx := context.Background()
	var table *series.Table
	var err error
	if path := sharedData("rossmann_stores_101_160.csv"); path != "" {
		name = "rossmann"
		f, ferr := os.Open(path)
		if ferr != nil {
			b.Fatal(ferr)
		}
		defer f.Close()
		table, err = series.Load(ctx, f)
	} else {
		name = "generated"
		var buf bytes.Buffer
		if err := datagen.Write(ctx, &buf, datagen.Config{Products: 40, Days: 730, Seed: 3}); err != nil {
			b.Fatal(err)
		}
		table, err = series.Load(ctx, &buf)
	}
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range table.Standard() {
		d, err := Daily(s.Key, s.Dates, s.Values)
		if err != nil {
			b.Fatal(err)
		}
		all = append(all, d)
	}
	return name, all
}

// productMASE is the mean over the products (series keyed product/…) and
// the origins of the MASE of the model's Horizon-day forecasts from the day
// after each origin: the mean absolute error over the observed days, over
// the mean absolute seasonal difference (lag 7, observed pairs) of the
// history up to the origin.
func productMASE(t testing.TB, m *Model, all []Series, origins ...time.Time) float64 {
	t.Helper()
	var sum float64
	for _, o := range origins {
		sum += originMASE(t, m, all, o)
	}
	return sum / float64(len(origins))
}

// originMASE is productMASE from one origin.
func originMASE(t testing.TB, m *Model, all []Series, cut time.Time) float64 {
	t.Helper()
	H := m.Config().Horizon
	var sum float64
	n := 0
	for _, s := range all {
		if !strings.HasPrefix(s.ID, "product/") {
			continue
		}
		k := days(s.Start, cut) + 1
		if k < 2*7 || k+H > len(s.Values) {
			continue
		}
		hist := s.Values[:k]
		var scale float64
		pairs := 0
		for i := 7; i < k; i++ {
			if !math.IsNaN(hist[i]) && !math.IsNaN(hist[i-7]) {
				scale += math.Abs(hist[i] - hist[i-7])
				pairs++
			}
		}
		f, err := m.Forecast(Query{ID: s.ID, History: hist, Last: cut, Horizon: H})
		if err != nil {
			t.Fatal(err)
		}
		var e float64
		days := 0
		for d, y := range s.Values[k : k+H] {
			if !math.IsNaN(y) {
				e += math.Abs(f.Point[d] - y)
				days++
			}
		}
		if pairs == 0 || scale == 0 || days == 0 {
			continue
		}
		sum += e / float64(days) / (scale / float64(pairs))
		n++
	}
	return sum / float64(n)
}

// BenchmarkContinualLearning replays the last year of daily product data as
// twelve monthly uploads: a model trained in full on the data before them is
// fine-tuned after each upload, as the pipeline does. After the last upload
// the fine-tuned model and a full retrain on the same data forecast the 56
// days that follow (not trained on by either) from two origins 28 days
// apart, scored by MASE over the products and origins. It reports both MASEs and their ratio, and the cost of the last
// fine-tune against the full retrain (CPU seconds, and their ratio), plus the
// mean cost of a fine-tune over the year.
func BenchmarkContinualLearning(b *testing.B) {
	name, all := replayData(b)
	b.Logf("data: %s, %d series", name, len(all))
	_, last, _ := dataSpan(all)
	cfg := DefaultConfig()
	H := cfg.Horizon
	cut := last.AddDate(0, 0, -2*H) // the scored days follow it
	first := cut.AddDate(-1, 0, 0)
	pol := DefaultPolicy()
	pol.FullEpochs, pol.MaxWindows = 20, 30_000
	ctx := context.Background()
	for b.Loop() {
		m := mustNew(b, cfg)
		if _, err := m.Train(ctx, Through(all, first), TrainOptions{Policy: pol}); err != nil {
			b.Fatal(err)
		}
		var fineCPU, lastCPU time.Duration
		uploads := 0
		for month := first; month.Before(cut); {
			next := month.AddDate(0, 1, 0)
			if next.After(cut) {
				next = cut
			}
			c0 := cputime.Used(b)
			rep, err := m.Train(ctx, Through(all, next), TrainOptions{Since: month.AddDate(0, 0, 1), Policy: pol})
			if err != nil {
				b.Fatal(err)
			}
			lastCPU = cputime.Used(b) - c0
			fineCPU += lastCPU
			uploads++
			b.Logf("upload %d (%s..%s): %s, %d epochs, %d windows, val %.4f, %.1f cpu-s",
				uploads, month.AddDate(0, 0, 1).Format(time.DateOnly), next.Format(time.DateOnly), rep.Mode, rep.Epochs, rep.Windows, rep.ValLoss, lastCPU.Seconds())
			month = next
		}
		fineMASE := productMASE(b, m, all, cut, cut.AddDate(0, 0, H))
		full := mustNew(b, cfg)
		c0 := cputime.Used(b)
		rep, err := full.Train(ctx, Through(all, cut), TrainOptions{Mode: training.Full, Policy: pol})
		if err != nil {
			b.Fatal(err)
		}
		fullCPU := cputime.Used(b) - c0
		fullMASE := productMASE(b, full, all, cut, cut.AddDate(0, 0, H))
		b.Logf("full retrain: %d epochs, val %.4f, %.1f cpu-s", rep.Epochs, rep.ValLoss, fullCPU.Seconds())
		b.ReportMetric(fineMASE, "finetune-MASE")
		b.ReportMetric(fullMASE, "full-MASE")
		b.ReportMetric(fineMASE/fullMASE, "MASE-ratio")
		b.ReportMetric(lastCPU.Seconds(), "finetune-cpu-s")
		b.ReportMetric(fineCPU.Seconds()/float64(uploads), "mean-finetune-cpu-s")
		b.ReportMetric(fullCPU.Seconds(), "full-cpu-s")
		b.ReportMetric(fullCPU.Seconds()/lastCPU.Seconds(), "cost-ratio")
	}
}
