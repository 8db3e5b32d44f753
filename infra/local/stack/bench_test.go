package stack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stockcast/stockcast/infra/local/stack"
	"github.com/stockcast/stockcast/shared/datagen"
	"github.com/stockcast/stockcast/shared/handlers/finetune"
	"github.com/stockcast/stockcast/shared/lstm"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/platform"
)

// BenchmarkUploadToServed is the headline number: the time from a CSV landing in uploads/ to the
// forecast API answering from the model trained on it, with no restart, on a dataset the size of
// the prototype's (24 products, 830 days, 19,920 rows). Each upload brings the next day of every
// product. "finetune" is stockcast's pipeline; "full-retrain" is the baseline in the same run:
// the same pipeline retraining the LSTM from scratch with its full schedule, as the prototype did
// on every upload; "1worker" is the pipeline with the fine-tune training the served model and the
// backtest origins' one after another instead of at once.
func BenchmarkUploadToServed(b *testing.B) {
	base := datagen.Config{Products: 24, Days: 830, Seed: 2024}
	var seed bytes.Buffer
	if err := datagen.Write(context.Background(), &seed, base); err != nil {
		b.Fatal(err)
	}
	seedFile := b.TempDir() + "/sample.csv"
	if err := os.WriteFile(seedFile, seed.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	var finetune *finetune.Handler
	s, err := stack.Start(context.Background(), stack.Config{
		Addr: "127.0.0.1:0", APIAddr: "127.0.0.1:0", StateDir: b.TempDir(), Bucket: "stockcast-local", Seed: seedFile,
		Logger:         slog.New(slog.DiscardHandler),
		LSTMFullEpochs: 8, LSTMMaxWindows: 20000, // the first model, as make run trains it
		Tune: func(h *stack.Handlers) { finetune = h.FineTune },
	})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	client := platform.NewS3Client(platform.LocalAWSConfig(s.Endpoint()))
	version := waitForNewVersion(b, s, "")

	day := 0
	upload := func(b *testing.B) {
		day++
		next := base
		next.Start, next.Days = base.End().AddDate(0, 0, day-1), 1
		var csv bytes.Buffer
		if err := datagen.Write(context.Background(), &csv, next); err != nil {
			b.Fatal(err)
		}
		if _, err := client.PutObject(context.Background(), &s3.PutObjectInput{
			Bucket: aws.String("stockcast-local"), Key: aws.String(fmt.Sprintf("uploads/day-%d.csv", day)), Body: bytes.NewReader(csv.Bytes()),
		}); err != nil {
			b.Fatal(err)
		}
		version = waitForNewVersion(b, s, version)
	}

	b.Run("finetune", func(b *testing.B) {
		for b.Loop() {
			upload(b)
		}
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/upload")
	})
	b.Run("1worker", func(b *testing.B) {
		finetune.Workers = 1
		defer func() { finetune.Workers = 0 }()
		for b.Loop() {
			upload(b)
		}
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/upload")
	})
	b.Run("full-retrain", func(b *testing.B) {
		finetune.Policy = lstm.DefaultPolicy()
		for b.Loop() {
			b.StopTimer()
			if _, err := client.DeleteObject(context.Background(), &s3.DeleteObjectInput{
				Bucket: aws.String("stockcast-local"), Key: aws.String(pipeline.CheckpointKey),
			}); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			upload(b)
		}
		b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/upload")
	})
}

// waitForNewVersion polls the API until it answers from a model version other than old.
func waitForNewVersion(b *testing.B, s *stack.Stack, old string) string {
	deadline := time.Now().Add(20 * time.Minute)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.APIEndpoint() + "/forecast?product_id=P0001&days=1")
		if err == nil {
			var body struct {
				Version string `json:"model_version"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && body.Version != old {
				return body.Version
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.Fatalf("no model other than %q served within 20 minutes", old)
	return ""
}
