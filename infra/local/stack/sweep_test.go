package stack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/stockcast/stockcast/infra/local/stack"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/platform"
	"github.com/stockcast/stockcast/shared/store"
)

// TestTickerSweepClosesADeadJob: a merge moved its upload to processed/ and was killed an hour
// ago, and no upload comes after it; the stack's periodic sweep, not an upload, closes its job
// (superseded by the published model, which holds its rows).
func TestTickerSweepClosesADeadJob(t *testing.T) {
	s, err := stack.Start(context.Background(), stack.Config{
		Addr: "127.0.0.1:0", APIAddr: "127.0.0.1:0", StateDir: t.TempDir(), Bucket: "stockcast-local", Seed: "../../../testdata/small_dataset.csv",
		Logger: slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), Tune: small,
		SweepInterval: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	objects := store.NewS3(platform.NewS3Client(platform.LocalAWSConfig(s.Endpoint())), "stockcast-local")
	waitForModel(t, s, objects, "P0001", "")

	// The record the killed attempt left, written after the start-up repair has run.
	killed := time.Now().Add(-time.Hour).UTC()
	key := "uploads/killed.csv"
	dead := pipeline.Job{
		ID: pipeline.JobID("stockcast-local", key, "0123456789abcdef0123456789abcdef", "0001"), Status: pipeline.StatusRunning, Stage: "merge",
		Upload:  pipeline.Upload{Bucket: "stockcast-local", Key: key, ETag: `"0123456789abcdef0123456789abcdef"`, Size: 42},
		Created: killed, Updated: killed,
	}
	record, err := json.Marshal(dead)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := objects.Put(ctx, pipeline.JobKey(dead.ID), bytes.NewReader(record), store.PutOptions{ContentType: "application/json"}); err != nil {
		t.Fatal(err)
	}

	jobs := pipeline.NewJobs(objects)
	deadline := time.Now().Add(time.Minute)
	for {
		job, err := jobs.Get(ctx, dead.ID)
		if err != nil {
			t.Fatal(err)
		}
		if job.Status != pipeline.StatusRunning {
			if job.Status != pipeline.StatusSuperseded || job.Publish == nil || job.Publish.Version == "" {
				t.Errorf("the dead job ended %s/%s, publish %+v; want superseded by the published model", job.Status, job.Stage, job.Publish)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("after a minute of sweeps the dead job is still running")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if keys, err := objects.List(ctx, pipeline.UploadsPrefix); err != nil || len(keys) != 0 {
		t.Errorf("uploads/ holds %v (%v): the job was closed by an upload, not the sweep", keys, err)
	}
}
