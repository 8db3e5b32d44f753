package pipeline_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/store"
)

func TestListJobs(t *testing.T) {
	ctx := context.Background()
	jobs := pipeline.NewJobs(store.NewMemory("b"))
	// Uploads in this order: a.csv, a-2.csv (whose ids also begin with "a-"), b.csv, a.csv again.
	var ids []string
	for i, key := range []string{"uploads/a.csv", "uploads/a-2.csv", "uploads/b.csv", "uploads/a.csv"} {
		id := pipeline.JobID("b", key, fmt.Sprintf("etag%d", i), fmt.Sprint(i))
		ids = append(ids, id)
		if _, err := jobs.Update(ctx, id, func(j *pipeline.Job) error {
			j.Status, j.Upload.Key = pipeline.StatusRunning, key
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond) // distinct creation times
	}
	latest, err := jobs.List(ctx, pipeline.ListOptions{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(latest) != 3 || latest[0].ID != ids[3] || latest[1].ID != ids[2] || latest[2].ID != ids[1] {
		t.Fatalf("latest 3: %v", jobIDs(latest))
	}
	for _, upload := range []string{"a.csv", "uploads/a.csv"} {
		of, err := jobs.List(ctx, pipeline.ListOptions{Upload: upload, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(of) != 2 || of[0].ID != ids[3] || of[1].ID != ids[0] {
			t.Fatalf("jobs of %s: %v, want %s, %s", upload, jobIDs(of), ids[3], ids[0])
		}
	}
	if none, err := jobs.List(ctx, pipeline.ListOptions{Upload: "c.csv", Limit: 10}); err != nil || len(none) != 0 {
		t.Fatalf("jobs of c.csv: %v, %v", jobIDs(none), err)
	}
	if _, err := jobs.List(ctx, pipeline.ListOptions{Limit: 0}); err == nil {
		t.Fatal("limit 0 accepted")
	}
}

// TestListPendingUpload: a file in the drop folder that no job has taken up is listed first as
// pending; once a job has its content, only that job is.
func TestListPendingUpload(t *testing.T) {
	ctx := context.Background()
	s := store.NewMemory("b")
	jobs := pipeline.NewJobs(s)
	obj, err := s.Put(ctx, "uploads/c.csv", strings.NewReader("date,product_id,sales\n"), store.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	list, err := jobs.List(ctx, pipeline.ListOptions{Upload: "c.csv", Limit: 10})
	if err != nil || len(list) != 1 || list[0].Status != pipeline.StatusPending || list[0].Upload.Key != "uploads/c.csv" || list[0].Upload.ETag != obj.ETag {
		t.Fatalf("pending upload: %+v, %v", list, err)
	}
	id := pipeline.JobID("b", "uploads/c.csv", obj.ETag, "1")
	if _, err := jobs.Update(ctx, id, func(j *pipeline.Job) error {
		j.Status, j.Upload = pipeline.StatusRunning, pipeline.Upload{Key: "uploads/c.csv", ETag: obj.ETag}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if list, err := jobs.List(ctx, pipeline.ListOptions{Upload: "c.csv", Limit: 10}); err != nil || len(list) != 1 || list[0].ID != id {
		t.Fatalf("taken up: %v, %v", jobIDs(list), err)
	}
	// The same name uploaded again with other content: pending again, before the first job.
	if _, err := s.Put(ctx, "uploads/c.csv", strings.NewReader("date,product_id,sales\n2024-01-01,P1,3\n"), store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if list, err := jobs.List(ctx, pipeline.ListOptions{Upload: "c.csv", Limit: 10}); err != nil || len(list) != 2 || list[0].Status != pipeline.StatusPending || list[1].ID != id {
		t.Fatalf("uploaded again: %+v, %v", list, err)
	}
	if list, err := jobs.List(ctx, pipeline.ListOptions{Upload: "c.csv", Limit: 1}); err != nil || len(list) != 1 || list[0].Status != pipeline.StatusPending {
		t.Fatalf("limit 1: %+v, %v", list, err)
	}
	if list, err := jobs.List(ctx, pipeline.ListOptions{Limit: 10}); err != nil || len(list) != 1 {
		t.Fatalf("without upload, pending files are not jobs: %+v, %v", list, err)
	}
}

func jobIDs(jobs []*pipeline.Job) []string {
	ids := make([]string, len(jobs))
	for i, j := range jobs {
		ids[i] = j.ID
	}
	return ids
}

func TestNewJobID(t *testing.T) {
	key := "uploads/new data.csv"
	a, b := pipeline.NewJobID(key), pipeline.NewJobID(key)
	if a == b || !pipeline.IsJobIDFor(a, key) || !pipeline.IsJobIDFor(b, key) || a[:9] != "new_data-" {
		t.Fatalf("%q, %q", a, b)
	}
	if derived := pipeline.JobID("b", key, "e", "s"); !pipeline.IsJobIDFor(derived, key) {
		t.Fatalf("derived id %q not recognised", derived)
	}
	for _, bad := range []string{"", "new_data", "new_data-0123", "other-0123456789abcdef", "new_data-0123456789ABCDEF", "new_data-0123456789abcdeg", "new_data-0123456789abcdef/x"} {
		if pipeline.IsJobIDFor(bad, key) {
			t.Errorf("%q accepted as a job id of %s", bad, key)
		}
	}
}
