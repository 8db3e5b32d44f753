package merge_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/stockcast/stockcast/shared/handlers/handlertest"
	"github.com/stockcast/stockcast/shared/handlers/merge"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/shards"
)

// sweep invokes h with the schedule's event, decoded as the Lambda runtime decodes it.
func sweep(t *testing.T, h *merge.Handler) {
	t.Helper()
	if _, err := lambda.NewHandler(h.HandleEvent).Invoke(context.Background(), []byte(merge.SweepEvent)); err != nil {
		t.Fatalf("sweep: %v", err)
	}
}

// crashAt is a fault that stops the merge at point.
func crashAt(point merge.FaultPoint) func(merge.FaultPoint) error {
	return func(p merge.FaultPoint) error {
		if p == point {
			return errors.New("killed")
		}
		return nil
	}
}

func eventJobID(event events.S3Event) string {
	o := event.Records[0].S3.Object
	return pipeline.JobID(handlertest.Bucket, o.Key, o.ETag, o.Sequencer)
}

// TestSweepClosesTheJobsOfDeadAttempts: two merges die — one before moving its upload, one
// after — and no upload follows. A sweep leaves their jobs alone while they could still be
// running; once their records are older than the function's timeout, the sweep closes them as a
// merge would: the first fails saying where its upload waits, the second's rows, in the dataset,
// are trained for it.
func TestSweepClosesTheJobsOfDeadAttempts(t *testing.T) {
	e := handlertest.NewEnv(t)
	e.Put(shards.SingleKey, handlertest.Testdata(t, "small_dataset.csv"))
	starter := &handlertest.RecordingStarter{}
	// The job records' times are the real clock's: so are the handlers' here.
	handler := func(now func() time.Time) *merge.Handler {
		h := newMergeHandler(t, e.Store, starter)
		h.Now = now
		return h
	}
	dies := func(point merge.FaultPoint, event events.S3Event) string {
		h := handler(time.Now)
		h.Fault = crashAt(point)
		if err := h.Handle(context.Background(), event); err == nil {
			t.Fatalf("the merge did not stop at %s", point)
		}
		return eventJobID(event)
	}
	waiting := dies(merge.AfterDatasetWrite, e.Upload("uploads/waiting.csv", []byte("date,product_id,sales\n2024-03-01,WAIT,5\n")))
	moved := dies(merge.AfterMove, e.Upload("uploads/moved.csv", []byte("date,product_id,sales\n2024-03-02,MOVE,6\n")))

	sweep(t, handler(time.Now))
	for _, id := range []string{waiting, moved} {
		if job := e.Job(id); job.Status != pipeline.StatusRunning {
			t.Errorf("job %s is %s right after its attempt stopped, want running (it may still run)", id, job.Status)
		}
	}
	if runs := starter.Executions(); len(runs) != 0 {
		t.Errorf("the sweep started %d executions while the attempts may still run", len(runs))
	}

	sweep(t, handler(func() time.Time { return time.Now().Add(merge.DefaultConfig().DeadAfter) }))
	if job := e.Job(waiting); job.Status != pipeline.StatusFailed || !strings.Contains(job.Error, "uploads/waiting.csv") {
		t.Errorf("the job whose upload waits in uploads/: %s (%q), want failed saying where the upload is", job.Status, job.Error)
	}
	if job := e.Job(moved); job.Status != pipeline.StatusTraining || job.Execution == "" {
		t.Errorf("the job whose upload was moved: %s/%s, execution %q; want training", job.Status, job.Stage, job.Execution)
	}
	head, err := e.Store.Head(context.Background(), shards.IndexKey)
	if err != nil {
		t.Fatal(err)
	}
	if runs := starter.Executions(); len(runs) != 1 || runs[0].JobID != moved || runs[0].DatasetETag != head.ETag {
		t.Errorf("executions %+v; want one training the current dataset %s for %s", runs, head.ETag, moved)
	}
}

// TestSweepTrainsAMergedButUntrainedDataset: a merge stops after recording its merge, before
// starting the training, and its event never comes again; the sweep trains the current dataset
// for it.
func TestSweepTrainsAMergedButUntrainedDataset(t *testing.T) {
	e := handlertest.NewEnv(t)
	e.Put(shards.SingleKey, handlertest.Testdata(t, "small_dataset.csv"))
	starter := &handlertest.RecordingStarter{}
	h := newMergeHandler(t, e.Store, starter)
	h.Fault = crashAt(merge.AfterJobUpdate)
	event := e.Upload("uploads/next.csv", handlertest.Testdata(t, "uploads/ok_next_days.csv"))
	if err := h.Handle(context.Background(), event); err == nil {
		t.Fatal("the merge did not stop after the job update")
	}
	if runs := starter.Executions(); len(runs) != 0 {
		t.Fatalf("executions %+v before the sweep", runs)
	}

	sweep(t, newMergeHandler(t, e.Store, starter))
	head, err := e.Store.Head(context.Background(), shards.IndexKey)
	if err != nil {
		t.Fatal(err)
	}
	id := eventJobID(event)
	if runs := starter.Executions(); len(runs) != 1 || runs[0].JobID != id || runs[0].DatasetETag != head.ETag || runs[0].NewFrom == "" {
		t.Errorf("executions %+v; want one training the current dataset %s for %s, with its new rows", runs, head.ETag, id)
	}
	if job := e.Job(id); job.Status != pipeline.StatusTraining || job.Execution == "" {
		t.Errorf("job %s/%s, execution %q; want training", job.Status, job.Stage, job.Execution)
	}
}

