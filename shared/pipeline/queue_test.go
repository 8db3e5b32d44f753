package pipeline

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/store"
)

func TestQueueTrainsABurstTwice(t *testing.T) {
	ctx := context.Background()
	s := store.NewMemory("b")
	q, jobs := NewQueue(s), NewJobs(s)
	var started []TaskInput
	start := func(_ context.Context, in TaskInput) (string, error) {
		started = append(started, in)
		return "exec-" + in.JobID, nil
	}
	dataset := func(content string) string {
		obj, err := s.Put(ctx, shards.SingleKey, bytes.NewReader([]byte(content)), store.PutOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return obj.ETag
	}
	request := func(job, etag string) Decision {
		t.Helper()
		if _, err := jobs.Update(ctx, job, func(j *Job) error {
			j.Merge = &MergeReport{DatasetETag: etag, FirstDate: "2024-03-0" + job[len(job)-1:], LastDate: "2024-03-0" + job[len(job)-1:]}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		d, err := q.Request(ctx, TaskInput{Bucket: "b", DatasetKey: shards.SingleKey, DatasetETag: etag, JobID: job}, start)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	first := dataset("v1")
	if d := request("job1", first); d.Action != Started || d.Execution != "exec-job1" {
		t.Fatalf("first upload: %+v", d)
	}
	for _, job := range []string{"job2", "job3", "job4"} {
		if d := request(job, dataset("v-"+job)); d.Action != Queued || d.Execution != "exec-job1" {
			t.Fatalf("%s during the run: %+v", job, d)
		}
	}
	if d := request("job1", first); d.Action != Started || len(started) != 1 {
		t.Fatalf("a duplicate request: %+v, %d starts", d, len(started))
	}
	// The first iteration failed (its dataset changed under it): the next one covers it.
	next, err := q.Finish(ctx, TaskInput{Bucket: "b", DatasetKey: shards.SingleKey, DatasetETag: first, JobID: "job1"}, true, jobs)
	if err != nil || next == nil {
		t.Fatalf("Finish: %+v, %v", next, err)
	}
	current, _ := s.Head(ctx, shards.SingleKey)
	if next.JobID != "job4" || next.DatasetETag != current.ETag || !slices.Equal(next.Covers, []string{"job2", "job3", "job1"}) ||
		next.NewFrom != "2024-03-01" || next.NewTo != "2024-03-04" {
		t.Errorf("next iteration %+v", next)
	}
	if next, err := q.Finish(ctx, *next, false, jobs); err != nil || next != nil {
		t.Fatalf("the last iteration: %+v, %v", next, err)
	}
	if claim, _ := q.Read(ctx); claim.Active {
		t.Errorf("claim still active: %+v", claim)
	}
	if len(started) != 1 {
		t.Errorf("%d executions for a burst, want one (two iterations)", len(started))
	}
	// After the run: a new upload starts a new run; an abandoned run's jobs go with the next.
	if d := request("job5", dataset("v5")); d.Action != Started {
		t.Fatalf("after the run: %+v", d)
	}
	request("job6", dataset("v6"))
	if err := q.Abandon(ctx, "exec-job5"); err != nil {
		t.Fatal(err)
	}
	if d := request("job7", dataset("v7")); d.Action != Started || !slices.Equal(started[len(started)-1].Covers, []string{"job5", "job6"}) {
		t.Errorf("after an abandoned run: %+v, covers %v", d, started[len(started)-1].Covers)
	}
	// A job whose rows are in the version the run trains: Request records nothing, Join makes
	// it wait for the next iteration.
	if d := request("job9", started[len(started)-1].DatasetETag); d.Action != Running {
		t.Fatalf("the version the run trains: %+v", d)
	}
	if joined, err := q.Join(ctx, "exec-job7", "job9"); err != nil || !joined {
		t.Fatalf("Join: %v, %v", joined, err)
	}
	if claim, _ := q.Read(ctx); !slices.Equal(claim.Waiting, []string{"job9"}) {
		t.Errorf("waiting after Join: %v", claim.Waiting)
	}
	if joined, err := q.Join(ctx, "exec-job5", "job9"); err != nil || joined {
		t.Errorf("Join of an abandoned run: %v, %v", joined, err)
	}
	// A dataset the published model covers trains nothing.
	manifest := &Manifest{Format: ManifestFormat, Version: "v7", Dataset: Dataset{ETag: started[len(started)-1].DatasetETag}}
	if _, err := WriteManifest(ctx, s, manifest, ""); err != nil {
		t.Fatal(err)
	}
	if d := request("job8", manifest.Dataset.ETag); d.Action != Covered || d.Version != "v7" {
		t.Errorf("covered dataset: %+v", d)
	}
}
