package stack_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stockcast/stockcast/infra/local/stack"
	"github.com/stockcast/stockcast/shared/handlers/merge"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/platform"
	"github.com/stockcast/stockcast/shared/store"
)

// TestCrashWindows crashes the merge once at each of its fault points — after the dataset write,
// after the move to processed/, after the job update, after StartExecution — and lets the event
// be delivered again, as Lambda retries a failed invocation. Every time, the upload's new product
// is then forecast by a newly published model, and every job record has ended.
func TestCrashWindows(t *testing.T) {
	for _, point := range merge.FaultPoints {
		t.Run(string(point), func(t *testing.T) {
			var crashes atomic.Int32
			s, err := stack.Start(context.Background(), stack.Config{
				Addr: "127.0.0.1:0", APIAddr: "127.0.0.1:0", StateDir: t.TempDir(), Bucket: "stockcast-local",
				Seed:   "../../../testdata/small_dataset.csv",
				Logger: slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
				Tune: func(h *stack.Handlers) {
					small(h)
					h.Merge.Fault = func(p merge.FaultPoint) error {
						if p == point && crashes.Add(1) == 1 {
							return errors.New("crashed here")
						}
						return nil
					}
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			aws3 := platform.LocalAWSConfig(s.Endpoint())
			objects := store.NewS3(platform.NewS3Client(aws3), "stockcast-local")
			// The seed's merge is the first to pass the fault point: it crashes there. Its rows
			// must be served all the same.
			seeded := waitForModel(t, s, objects, "P0001", "")
			var upload strings.Builder
			upload.WriteString("date,product_id,sales\n")
			for d := 1; d <= 3; d++ { // the next days of every product, and a new one
				for _, product := range []string{"P0001", "P0002", "P0003", "P0004", "NEWP"} {
					fmt.Fprintf(&upload, "2024-03-0%d,%s,%d\n", d, product, 10+d)
				}
			}
			if _, err := platform.NewS3Client(aws3).PutObject(ctx, &s3.PutObjectInput{
				Bucket: aws.String("stockcast-local"), Key: aws.String("uploads/crash.csv"), Body: strings.NewReader(upload.String()),
			}); err != nil {
				t.Fatal(err)
			}
			waitForModel(t, s, objects, "NEWP", seeded)
			if crashes.Load() == 0 {
				t.Fatal("the merge never reached the fault point")
			}
			waitForJobsToEnd(t, objects)
		})
	}
}

// waitForModel waits until a model other than previous serves the product, and returns its version.
func waitForModel(t *testing.T, s *stack.Stack, objects store.Store, product, previous string) string {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		manifest, _, err := pipeline.ReadManifest(context.Background(), objects)
		if err == nil && manifest.Version != previous {
			resp, err := http.Get(s.APIEndpoint() + "/forecast?product_id=" + product)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return manifest.Version
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 2 minutes no new model serves %s (manifest %v, %v)", product, manifest, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitForJobsToEnd waits until no job record is merging or training.
func waitForJobsToEnd(t *testing.T, objects store.Store) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		jobs, err := pipeline.NewJobs(objects).List(context.Background(), pipeline.ListOptions{Limit: pipeline.MaxListLimit})
		if err != nil {
			t.Fatal(err)
		}
		var open []string
		for _, job := range jobs {
			if job.Status == pipeline.StatusRunning || job.Status == pipeline.StatusTraining {
				open = append(open, fmt.Sprintf("%s: %s/%s", job.ID, job.Status, job.Stage))
			}
		}
		if len(open) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobs still open: %v", open)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
