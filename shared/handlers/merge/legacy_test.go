package merge_test

import (
	"context"
	"encoding/json"
	"io"
	"testing"
	"time"

	"github.com/stockcast/stockcast/shared/handlers/handlertest"
	"github.com/stockcast/stockcast/shared/handlers/merge"
	"github.com/stockcast/stockcast/shared/handlers/publish"
	"github.com/stockcast/stockcast/shared/handlers/refit"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/store"
)

// legacyJob is the job of the previous release's last merge, which wrote the single file as obj
// and whose training never published (its model names an older version of the file).
const legacyJob = "job-legacy"

// legacyBucket writes what the release before sharding left: data/large_dataset.csv (an older
// version, which its manifest names, then the current one, which the legacy job merged) and no
// index. It returns the current file's data.
func legacyBucket(t *testing.T, e *handlertest.Env) []byte {
	t.Helper()
	ctx := context.Background()
	data := handlertest.Testdata(t, "small_dataset.csv")
	older := e.Put(shards.SingleKey, data[:len(data)/2+bytesToLineEnd(data[len(data)/2:])])
	manifest := &pipeline.Manifest{Format: pipeline.ManifestFormat, Version: "v-legacy", Created: handlertest.Day.Add(-48 * time.Hour), JobID: "job-older",
		Dataset: pipeline.Dataset{Key: shards.SingleKey, ETag: older.ETag, VersionID: older.VersionID, Written: older.LastModified.UTC()},
		Trend:   pipeline.Artifact{Key: "models/trend/v-legacy.json", ETag: `"trend"`}, LSTM: pipeline.Artifact{Key: "models/lstm/v-legacy.json", ETag: `"lstm"`}}
	if _, err := pipeline.WriteManifest(ctx, e.Store, manifest, ""); err != nil {
		t.Fatal(err)
	}
	current := e.Put(shards.SingleKey, data)
	if _, err := pipeline.NewJobs(e.Store).Update(ctx, legacyJob, func(job *pipeline.Job) error {
		job.Status, job.Stage, job.Execution = pipeline.StatusTraining, "train", "arn:aws:states:us-east-1:000000000000:execution:training:"+legacyJob
		job.Upload = pipeline.Upload{Bucket: handlertest.Bucket, Key: "uploads/last.csv", MovedTo: "processed/last.csv"}
		job.Merge = &pipeline.MergeReport{DatasetETag: current.ETag, DatasetVersionID: current.VersionID, Written: current.LastModified.UTC(),
			FirstDate: "2024-01-01", LastDate: "2024-01-31"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return data
}

func bytesToLineEnd(b []byte) int {
	for i, c := range b {
		if c == '\n' {
			return i + 1
		}
	}
	return len(b)
}

// mapItems reads the items of the training's Distributed Map as its ItemReader does: the object
// the task input names, at its version, as a JSON array.
func mapItems(t *testing.T, s store.Store, in pipeline.TaskInput) []shards.Shard {
	t.Helper()
	body, _, err := s.Get(context.Background(), in.DatasetKey, store.GetOptions{VersionID: in.DatasetVersionID})
	if err != nil {
		t.Fatalf("the Map's ItemReader: %v", err)
	}
	defer body.Close()
	data, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	var items []shards.Shard
	if err := json.Unmarshal(data, &items); err != nil {
		t.Fatalf("the Map's ItemReader: %s is not a JSON array of shards: %v", in.DatasetKey, err)
	}
	return items
}

// TestSweepIndexesTheSingleFileBeforeTraining: a deployment upgraded from the single-file
// layout, whose last merge was never trained. The sweep indexes the file (as a merge would) and
// has the index trained; the training, run on what the Map reads, publishes a model of it.
func TestSweepIndexesTheSingleFileBeforeTraining(t *testing.T) {
	e := handlertest.NewEnv(t)
	data := legacyBucket(t, e)
	starter := &handlertest.RecordingStarter{}
	sweep(t, newMergeHandler(t, e.Store, starter))

	cur, rows := datasetRows(t, e.Store)
	sameRows(t, rows, rowsOf(t, data))
	if !cur.Indexed() || cur.Index.Count() != 1 || cur.Index[0].Parts[0].Key != shards.SingleKey || cur.Index.Rows() != len(rows) || cur.Index.FirstDate() == "" {
		t.Fatalf("the index after the sweep: %+v", cur.Index)
	}
	runs := starter.Executions()
	if len(runs) != 1 || runs[0].JobID != legacyJob || runs[0].DatasetKey != shards.IndexKey || !store.SameETag(runs[0].DatasetETag, cur.Object.ETag) ||
		runs[0].DatasetVersionID != cur.Object.VersionID {
		t.Fatalf("executions %+v; want one training of the index %s for %s", runs, cur.Object.ETag, legacyJob)
	}
	in := runs[0]
	items := mapItems(t, e.Store, in)
	if len(items) != 1 || items[0].Rows != len(rows) {
		t.Fatalf("the Map's items: %+v", items)
	}

	ctx := context.Background()
	tuned, err := handlertest.SmallFineTune(t, e.Store).Handle(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	refitted := handlertest.Refit(t, refit.New(e.Store, handlertest.Logger(t)), in, tuned)
	out, err := publish.New(e.Store, handlertest.Logger(t)).Handle(ctx, pipeline.PublishInput{TaskInput: in, Results: &pipeline.TrainResults{Refit: refitted, FineTune: tuned}})
	if err != nil {
		t.Fatal(err)
	}
	manifest, _, err := pipeline.ReadManifest(ctx, e.Store)
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != pipeline.StatusSucceeded || manifest.Previous != "v-legacy" || manifest.Dataset.Key != shards.IndexKey ||
		!store.SameETag(manifest.Dataset.ETag, cur.Object.ETag) || len(manifest.Shards) != 1 {
		t.Errorf("published %+v: manifest %s over %s, dataset %+v, %d shards; want the index's model after v-legacy", out, manifest.Version, manifest.Previous, manifest.Dataset, len(manifest.Shards))
	}
	if job := e.Job(legacyJob); job.Status != pipeline.StatusSucceeded {
		t.Errorf("the legacy job is %s, want succeeded", job.Status)
	}

	// The next sweep finds the index trained: it writes nothing and starts nothing.
	before := e.Read(shards.IndexKey)
	sweep(t, newMergeHandler(t, e.Store, starter))
	if len(starter.Executions()) != 1 || string(e.Read(shards.IndexKey)) != string(before) {
		t.Errorf("a second sweep started %d executions or rewrote the index", len(starter.Executions())-1)
	}
}

// TestRetryIndexesTheSingleFile: bin/stockcast retry of the legacy job (and a restart's repair,
// through trainCurrent) names the index it wrote, not the single file.
func TestRetryIndexesTheSingleFile(t *testing.T) {
	for name, train := range map[string]func(h *merge.Handler) error{
		"retry":  func(h *merge.Handler) error { return h.Retry(context.Background(), legacyJob) },
		"repair": func(h *merge.Handler) error { return h.Repair(context.Background()) },
	} {
		t.Run(name, func(t *testing.T) {
			e := handlertest.NewEnv(t)
			legacyBucket(t, e)
			starter := &handlertest.RecordingStarter{}
			if err := train(newMergeHandler(t, e.Store, starter)); err != nil {
				t.Fatal(err)
			}
			runs := starter.Executions()
			if len(runs) != 1 || runs[0].DatasetKey != shards.IndexKey {
				t.Fatalf("executions %+v; want one naming %s", runs, shards.IndexKey)
			}
			if items := mapItems(t, e.Store, runs[0]); len(items) != 1 {
				t.Errorf("the Map's items: %+v", items)
			}
		})
	}
}

// TestMigrationRacingAMergeLosesNothing: an upload is merged while the sweep indexes the single
// file, committing its index first (the migration's conditional write then fails, and it finds
// the dataset indexed), or second (its merge then starts again from the migration's index).
// Either way the dataset holds the file's rows and the upload's, and every training requested
// names the index.
func TestMigrationRacingAMergeLosesNothing(t *testing.T) {
	for _, mergeFirst := range []bool{true, false} {
		name := map[bool]string{true: "merge commits first", false: "migration commits first"}[mergeFirst]
		t.Run(name, func(t *testing.T) {
			e := handlertest.NewEnv(t)
			data := legacyBucket(t, e)
			upload := handlertest.Testdata(t, "uploads/ok_next_days.csv")
			starter := &handlertest.RecordingStarter{}
			counting := &handlertest.CountingStore{Store: e.Store}
			event := e.Upload("uploads/racing.csv", upload)
			if mergeFirst {
				// Just before the migration writes the index, the merge commits its own.
				counting.BeforeWrite = map[string]func(){shards.IndexKey: func() {
					if err := newMergeHandler(t, e.Store, starter).Handle(context.Background(), event); err != nil {
						t.Errorf("the racing merge: %v", err)
					}
				}}
				sweep(t, newMergeHandler(t, counting, starter))
			} else {
				// Just before the merge writes the index, the sweep indexes the file.
				counting.BeforeWrite = map[string]func(){shards.IndexKey: func() { sweep(t, newMergeHandler(t, e.Store, starter)) }}
				if err := newMergeHandler(t, counting, starter).Handle(context.Background(), event); err != nil {
					t.Fatal(err)
				}
			}
			cur, rows := datasetRows(t, e.Store)
			sameRows(t, rows, union(rowsOf(t, data), rowsOf(t, upload)))
			if !cur.Indexed() || cur.Index.Count() != 1 {
				t.Errorf("index %+v", cur.Index)
			}
			runs := starter.Executions()
			if len(runs) == 0 {
				t.Fatal("no training was requested")
			}
			for _, in := range runs {
				if in.DatasetKey != shards.IndexKey {
					t.Errorf("a training of %s requested", in.DatasetKey)
				}
				mapItems(t, e.Store, in)
			}
			// The merge that lost the race merged again from the migration's index (which holds
			// the single file as the merge's first attempt left it: the file is the dataset
			// until it is indexed).
			job := e.Job(eventJobID(event))
			if job.Merge == nil || !store.SameETag(job.Merge.DatasetETag, cur.Object.ETag) || (mergeFirst && job.Merge.Inserted == 0) || (!mergeFirst && job.Merge.Attempts != 2) {
				t.Errorf("the upload's merge: %+v; want the current index %s (after a lost race when the migration commits first)", job.Merge, cur.Object.ETag)
			}
		})
	}
}
