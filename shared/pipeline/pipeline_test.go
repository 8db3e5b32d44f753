package pipeline_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/store"
	"github.com/stockcast/stockcast/shared/training"
)

func TestUploadName(t *testing.T) {
	for key, want := range map[string]string{
		"uploads/a.csv": "a.csv", "uploads/x/y z.CSV": "x/y z.CSV", "uploads/": "", "uploads/a.txt": "",
		"data/a.csv": "", "uploads.csv": "",
	} {
		name, ok := pipeline.UploadName(key)
		if name != want || ok != (want != "") {
			t.Errorf("UploadName(%q) = %q, %v; want %q", key, name, ok, want)
		}
	}
}

func TestJobIDIsAValidStableExecutionName(t *testing.T) {
	valid := regexp.MustCompile(`^[0-9A-Za-z_-]{1,80}$`)
	long := "uploads/" + strings.Repeat("ünïcödé sales ", 10) + ".csv"
	for _, key := range []string{"uploads/new_data.csv", "uploads/a b+c (1).csv", long, "uploads/.csv"} {
		id := pipeline.JobID("bucket", key, `"etag"`, "0A1")
		if !valid.MatchString(id) {
			t.Errorf("JobID for %q = %q: not a valid execution name", key, id)
		}
		if again := pipeline.JobID("bucket", key, "etag", "0A1"); again != id {
			t.Errorf("JobID is not stable across quoting of the ETag: %q vs %q", again, id)
		}
	}
	a := pipeline.JobID("b", "uploads/x.csv", "e", "1")
	if a == pipeline.JobID("b", "uploads/x.csv", "e", "2") || a == pipeline.JobID("b", "uploads/x.csv", "f", "1") {
		t.Error("different uploads got the same job id")
	}
}

func TestTaskInputValidate(t *testing.T) {
	good := pipeline.TaskInput{Bucket: "b", DatasetKey: "k", DatasetETag: "e", JobID: "j", NewFrom: "2024-01-01", Mode: training.Full}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for field, change := range map[string]func(*pipeline.TaskInput){
		"bucket":      func(in *pipeline.TaskInput) { in.Bucket = "" },
		"dataset_key": func(in *pipeline.TaskInput) { in.DatasetKey = "" },
		"job_id":      func(in *pipeline.TaskInput) { in.JobID = "" },
		"mode":        func(in *pipeline.TaskInput) { in.Mode = "fast" },
		"new_from":    func(in *pipeline.TaskInput) { in.NewFrom = "01/02/2024" },
	} {
		in := good
		change(&in)
		if err := in.Validate(); err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: %v, want an error naming it", field, err)
		}
	}
}

