package candidates

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stockcast/stockcast/shared/lstm"
	"github.com/stockcast/stockcast/shared/stats"
	"github.com/stockcast/stockcast/shared/training"
)

// TestLSTMBacktestIsHonest trains the models of an LSTM backtest and checks
// that each history is forecast by the latest model trained on nothing after
// its last day, and by none when every model saw later days.
func TestLSTMBacktestIsHonest(t *testing.T) {
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var all []lstm.Series
	for p := range 3 {
		v := make([]float64, 200)
		for i := range v {
			v[i] = 20 + float64(p) + 8*math.Sin(2*math.Pi*float64(i)/7)
		}
		all = append(all, lstm.Series{ID: "product/" + string(rune('A'+p)), Start: start, Values: v})
	}
	cfg := lstm.DefaultConfig()
	cfg.Layers = []int{6, 6}
	cuts := []time.Time{start.AddDate(0, 0, 140), start.AddDate(0, 0, 170)}
	var reports []lstm.Report
	f, err := TrainLSTM(context.Background(), all, cfg, lstm.Policy{FullEpochs: 2, FineTuneEpochs: 1}, cuts, func(r lstm.Report) { reports = append(reports, r) })
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Models) != 2 || len(reports) != 2 || reports[0].Mode != training.Full || reports[1].Mode != training.FineTune {
		t.Fatalf("%d models, reports %+v", len(f.Models), reports)
	}
	h := stats.History{Key: all[0].ID, Start: start, Freq: stats.Daily, Values: all[0].Values}
	for _, tc := range []struct {
		days int
		want time.Time // zero: no model
	}{{100, time.Time{}}, {141, cuts[0]}, {170, cuts[0]}, {171, cuts[1]}, {200, cuts[1]}} {
		m, err := f.Fit(t.Context(), h.Head(tc.days))
		if tc.want.IsZero() {
			if err == nil || !strings.Contains(err.Error(), "no model trained only on days up to") {
				t.Errorf("%d days: %v, want no model", tc.days, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%d days: %v", tc.days, err)
		}
		if got := m.(*lstmModel).net.LastDate(); !got.Equal(tc.want) {
			t.Errorf("%d days: model trained through %v, want %v", tc.days, got, tc.want)
		}
		fc, err := m.Forecast(28)
		if err != nil || len(fc.Mean) != 28 || len(fc.Sigma) != 28 || fc.Sigma[0] < 0 {
			t.Fatalf("%d days: forecast %+v, %v", tc.days, fc, err)
		}
	}
	if _, err := f.Fit(t.Context(), stats.History{Key: "w", Start: start, Freq: stats.Weekly, Values: make([]float64, 60)}); err == nil {
		t.Error("a weekly history accepted")
	}
}
