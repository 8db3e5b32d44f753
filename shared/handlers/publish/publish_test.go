package publish_test

import (
	"bytes"
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stockcast/stockcast/shared/handlers/handlertest"

	"github.com/stockcast/stockcast/shared/handlers/publish"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/training"
)

// publishInput is the publish input of a job trained on a dataset of one shard (the one file
// of before sharding, which the task names as such).
func publishInput(job string, written time.Time) pipeline.PublishInput {
	return pipeline.PublishInput{
		TaskInput: pipeline.TaskInput{
			Bucket: handlertest.Bucket, DatasetKey: shards.SingleKey, DatasetETag: `"d-` + job + `"`, JobID: job,
			Mode: training.FineTune, DatasetWritten: written,
		},
		Results: &pipeline.TrainResults{
			Refit: pipeline.RefitOutput{Series: 30, Fallbacks: 4, Failed: []string{"product/P9"},
				FitMS: 120, Rows: 20000, FirstDate: "2022-01-01", LastDate: "2024-04-10",
				Backtest: &pipeline.Backtest{Selected: 29, Unselected: 1, MS: 900, MASE: 0.8, Choices: map[string]int{"ets": 29}},
				Shards: []pipeline.ShardRefitOutput{{Shard: 0, Of: 1, Trend: pipeline.Artifact{Key: pipeline.ShardTrendKey(job, 0), ETag: `"t"`},
					Selection: &pipeline.Artifact{Key: pipeline.ShardSelectionKey(job, 0), ETag: `"s"`}}},
				Groups: &pipeline.Artifact{Key: pipeline.GroupsKey(job), ETag: `"g"`}},
			FineTune: pipeline.FineTuneOutput{CheckpointKey: pipeline.CheckpointKey, CheckpointETag: `"c"`, VersionID: "v1",
				Mode: training.FineTune, Epochs: 10, Loss: 0.01, ValLoss: 0.02, Windows: 640},
		},
	}
}

func newPublishHandler(t *testing.T, e *handlertest.Env) *publish.Handler {
	h := publish.New(e.Store, handlertest.Logger(t))
	h.Now = func() time.Time { return handlertest.Day }
	return h
}

func TestPublishWritesTheManifestAndSucceedsTheJob(t *testing.T) {
	e := handlertest.NewEnv(t)
	h := newPublishHandler(t, e)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)

	out, err := h.Handle(ctx, publishInput("job-a", t0))
	if err != nil {
		t.Fatal(err)
	}
	manifest, obj, err := pipeline.ReadManifest(ctx, e.Store)
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != pipeline.StatusSucceeded || out.Version != "job-a" || out.ManifestETag != obj.ETag {
		t.Errorf("output %+v does not name the manifest written (%s)", out, obj.ETag)
	}
	if len(manifest.Shards) != 1 || manifest.Shards[0].Trend.Key != "models/trend/job-a/0000.json" || manifest.LSTM.VersionID != "v1" ||
		manifest.Dataset.Rows != 20000 || manifest.Dataset.LastDate != "2024-04-10" || manifest.Metrics.Epochs != 10 || manifest.Previous != "" ||
		manifest.Shards[0].Selection == nil || manifest.Shards[0].Selection.ETag != `"s"` || manifest.Shards[0].Data.Parts[0].Key != shards.SingleKey ||
		manifest.Groups == nil || manifest.Groups.Key != "models/groups/job-a.json" || manifest.Metrics.FailedShards != nil ||
		manifest.Metrics.Backtest == nil || manifest.Metrics.Backtest.Choices["ets"] != 29 ||
		manifest.Metrics.Fallbacks != 4 || !slices.Equal(manifest.Metrics.FailedSeries, []string{"product/P9"}) {
		t.Errorf("manifest = %+v", manifest)
	}
	if job := e.Job("job-a"); job.Status != pipeline.StatusSucceeded || job.Publish.Version != "job-a" {
		t.Errorf("job = %+v", job)
	}

	if _, err := h.Handle(ctx, publishInput("job-b", t0.Add(time.Minute))); err != nil {
		t.Fatal(err)
	}
	manifest, _, _ = pipeline.ReadManifest(ctx, e.Store)
	if manifest.Version != "job-b" || manifest.Previous != "job-a" {
		t.Errorf("second publish: version %s previous %s", manifest.Version, manifest.Previous)
	}
}

