package api_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stockcast/stockcast/shared/datagen"
	"github.com/stockcast/stockcast/shared/handlers/api"
	"github.com/stockcast/stockcast/shared/handlers/handlertest"
	"github.com/stockcast/stockcast/shared/handlers/publish"
	"github.com/stockcast/stockcast/shared/handlers/refit"
	"github.com/stockcast/stockcast/shared/lstm"
	"github.com/stockcast/stockcast/shared/pipeline"
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
	data := handlertest.Generated(b, datagen.Config{Products: 1000, Days: 1000, Seed: 1})
	dataset, err := s.Put(ctx, pipeline.DatasetKey, bytes.NewReader(data), store.PutOptions{})
	if err != nil {
		b.Fatal(err)
	}
	in := pipeline.TaskInput{Bucket: "bench", DatasetKey: pipeline.DatasetKey, DatasetETag: dataset.ETag, JobID: "bench", Mode: training.Full}
	refitted := handlertest.Refit(b, refit.New(s, slog.New(slog.DiscardHandler)), in, pipeline.FineTuneOutput{})
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
	if _, err := publish.New(s, slog.New(slog.DiscardHandler)).Handle(ctx, pipeline.PublishInput{TaskInput: in, Results: &pipeline.TrainResults{
		Refit:    refitted,
		FineTune: pipeline.FineTuneOutput{CheckpointKey: pipeline.CheckpointKey, CheckpointETag: saved.ETag, VersionID: saved.VersionID, Mode: training.Full},
	}}); err != nil {
		b.Fatal(err)
	}
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
