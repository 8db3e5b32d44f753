package handlers_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stockcast/stockcast/shared/datagen"
	"github.com/stockcast/stockcast/shared/handlers"
	"github.com/stockcast/stockcast/shared/lstm"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/store"
)

var (
	generatedOnce sync.Map // Config -> []byte
)

// generated returns a datagen dataset, generated once per process.
func generated(b *testing.B, cfg datagen.Config) []byte {
	b.Helper()
	if data, ok := generatedOnce.Load(cfg); ok {
		return data.([]byte)
	}
	var buf bytes.Buffer
	if err := datagen.Write(context.Background(), &buf, cfg); err != nil {
		b.Fatal(err)
	}
	generatedOnce.Store(cfg, buf.Bytes())
	return buf.Bytes()
}

// BenchmarkRefit fits every standard series (total, products, categories, regions) of a
// generated dataset on all cores, as the refit Lambda does.
func BenchmarkRefit(b *testing.B) {
	for _, size := range []struct {
		name    string
		cfg     datagen.Config
		workers int
	}{
		// The baseline: the same refit on one worker.
		{"24products_830days/1worker", datagen.Config{Products: 24, Days: 830, Seed: 1}, 1},
		{"24products_830days/parallel", datagen.Config{Products: 24, Days: 830, Seed: 1}, 0},
		{"1000products_1000days/parallel", datagen.Config{Products: 1000, Days: 1000, Seed: 1}, 0},
	} {
		b.Run(size.name, func(b *testing.B) {
			data := generated(b, size.cfg)
			s := store.NewMemory("bench")
			obj, err := s.Put(context.Background(), pipeline.DatasetKey, bytes.NewReader(data), store.PutOptions{})
			if err != nil {
				b.Fatal(err)
			}
			h := handlers.NewRefit(s, slog.New(slog.DiscardHandler))
			h.Workers = size.workers
			in := pipeline.TaskInput{Bucket: "bench", DatasetKey: pipeline.DatasetKey, DatasetETag: obj.ETag, JobID: "bench"}
			var series int
			for b.Loop() {
				out, err := h.Handle(context.Background(), in)
				if err != nil {
					b.Fatal(err)
				}
				series = out.Series
			}
			b.ReportMetric(float64(series), "series")
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/float64(series), "ms/series")
		})
	}
}

// BenchmarkForecastReload measures what a new model version costs the API: the first request
// after a manifest change loads the manifest's artifacts — the generated 1,000,000-row dataset
// (1,000 products × 1,000 days), the trend models of its 1,011 series and the LSTM checkpoint —
// and builds the engine ("cold"). Beside it in the same run, "warm": a request with the manifest
// unchanged (one HEAD, then memory).
func BenchmarkForecastReload(b *testing.B) {
	ctx := context.Background()
	s := store.NewMemory("bench")
	data := generated(b, datagen.Config{Products: 1000, Days: 1000, Seed: 1})
	dataset, err := s.Put(ctx, pipeline.DatasetKey, bytes.NewReader(data), store.PutOptions{})
	if err != nil {
		b.Fatal(err)
	}
	in := pipeline.TaskInput{Bucket: "bench", DatasetKey: pipeline.DatasetKey, DatasetETag: dataset.ETag, JobID: "bench", Mode: pipeline.ModeFull}
	refit, err := handlers.NewRefit(s, slog.New(slog.DiscardHandler)).Handle(ctx, in)
	if err != nil {
		b.Fatal(err)
	}
	net, err := lstm.New(lstm.DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	var checkpoint bytes.Buffer
	if _, err := net.WriteTo(&checkpoint); err != nil {
		b.Fatal(err)
	}
	saved, err := s.Put(ctx, pipeline.CheckpointKey, &checkpoint, store.PutOptions{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := handlers.NewPublish(s, slog.New(slog.DiscardHandler)).Handle(ctx, pipeline.PublishInput{TaskInput: in, Results: &pipeline.TrainResults{
		Refit:    refit,
		FineTune: pipeline.FineTuneOutput{CheckpointKey: pipeline.CheckpointKey, CheckpointETag: saved.ETag, VersionID: saved.VersionID, Mode: pipeline.ModeFull},
	}}); err != nil {
		b.Fatal(err)
	}
	health := events.APIGatewayProxyRequest{HTTPMethod: "GET", Path: "/health"}
	request := func(b *testing.B, api *handlers.Forecast) {
		resp, err := api.Handle(ctx, health)
		if err != nil || resp.StatusCode != 200 || !strings.Contains(resp.Body, `"status":"ok"`) {
			b.Fatalf("health: %v %s", err, resp.Body)
		}
	}
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			request(b, handlers.NewForecast(s, slog.New(slog.DiscardHandler)))
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/reload")
	})
	b.Run("warm", func(b *testing.B) {
		api := handlers.NewForecast(s, slog.New(slog.DiscardHandler))
		request(b, api)
		for b.Loop() {
			request(b, api)
		}
	})
}