func TestPublishFailureModeKeepsTheManifest(t *testing.T) {
	e := handlertest.NewEnv(t)
	h := newPublishHandler(t, e)
	ctx := context.Background()
	if _, err := h.Handle(ctx, publishInput("good", time.Now())); err != nil {
		t.Fatal(err)
	}
	before := e.Read(pipeline.ManifestKey)
	in := publishInput("bad", time.Now())
	in.Results = nil
	in.Error = &pipeline.TaskError{Error: "DatasetChanged", Cause: `{"errorMessage":"dataset data/large_dataset.csv changed","errorType":"DatasetChanged"}`}
	out, err := h.Handle(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != pipeline.StatusFailed {
		t.Errorf("status %s, want failed", out.Status)
	}
	if !bytes.Equal(e.Read(pipeline.ManifestKey), before) {
		t.Errorf("the manifest changed in failure mode")
	}
	job := e.Job("bad")
	if job.Status != pipeline.StatusFailed || job.Error != "DatasetChanged: dataset data/large_dataset.csv changed" {
		t.Errorf("job status %s error %q", job.Status, job.Error)
	}
}

func TestPublishNeverReplacesANewerDatasetsModel(t *testing.T) {
	e := handlertest.NewEnv(t)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)
	// The older run reads the manifest; before it writes, the newer run publishes. The older
	// write then fails its If-Match, and on the retry it sees the newer model and stands down.
	newer := newPublishHandler(t, e)
	racing := &handlertest.CountingStore{Store: e.Store, BeforeWrite: map[string]func(){pipeline.ManifestKey: func() {
		if _, err := newer.Handle(ctx, publishInput("newer", t0.Add(time.Hour))); err != nil {
			t.Errorf("newer publish: %v", err)
		}
	}}}
	older := publish.New(racing, handlertest.Logger(t))
	out, err := older.Handle(ctx, publishInput("older", t0))
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != pipeline.StatusSuperseded {
		t.Errorf("older run status %s, want superseded", out.Status)
	}
	manifest, _, _ := pipeline.ReadManifest(ctx, e.Store)
	if manifest.Version != "newer" {
		t.Errorf("manifest version %s, want newer", manifest.Version)
	}
	if job := e.Job("older"); job.Status != pipeline.StatusSuperseded {
		t.Errorf("older job status %s", job.Status)
	}
}

func TestPublishRefusesIncompleteInput(t *testing.T) {
	e := handlertest.NewEnv(t)
	h := newPublishHandler(t, e)
	for name, in := range map[string]pipeline.PublishInput{
		"no results nor error": {TaskInput: publishInput("x", time.Now()).TaskInput},
		"no job id":            func() pipeline.PublishInput { in := publishInput("", time.Now()); return in }(),
		"other bucket":         func() pipeline.PublishInput { in := publishInput("x", time.Now()); in.Bucket = "other"; return in }(),
	} {
		if _, err := h.Handle(context.Background(), in); err == nil {
			t.Errorf("%s: accepted", name)
		} else if !strings.Contains(err.Error(), "publish") && !strings.Contains(err.Error(), "job_id") {
			t.Errorf("%s: error %q does not say what is wrong", name, err)
		}
	}
	if e.Exists(pipeline.ManifestKey) {
		t.Errorf("a manifest was written from bad input")
	}
}

// TestPublishWritesTheShardedManifest: the manifest names the dataset index and, for each shard,
// its index entry (its parts exactly) with its artifacts; a shard whose refit failed is published
// with its data only and named in the metrics.
func TestPublishWritesTheShardedManifest(t *testing.T) {
	e := handlertest.NewEnv(t)
	h := newPublishHandler(t, e)
	ctx := context.Background()
	obj, index := e.PutShards(handlertest.Testdata(t, "small_dataset.csv"), 2)
	in := publishInput("job-s", time.Now())
	in.TaskInput = handlertest.ShardedTaskInput("job-s", obj)
	in.Results.Refit.Shards = []pipeline.ShardRefitOutput{
		{Shard: 0, Of: 2, Trend: pipeline.Artifact{Key: pipeline.ShardTrendKey("job-s", 0), ETag: `"t0"`}},
		{Shard: 1, Of: 2},
	}
	if _, err := h.Handle(ctx, in); err != nil {
		t.Fatal(err)
	}
	manifest, _, err := pipeline.ReadManifest(ctx, e.Store)
	if err != nil {
		t.Fatal(err)
	}
	if manifest.Dataset.Key != shards.IndexKey || manifest.Dataset.ETag != obj.ETag || manifest.Dataset.VersionID != obj.VersionID ||
		len(manifest.Shards) != 2 || !reflect.DeepEqual(manifest.Shards[0].Data, index[0]) || !reflect.DeepEqual(manifest.Shards[1].Data, index[1]) ||
		manifest.Shards[0].Trend.ETag != `"t0"` || manifest.Shards[1].Trend.Key != "" || !slices.Equal(manifest.Metrics.FailedShards, []int{1}) {
		t.Errorf("manifest dataset %+v, shards %+v, failed shards %v", manifest.Dataset, manifest.Shards, manifest.Metrics.FailedShards)
	}

	in = publishInput("job-t", time.Now())
	in.TaskInput = handlertest.ShardedTaskInput("job-t", obj)
	in.Results.Refit.Shards = in.Results.Refit.Shards[:1] // one result for two shards
	if _, err := h.Handle(ctx, in); err == nil {
		t.Error("a refit of one shard of two published")
	}
}
