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
	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/store"
)

// BenchmarkRefit is the refit of one shard, as one item of the training state machine's Map
// runs it: a generated dataset of N products as the one shard, every product fitted on all cores
// and every candidate backtested on each; trend-only is the refit without the backtests. The
// group step, whose series count does not grow with the products, is not in it. Besides the
// wall-clock time it reports the CPU seconds of each refit (cpu-s/op), which a loaded machine
// inflates less; the scale figures multiply it by the shard count.
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
			obj, err := s.Put(context.Background(), shards.SingleKey, bytes.NewReader(data), store.PutOptions{})
			if err != nil {
				b.Fatal(err)
			}
			h := refit.New(s, slog.New(slog.DiscardHandler))
			h.Workers, h.Select = size.workers, !size.noSelect
			var task pipeline.ShardTask
			task.Input.TaskInput = pipeline.TaskInput{Bucket: "bench", DatasetKey: shards.SingleKey, DatasetETag: obj.ETag, JobID: "bench"}
			task.Shard = shards.Shard{Shard: 0, Of: 1, Parts: []shards.Part{{Key: shards.SingleKey, ETag: obj.ETag}}}
			var series int
			cpu := cputime.Used(b)
			for b.Loop() {
				out, err := h.HandleShard(context.Background(), task)
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
