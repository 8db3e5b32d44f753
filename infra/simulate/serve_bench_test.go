package simulate_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stockcast/stockcast/infra/simulate"
	"github.com/stockcast/stockcast/shared/handlers/api"
	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/store"
)

// singleFileShare is how much smaller the single-file model BenchmarkColdForecast measures is
// than the scale dataset: a single-file model of the whole scale dataset does not fit in this
// machine's memory at full scale, so its figures are the measured ones scaled by the products.
const singleFileShare = 50

// heapMB is the live heap after a collection, in MB.
func heapMB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / 1e6
}

// forecastOne asks a new API handler (a cold forecast function) for one product's forecast and
// returns the handler, the model loaded.
func forecastOne(b *testing.B, s store.Store, product string) *api.Handler {
	b.Helper()
	h := api.New(s, slog.New(slog.DiscardHandler))
	resp, err := h.Handle(context.Background(), events.APIGatewayProxyRequest{HTTPMethod: http.MethodGet, Path: "/forecast", Resource: "/forecast",
		QueryStringParameters: map[string]string{"product_id": product, "days": "7"}})
	if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, product) {
		b.Fatalf("forecast of %s: %v %d %.300s", product, err, resp.StatusCode, resp.Body)
	}
	return h
}

// firstProductOf returns the first product of shard k of the dataset c describes.
func firstProductOf(b *testing.B, c simulate.Config, k int) string {
	d := c.Dataset()
	for n := 1; n <= c.Products; n++ {
		if id := d.ProductID(n); shards.Of(id, c.Count()) == k {
			return id
		}
	}
	b.Fatalf("shard %d has no product", k)
	return ""
}

// BenchmarkColdForecast is a cold forecast function's first request for one product: a new
// API handler loads the manifest, the LSTM and the group results, then the product's shard (its
// rows, trend models and selections) — of the model of the scale dataset, and of a single-file
// model (one shard: what the dataset was before sharding, every product loaded by the first
// request) of 1/singleFileShare of its products. Each reports the live heap with the model
// loaded (heap-MB) against the ForecastFunction's MemorySize; the single-file one also its heap
// and reload time scaled to the scale dataset's products (at-scale-heap-MB, at-scale-s).
func BenchmarkColdForecast(b *testing.B) {
	products := scaleProducts(b)
	memoryMB := float64(templateMemoryMB(b, "ForecastFunction"))
	measure := func(b *testing.B, s store.Store, product string) (heap float64) {
		for b.Loop() {
			b.StopTimer()
			before := heapMB()
			b.StartTimer()
			h := forecastOne(b, s, product)
			b.StopTimer()
			heap = heapMB() - before
			runtime.KeepAlive(h)
			b.StartTimer()
		}
		b.ReportMetric(heap, "heap-MB")
		b.ReportMetric(heap/memoryMB, "of-function-memory")
		return heap
	}
	b.Run(fmt.Sprintf("products=%d/sharded", products), func(b *testing.B) {
		s, x := sharedModel(b)
		measure(b, s, firstProductOf(b, scaled(products), 0))
		b.ReportMetric(float64(len(x)), "shards")
		b.ReportMetric(float64(x[0].Products), "products-loaded")
	})
	small := max(1, products/singleFileShare)
	b.Run(fmt.Sprintf("products=%d/single-file-of-%d", small, products), func(b *testing.B) {
		c := singleFile(scaled(small))
		s := publishedModel(b, c)
		heap := measure(b, s, firstProductOf(b, c, 0))
		scale := float64(products) / float64(small)
		b.ReportMetric(float64(small), "products-loaded")
		b.ReportMetric(heap*scale, "at-scale-heap-MB")
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)*scale, "at-scale-s")
	})
}
