package backtest_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stockcast/stockcast/shared/backtest"
	"github.com/stockcast/stockcast/shared/datagen"
	"github.com/stockcast/stockcast/shared/series"
	"github.com/stockcast/stockcast/shared/stats"
	"github.com/stockcast/stockcast/shared/stats/candidates"
	"github.com/stockcast/stockcast/shared/trend"
)

// BenchmarkSelect is the refit's backtest and selection of one generated product of 1,000
// days over every candidate, per candidate and all together.
func BenchmarkSelect(b *testing.B) {
	var buf bytes.Buffer
	if err := datagen.Write(context.Background(), &buf, datagen.Config{Products: 1, Days: 1000, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	table, err := series.Load(context.Background(), &buf)
	if err != nil {
		b.Fatal(err)
	}
	s := table.Standard()[1]
	h, err := stats.FromDates(s.Key, s.Dates, s.Values)
	if err != nil {
		b.Fatal(err)
	}
	all := candidates.All(trend.DefaultOptions())
	for _, c := range all {
		b.Run(c.Name(), func(b *testing.B) {
			for b.Loop() {
				backtest.Select(b.Context(), h, []stats.Forecaster{c}, backtest.Config{})
			}
		})
	}
	b.Run("all", func(b *testing.B) {
		for b.Loop() {
			if _, err := backtest.Select(b.Context(), h, all, backtest.Config{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
