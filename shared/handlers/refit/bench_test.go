package refit_test

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/stockcast/stockcast/shared/cputime"
	"github.com/stockcast/stockcast/shared/datagen"
	"github.com/stockcast/stockcast/shared/handlers/handlertest"
	"github.com/stockcast/stockcast/shared/handlers/refit"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/store"
)

// BenchmarkRefit fits every standard series (total, products, categories, regions) of a
// generated dataset on all cores and backtests every candidate on each, as the refit Lambda
// does; trend-only is the refit without the backtests. Besides the wall-clock time it reports
// the CPU seconds of each refit (cpu-s/op), which a loaded machine inflates less.
func BenchmarkRefit(b *testing.B) {
	for _, size := range []struct {
		name     string
		cfg      datagen.Config
		workers  int
		noSelect bool
	}{
		// The baseline: the same refit on one worker.
		{"24products_830days/1worker", datagen.Config{Products: 24, Days: 830, Seed: 1}, 1, false},
		{"24products_830days/parallel", datagen.Config{Products: 24, Days: 830, Seed: 1}, 0, false},
		{"1000products_1000days/parallel", datagen.Config{Products: 1000, Days: 1000, Seed: 1}, 0, false},
		{"1000products_1000days/trend-only", datagen.Config{Products: 1000, Days: 1000, Seed: 1}, 0, true},
	} {
		b.Run(size.name, func(b *testing.B) {
			data := handlertest.Generated(b, size.cfg)
			s := store.NewMemory("bench")
			obj, err := s.Put(context.Background(), pipeline.DatasetKey, bytes.NewReader(data), store.PutOptions{})
			if err != nil {
				b.Fatal(err)
			}
			h := refit.New(s, slog.New(slog.DiscardHandler))
			h.Workers, h.Select = size.workers, !size.noSelect
			in := pipeline.TaskInput{Bucket: "bench", DatasetKey: pipeline.DatasetKey, DatasetETag: obj.ETag, JobID: "bench"}
			var series int
			cpu := cputime.Used(b)
			for b.Loop() {
				out, err := h.Handle(context.Background(), in)
				if err != nil {
					b.Fatal(err)
				}
				series = out.Series
			}
			b.ReportMetric((cputime.Used(b)-cpu).Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(series), "series")
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/float64(series), "ms/series")
		})
	}
}
