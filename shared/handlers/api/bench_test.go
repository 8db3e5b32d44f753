package api_test

import (
	"bytes"
	"context"
	"flag"
	"log/slog"
	"runtime"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stockcast/stockcast/shared/datagen"
	"github.com/stockcast/stockcast/shared/handlers/api"
	"github.com/stockcast/stockcast/shared/handlers/handlertest"
	"github.com/stockcast/stockcast/shared/handlers/refit"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/store"
	"github.com/stockcast/stockcast/shared/training"
)

// BenchmarkForecastReload measures what a new model version costs the API: the first request
// after a manifest change loads the manifest's artifacts — the generated 1,000,000-row dataset
// (1,000 products × 1,000 days), the trend models of its 1,011 series and the LSTM checkpoint —
// and builds the engine ("cold"). Beside it in the same run, "warm": a request with the manifest
// unchanged (one HEAD, then memory).
func BenchmarkForecastReload(b *testing.B) {
	ctx := context.Background()
	s := store.NewMemory("bench")
	publishBenchModel(b, s, handlertest.Generated(b, datagen.Config{Products: 1000, Days: 1000, Seed: 1}))
	health := events.APIGatewayProxyRequest{HTTPMethod: "GET", Path: "/health"}
	request := func(b *testing.B, h *api.Handler) {
		resp, err := h.Handle(ctx, health)
		if err != nil || resp.StatusCode != 200 || !strings.Contains(resp.Body, `"status":"ok"`) {
			b.Fatalf("health: %v %s", err, resp.Body)
		}
	}
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			request(b, api.New(s, slog.New(slog.DiscardHandler)))
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/reload")
	})
	b.Run("warm", func(b *testing.B) {
		h := api.New(s, slog.New(slog.DiscardHandler))
		request(b, h)
		for b.Loop() {
			request(b, h)
		}
	})
}

// The size of BenchmarkColdProductLoad's dataset and its shard count.
var (
	coldProducts = flag.Int("coldload.products", 1000, "BenchmarkColdProductLoad: products")
	coldDays     = flag.Int("coldload.days", 365, "BenchmarkColdProductLoad: days")
	coldShards   = flag.Int("coldload.shards", 16, "BenchmarkColdProductLoad: shards of the sharded model")
)

// BenchmarkColdProductLoad measures what the forecast function loads and holds to answer one
// product cold — a new model version, then the product's first request (model=auto, the refit's
// selection) — from a sharded model ("sharded": the manifest, the LSTM, the group results and
// the product's shard) and, beside it in the same run, from the single-file model of the same
// data and the same models ("single-file": the whole dataset and every series' models). B/op is
// what the load allocates; heap-MB the heap in use after it (after a collection, the handler
// alive) beyond that before it, so the store's own copy of the objects is not counted. The size
// is -coldload.products × -coldload.days (1,000 × 365) in -coldload.shards shards (16), after
// -args.
func BenchmarkColdProductLoad(b *testing.B) {
	ctx := context.Background()
	s := store.NewMemory("bench")
	data := handlertest.Generated(b, datagen.Config{Products: *coldProducts, Days: *coldDays, Seed: 1})
	single := publishBenchModel(b, s, data)
	sharded := publishSharded(b, s, single, data, *coldShards, "sharded")
	product := events.APIGatewayProxyRequest{HTTPMethod: "GET", Path: "/forecast", QueryStringParameters: map[string]string{"product_id": "P0001"}}
	for _, m := range []*pipeline.Manifest{sharded, single} {
		name := "sharded"
		if len(m.Shards) == 0 {
			name = "single-file"
		}
		b.Run(name, func(b *testing.B) {
			_, current, err := pipeline.ReadManifest(ctx, s)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := pipeline.WriteManifest(ctx, s, m, current.ETag); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			var heap float64
			var before, after runtime.MemStats
			for b.Loop() {
				b.StopTimer()
				runtime.GC()
				runtime.ReadMemStats(&before)
				b.StartTimer()
				h := api.New(s, slog.New(slog.DiscardHandler))
				resp, err := h.Handle(ctx, product)
				if err != nil || resp.StatusCode != 200 || resp.Headers[api.ModelVersionHeader] != m.Version {
					b.Fatalf("forecast: %v %d %s", err, resp.StatusCode, resp.Body)
				}
				b.StopTimer()
				runtime.GC()
				runtime.ReadMemStats(&after)
				runtime.KeepAlive(h)
				heap += float64(after.HeapAlloc) - float64(before.HeapAlloc)
				b.StartTimer()
			}
			b.ReportMetric(heap/float64(b.N)/(1<<20), "heap-MB")
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/load")
		})
	}
}

// publishBenchModel publishes a model of data as a job would, with an untrained LSTM (its size
// is the trained one's), then again as a single-file model, and returns that manifest.
func publishBenchModel(b *testing.B, s store.Store, data []byte) *pipeline.Manifest {
	ctx := context.Background()
	dataset, err := s.Put(ctx, shards.SingleKey, bytes.NewReader(data), store.PutOptions{})
	if err != nil {
		b.Fatal(err)
	}
	in := pipeline.TaskInput{Bucket: "bench", DatasetKey: shards.SingleKey, DatasetETag: dataset.ETag, JobID: "bench", Mode: training.Full}
	refitted := handlertest.Refit(b, refit.New(s, slog.New(slog.DiscardHandler)), in, pipeline.FineTuneOutput{})
	handlertest.PublishUntrained(b, s, in, refitted)
	return publishSingleFile(b, s)
}
