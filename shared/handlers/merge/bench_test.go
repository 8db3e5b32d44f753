package merge_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stockcast/stockcast/shared/datagen"
	"github.com/stockcast/stockcast/shared/handlers/handlertest"
	"github.com/stockcast/stockcast/shared/handlers/merge"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/store"
)

// BenchmarkMergeDailyUpload merges daily uploads — one day of every product — into a dataset of
// 5,000 products × 699 days (2022-01-01 to 2023-11-30: 3.5 million rows, 170 MB) kept as one file
// (layout=single: MERGE_SHARD_MAX_ROWS 0, never sharded) and the same dataset in shards of at most
// 1,000,000 rows (layout=sharded: 4 shards of quarterly parts, made by the first merge, before the
// timer), in the same run, through the handler on the in-memory store. The uploads are the days
// of December 2023, the last month of a quarter, when a shard's current part is largest (61 to 92
// days; past the 31st, the 31st is uploaded again with other values), so that the figures are
// not the cheap start of a quarter. Beside ns/op it reports what a merge writes: the dataset's
// bytes and objects (parts) per upload. BENCH_MERGE_PRODUCTS and BENCH_MERGE_DAYS size it (the
// scale runs).
func BenchmarkMergeDailyUpload(b *testing.B) {
	base := datagen.Config{Products: benchEnv(b, "BENCH_MERGE_PRODUCTS", 5000), Days: benchEnv(b, "BENCH_MERGE_DAYS", 699), Seed: 1}
	data := handlertest.Generated(b, base)
	for _, layout := range []struct {
		name    string
		maxRows int
	}{{"single", 0}, {"sharded", shards.DefaultMaxRows}} {
		b.Run("layout="+layout.name, func(b *testing.B) {
			ctx := context.Background()
			s := store.NewMemory(handlertest.Bucket)
			if _, err := s.Put(ctx, shards.SingleKey, bytes.NewReader(data), store.PutOptions{}); err != nil {
				b.Fatal(err)
			}
			h := merge.New(s, &handlertest.RecordingStarter{}, slog.New(slog.DiscardHandler))
			h.Now = func() time.Time { return handlertest.Day }
			h.Config.ShardMaxRows = layout.maxRows
			day := 0
			upload := func() *pipeline.MergeReport {
				cfg := base
				cfg.Days, cfg.Start = 1, base.End().AddDate(0, 0, day)
				if quarterEnd := lastDayOfQuarter(base.End()); cfg.Start.After(quarterEnd) {
					cfg.Start, cfg.Seed = quarterEnd, base.Seed+int64(day) // the quarter's last day again
				}
				day++
				return mergeDay(b, h, s, day, handlertest.Generated(b, cfg))
			}
			first := upload() // migrates the single file (and reshards it)
			if want := shards.CountFor(first.RowsAfter, layout.maxRows, 1); first.Shards != want {
				b.Fatalf("%d shards after the first merge, want %d", first.Shards, want)
			}
			var bytesWritten int64
			parts := 0
			for b.Loop() {
				report := upload()
				bytesWritten += report.BytesWritten
				parts += report.PartsWritten
			}
			b.ReportMetric(float64(bytesWritten)/float64(b.N), "bytes_written/op")
			b.ReportMetric(float64(parts)/float64(b.N), "parts_written/op")
			b.ReportMetric(float64(first.Shards), "shards")
		})
	}
}

// BenchmarkReshard merges a daily upload into the same single-file dataset as
// BenchmarkMergeDailyUpload (3.5 million rows, 170 MB), with the shard count kept at one
// (reshard=none) and with the merge resharding it into 4 shards after its commit (reshard=1to4),
// in the same run: the difference is what a resharding costs, the bytes it writes beside it.
func BenchmarkReshard(b *testing.B) {
	base := datagen.Config{Products: benchEnv(b, "BENCH_MERGE_PRODUCTS", 5000), Days: benchEnv(b, "BENCH_MERGE_DAYS", 699), Seed: 1}
	data := handlertest.Generated(b, base)
	day := base
	day.Days, day.Start = 1, base.End()
	upload := handlertest.Generated(b, day)
	for _, layout := range []struct {
		name    string
		maxRows int
	}{{"none", 0}, {"1to4", shards.DefaultMaxRows}} {
		b.Run("reshard="+layout.name, func(b *testing.B) {
			var bytesWritten int64
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				s := store.NewMemory(handlertest.Bucket)
				if _, err := s.Put(context.Background(), shards.SingleKey, bytes.NewReader(data), store.PutOptions{}); err != nil {
					b.Fatal(err)
				}
				h := merge.New(s, &handlertest.RecordingStarter{}, slog.New(slog.DiscardHandler))
				h.Now = func() time.Time { return handlertest.Day }
				h.Config.ShardMaxRows = layout.maxRows
				b.StartTimer()
				report := mergeDay(b, h, s, i, upload)
				if want := shards.CountFor(report.RowsAfter, layout.maxRows, 1); report.Shards != want {
					b.Fatalf("%d shards, want %d", report.Shards, want)
				}
				bytesWritten += report.BytesWritten
			}
			b.ReportMetric(float64(bytesWritten)/float64(b.N), "bytes_written/op")
		})
	}
}

// mergeDay merges one day's upload and returns the job's merge report.
func mergeDay(b *testing.B, h *merge.Handler, s store.Store, day int, content []byte) *pipeline.MergeReport {
	ctx := context.Background()
	key := fmt.Sprintf("uploads/day-%d.csv", day)
	event := uploaded(b, s, key, content)
	if err := h.Handle(ctx, event); err != nil {
		b.Fatal(err)
	}
	o := event.Records[0].S3.Object
	job, err := pipeline.NewJobs(s).Get(ctx, pipeline.JobID(s.Bucket(), key, o.ETag, o.Sequencer))
	if err != nil || job.Merge == nil || job.Merge.Inserted+job.Merge.Replaced != bytes.Count(content, []byte("\n"))-1 {
		b.Fatalf("the merge of day %d: %+v, %v", day, job, err)
	}
	return job.Merge
}

// lastDayOfQuarter is the last day of day's calendar quarter.
func lastDayOfQuarter(day time.Time) time.Time {
	first := time.Date(day.Year(), (day.Month()-1)/3*3+1, 1, 0, 0, 0, 0, time.UTC)
	return first.AddDate(0, 3, -1)
}

// benchEnv reads a benchmark's size from the environment variable name, def when unset.
func benchEnv(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive count", name, v)
	}
	return n
}