func TestConcurrentJobUpdatesLoseNothing(t *testing.T) {
	jobs := pipeline.NewJobs(store.NewMemory("b"))
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if _, err := jobs.Update(context.Background(), "j", func(job *pipeline.Job) error {
				if job.Merge == nil {
					job.Merge = &pipeline.MergeReport{}
				}
				job.Merge.Attempts++
				return nil
			}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	job, err := jobs.Get(context.Background(), "j")
	if err != nil || job.Merge.Attempts != 16 || job.Created.IsZero() {
		t.Fatalf("job %+v (%v): want 16 increments", job, err)
	}
	if _, err := jobs.Get(context.Background(), "missing"); !errors.Is(err, pipeline.ErrJobNotFound) {
		t.Errorf("missing job: %v", err)
	}
}

func TestJobUpdateThatChangesNothingWritesNothing(t *testing.T) {
	ctx := context.Background()
	s := store.NewMemory("b")
	jobs := pipeline.NewJobs(s)
	written, err := jobs.Update(ctx, "j", func(job *pipeline.Job) error {
		job.Status = pipeline.StatusTraining
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	before, err := s.Head(ctx, pipeline.JobKey("j"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := jobs.Update(ctx, "j", func(*pipeline.Job) error { return pipeline.ErrUnchanged })
	if err != nil || got.Status != pipeline.StatusTraining || !got.Updated.Equal(written.Updated) {
		t.Fatalf("unchanged update: %+v (%v), want the record as written", got, err)
	}
	if after, err := s.Head(ctx, pipeline.JobKey("j")); err != nil || after.ETag != before.ETag {
		t.Errorf("the record was written again: ETag %s, before %s (%v)", after.ETag, before.ETag, err)
	}
	if _, err := jobs.Update(ctx, "new", func(*pipeline.Job) error { return pipeline.ErrUnchanged }); err != nil {
		t.Fatal(err)
	}
	if _, err := jobs.Get(ctx, "new"); !errors.Is(err, pipeline.ErrJobNotFound) {
		t.Errorf("an unchanged update created a record: %v", err)
	}
}

func TestManifestIsWrittenConditionally(t *testing.T) {
	ctx := context.Background()
	s := store.NewMemory("b")
	if _, _, err := pipeline.ReadManifest(ctx, s); !errors.Is(err, pipeline.ErrNoManifest) {
		t.Fatalf("no manifest: %v", err)
	}
	m := testManifest("v1")
	first, err := pipeline.WriteManifest(ctx, s, m, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pipeline.WriteManifest(ctx, s, m, ""); !errors.Is(err, store.ErrPreconditionFailed) {
		t.Errorf("second first write: %v", err)
	}
	m.Version = "v2"
	if _, err := pipeline.WriteManifest(ctx, s, m, first.ETag); err != nil {
		t.Fatal(err)
	}
	got, _, err := pipeline.ReadManifest(ctx, s)
	if err != nil || got.Version != "v2" {
		t.Errorf("read back %+v (%v)", got, err)
	}
}

func testManifest(version string) *pipeline.Manifest {
	return &pipeline.Manifest{
		Format: pipeline.ManifestFormat, Version: version, Created: time.Now(),
		Dataset: pipeline.Dataset{Key: shards.SingleKey}, Groups: &pipeline.Artifact{Key: pipeline.GroupsKey(version)},
		LSTM: pipeline.Artifact{Key: pipeline.CheckpointKey},
	}
}

func TestDamagedManifestsAreToldApartAndPassedOver(t *testing.T) {
	ctx := context.Background()
	s := store.NewMemory("b")
	if _, _, _, err := pipeline.NewestReadableManifest(ctx, s, func(*pipeline.Manifest, store.Object) error { return nil }); !errors.Is(err, pipeline.ErrNoManifest) {
		t.Fatalf("no manifest: %v", err)
	}
	first, err := pipeline.WriteManifest(ctx, s, testManifest("v1"), "")
	if err != nil {
		t.Fatal(err)
	}
	second, err := pipeline.WriteManifest(ctx, s, testManifest("v2"), first.ETag)
	if err != nil {
		t.Fatal(err)
	}
	for _, garbage := range []string{"not json {", `{"format":"other/v9","version":"x"}`, `{"format":"stockcast.manifest/v1"}`} {
		if _, err := s.Put(ctx, pipeline.ManifestKey, strings.NewReader(garbage), store.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		_, obj, err := pipeline.ReadManifest(ctx, s)
		if !errors.Is(err, pipeline.ErrDamagedManifest) || obj.ETag == "" {
			t.Errorf("%q: %v (object %+v), want ErrDamagedManifest with the object", garbage, err, obj)
		}
	}
	m, obj, skipped, err := pipeline.NewestReadableManifest(ctx, s, func(*pipeline.Manifest, store.Object) error { return nil })
	if err != nil || m.Version != "v2" || obj.VersionID != second.VersionID || len(skipped) != 3 {
		t.Fatalf("newest readable = %+v %+v, skipped %v, %v; want v2 after three damaged versions", m, obj, skipped, err)
	}
	refuseV2 := func(m *pipeline.Manifest, _ store.Object) error {
		if m.Version == "v2" {
			return errors.New("its artifacts are gone")
		}
		return nil
	}
	if m, _, skipped, err := pipeline.NewestReadableManifest(ctx, s, refuseV2); err != nil || m.Version != "v1" || !strings.Contains(errors.Join(skipped...).Error(), "artifacts are gone") {
		t.Errorf("with v2 refused: %+v, %v, %v", m, skipped, err)
	}
}
