package simulate_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stockcast/stockcast/infra/simulate"
	"github.com/stockcast/stockcast/shared/datagen"
	"github.com/stockcast/stockcast/shared/fakes3"
	"github.com/stockcast/stockcast/shared/handlers/handlertest"
	"github.com/stockcast/stockcast/shared/handlers/merge"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/store"
)

// The scale benchmarks run on a dataset of scaleProducts() products × 3 years shaped as the
// 100,000-product one is: its rows in 128 shards (the shard size scaled with the product count),
// the same generator. `make bench` runs them at 2,000 products, in a few minutes; `make scale`
// at 100,000 (STOCKCAST_SCALE_PRODUCTS=100000), the figures README's "Scale" states.
const (
	fullScale    = 100_000
	scaleYears   = 3
	defaultScale = 2_000
)

// scaleProducts is the product count of the scale benchmarks: STOCKCAST_SCALE_PRODUCTS, or
// defaultScale.
func scaleProducts(b *testing.B) int {
	v := os.Getenv("STOCKCAST_SCALE_PRODUCTS")
	if v == "" {
		return defaultScale
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("STOCKCAST_SCALE_PRODUCTS=%q is not a product count", v)
	}
	return n
}

// scaleStart is the first day of the scale dataset: its last day is 45 days into a quarter, so
// that a daily upload rewrites parts of half a quarter, as uploads do on average over a quarter
// (from one day on its first day to 91 on its last).
var scaleStart = time.Date(2022, 2, 15, 0, 0, 0, 0, time.UTC)

// scaled is the simulated dataset of products products: shards of shards.DefaultMaxRows rows
// scaled down with the product count, so that it has the 100,000-product dataset's shard count.
func scaled(products int) simulate.Config {
	return simulate.Config{Products: products, Years: scaleYears, Seed: 1, Intermittent: 0.1, Start: scaleStart,
		MaxRows: max(1, int(math.Round(float64(shards.DefaultMaxRows)*float64(products)/fullScale))), Workers: 4}
}

// singleFile is c as one file: a shard size no dataset reaches.
func singleFile(c simulate.Config) simulate.Config {
	c.MaxRows = math.MaxInt / 2
	return c
}

// writesStore counts the bytes and objects written under data/ (the dataset: parts and index).
type writesStore struct {
	store.Store
	mu     sync.Mutex
	bytes  int64
	parts  int
	others int
}

func (w *writesStore) Put(ctx context.Context, key string, body io.Reader, opts store.PutOptions) (store.Object, error) {
	obj, err := w.Store.Put(ctx, key, body, opts)
	if err == nil && strings.HasPrefix(key, "data/") {
		w.mu.Lock()
		w.bytes += obj.Size
		if strings.HasSuffix(key, ".csv") {
			w.parts++
		} else {
			w.others++
		}
		w.mu.Unlock()
	}
	return obj, err
}

func (w *writesStore) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.bytes, w.parts, w.others = 0, 0, 0
}

// BenchmarkDailyMerge merges a daily upload — one row for every product, the day after the
// dataset's last — into the scale dataset, in the sharded layout (each upload rewrites the
// current quarter's part of every shard, 45 days of it) and, the baseline in the same run, as
// one file (each upload rewrites all of it): the merge handler, as the MergeFunction runs it, over a
// directory-backed store (the dataset does not fit in memory at full scale). Each iteration
// merges the next day. It reports the bytes and parts of the dataset rewritten by one upload.
func BenchmarkDailyMerge(b *testing.B) {
	products := scaleProducts(b)
	for _, layout := range []string{"single-file", "sharded"} {
		b.Run(fmt.Sprintf("products=%d/%s", products, layout), func(b *testing.B) {
			ctx := context.Background()
			c := scaled(products)
			if layout == "single-file" {
				c = singleFile(c)
			}
			dir, err := store.NewDir(b.TempDir(), "bench")
			if err != nil {
				b.Fatal(err)
			}
			written, err := simulate.Write(ctx, dir, c)
			if err != nil {
				b.Fatal(err)
			}
			s := &writesStore{Store: dir}
			h := merge.New(s, &handlertest.RecordingStarter{}, slog.New(slog.DiscardHandler))
			h.Config.ShardMaxRows = c.MaxRows // as the dataset was written: one file stays one
			d := c.Dataset()
			day := 0
			var rewritten int64
			var parts int
			for b.Loop() {
				b.StopTimer()
				up := datagen.NextDays(d, products)
				up.Start = d.End().AddDate(0, 0, day)
				var upload bytes.Buffer
				if err := datagen.Write(ctx, &upload, up); err != nil {
					b.Fatal(err)
				}
				key := fmt.Sprintf("uploads/day-%d.csv", day)
				obj, err := dir.Put(ctx, key, &upload, store.PutOptions{ContentType: "text/csv"})
				if err != nil {
					b.Fatal(err)
				}
				s.reset()
				event := fakes3.Notification{EventName: "ObjectCreated:Put", Bucket: "bench", Key: key, Size: obj.Size, ETag: strings.Trim(obj.ETag, `"`), VersionID: obj.VersionID, Time: time.Now()}
				b.StartTimer()
				if err := h.Handle(ctx, event.S3Event("us-east-1")); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				rewritten, parts = rewritten+s.bytes, parts+s.parts
				day++
				b.StartTimer()
			}
			x, _, err := pipeline.ReadIndex(ctx, dir, "", "")
			if err != nil || x.Rows() != written.Rows+day*products || len(x) != written.Shards {
				b.Fatalf("after %d daily uploads: %d rows in %d shards (%v), want %d in %d", day, x.Rows(), len(x), err, written.Rows+day*products, written.Shards)
			}
			b.ReportMetric(float64(written.Rows), "rows")
			b.ReportMetric(float64(written.Bytes)/1e6, "dataset-MB")
			b.ReportMetric(float64(written.Shards), "shards")
			b.ReportMetric(float64(rewritten)/1e6/float64(b.N), "MB-rewritten/op")
			b.ReportMetric(float64(parts)/float64(b.N), "parts-written/op")
			b.ReportMetric(float64(rewritten)/1e6/b.Elapsed().Seconds(), "MB-written/s")
		})
	}
}