// TestSweepWithNothingToDoWritesNothing: the published model covers the dataset and every job
// has ended; a sweep starts nothing and writes no object.
func TestSweepWithNothingToDoWritesNothing(t *testing.T) {
	e := handlertest.NewEnv(t)
	e.Put(shards.SingleKey, handlertest.Testdata(t, "small_dataset.csv"))
	starter := &handlertest.RecordingStarter{}
	event := e.Upload("uploads/next.csv", handlertest.Testdata(t, "uploads/ok_next_days.csv"))
	if err := newMergeHandler(t, e.Store, starter).Handle(context.Background(), event); err != nil {
		t.Fatal(err)
	}
	id := eventJobID(event)
	if out := handlertest.Train(t, e, id, e.Read(shards.SingleKey), e.Job(id).Merge.Written); out.Status != pipeline.StatusSucceeded {
		t.Fatalf("training ended %s", out.Status)
	}
	snapshot := func() map[string]string {
		objects, err := e.Store.List(context.Background(), "")
		if err != nil {
			t.Fatal(err)
		}
		etags := map[string]string{}
		for _, o := range objects {
			etags[o.Key] = o.ETag
		}
		return etags
	}
	before := snapshot()

	sweep(t, newMergeHandler(t, e.Store, starter))
	if runs := starter.Executions(); len(runs) != 1 {
		t.Errorf("%d executions, want the upload's only", len(runs))
	}
	after := snapshot()
	for key, etag := range after {
		if before[key] != etag {
			t.Errorf("the sweep wrote %s", key)
		}
	}
	if len(after) != len(before) {
		t.Errorf("the sweep changed the bucket's keys: %d before, %d after", len(before), len(after))
	}
	if job := e.Job(id); job.Status != pipeline.StatusSucceeded {
		t.Errorf("job %s, want succeeded", job.Status)
	}
}

// TestFailedTrainingIsRetriedByARefusedUploadNotByTheSweep: the current dataset's training
// failed. The sweep does not train it again (it would fail again at every sweep); a refused
// upload checks the dataset as every upload does, and trains it again.
func TestFailedTrainingIsRetriedByARefusedUploadNotByTheSweep(t *testing.T) {
	e := handlertest.NewEnv(t)
	e.Put(shards.SingleKey, handlertest.Testdata(t, "small_dataset.csv"))
	starter := &handlertest.RecordingStarter{}
	h := newMergeHandler(t, e.Store, starter)
	h.Fault = crashAt(merge.AfterJobUpdate)
	event := e.Upload("uploads/next.csv", handlertest.Testdata(t, "uploads/ok_next_days.csv"))
	if err := h.Handle(context.Background(), event); err == nil {
		t.Fatal("the merge did not stop after the job update")
	}
	id := eventJobID(event)
	if _, err := pipeline.NewJobs(e.Store).Update(context.Background(), id, func(job *pipeline.Job) error {
		job.Status, job.Error = pipeline.StatusFailed, "FineTuneFailed: out of memory" // as publish records a failed run
		job.Publish = &pipeline.Publish{Status: pipeline.StatusFailed}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	sweep(t, newMergeHandler(t, e.Store, starter))
	if runs := starter.Executions(); len(runs) != 0 {
		t.Errorf("the sweep trained a dataset whose training failed: %+v", runs)
	}
	if job := e.Job(id); job.Status != pipeline.StatusFailed {
		t.Errorf("job %s after the sweep, want failed", job.Status)
	}

	refused := e.Upload("uploads/bad.csv", handlertest.Testdata(t, "uploads/bad_sales.csv"))
	if err := newMergeHandler(t, e.Store, starter).Handle(context.Background(), refused); err != nil {
		t.Fatal(err)
	}
	if job := e.Job(eventJobID(refused)); job.Status != pipeline.StatusRejected {
		t.Errorf("the bad upload's job is %s, want rejected", job.Status)
	}
	if runs := starter.Executions(); len(runs) != 1 || runs[0].JobID != id {
		t.Errorf("executions %+v after a refused upload; want one training the dataset for %s", runs, id)
	}
	if job := e.Job(id); job.Status != pipeline.StatusTraining {
		t.Errorf("job %s after the refused upload, want training", job.Status)
	}
}
