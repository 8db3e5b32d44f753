package finetune_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stockcast/stockcast/shared/handlers/handlertest"

	"github.com/stockcast/stockcast/shared/lstm"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/series"
	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/store"
	"github.com/stockcast/stockcast/shared/training"
)

func checkpointOf(t *testing.T, e *handlertest.Env) *lstm.Model {
	t.Helper()
	body, _, err := e.Store.Get(context.Background(), pipeline.CheckpointKey, store.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	model, err := lstm.Read(body)
	if err != nil {
		t.Fatalf("the stored checkpoint does not load: %v", err)
	}
	return model
}

func TestFineTuneTrainsFromScratchThenContinues(t *testing.T) {
	e := handlertest.NewEnv(t)
	ctx := context.Background()
	dataset := e.Put(shards.SingleKey, handlertest.Testdata(t, "small_dataset.csv"))
	h := handlertest.SmallFineTune(t, e.Store)

	first, err := h.Handle(ctx, handlertest.TaskInput("job-1", dataset.ETag))
	if err != nil {
		t.Fatal(err)
	}
	head, _ := e.Store.Head(ctx, pipeline.CheckpointKey)
	if first.Mode != training.Full || first.Epochs == 0 || first.Windows == 0 || !store.SameETag(first.CheckpointETag, head.ETag) {
		t.Errorf("first run %+v (checkpoint %s)", first, head.ETag)
	}
	trained := checkpointOf(t, e)
	if got := trained.LastDate().Format(time.DateOnly); got != "2024-02-29" {
		t.Errorf("checkpoint trained through %s", got)
	}

	merged := append(handlertest.Testdata(t, "small_dataset.csv"), bytes.SplitN(handlertest.Testdata(t, "uploads/ok_next_days.csv"), []byte("\n"), 2)[1]...)
	dataset = e.Put(shards.SingleKey, merged)
	in := handlertest.TaskInput("job-2", dataset.ETag)
	in.NewFrom, in.NewTo = "2024-03-01", "2024-03-02"
	second, err := h.Handle(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if second.Mode != training.FineTune || second.CheckpointETag == first.CheckpointETag {
		t.Errorf("second run %+v did not fine-tune into a new checkpoint", second)
	}
	if continued := checkpointOf(t, e); continued.Step() <= trained.Step() {
		t.Errorf("optimizer step %d after fine-tuning, was %d", continued.Step(), trained.Step())
	}
	job := e.Job("job-2")
	if job.FineTune.Status != pipeline.StatusSucceeded || job.FineTune.Mode != training.FineTune || !strings.Contains(job.FineTune.Message, "finetune") {
		t.Errorf("job finetune = %+v", job.FineTune)
	}
}

func TestFineTuneStartsOverFromABadCheckpoint(t *testing.T) {
	e := handlertest.NewEnv(t)
	dataset := e.Put(shards.SingleKey, handlertest.Testdata(t, "small_dataset.csv"))
	e.Put(pipeline.CheckpointKey, []byte("not a checkpoint at all"))
	out, err := handlertest.SmallFineTune(t, e.Store).Handle(context.Background(), handlertest.TaskInput("job", dataset.ETag))
	if err != nil {
		t.Fatal(err)
	}
	if out.Mode != training.Full {
		t.Errorf("mode %s, want full after a corrupt checkpoint", out.Mode)
	}
	checkpointOf(t, e) // replaced by a good one
}

func TestFineTuneCheckpointConflict(t *testing.T) {
	e := handlertest.NewEnv(t)
	dataset := e.Put(shards.SingleKey, handlertest.Testdata(t, "small_dataset.csv"))
	racing := &handlertest.CountingStore{Store: e.Store, BeforeWrite: map[string]func(){pipeline.CheckpointKey: func() {
		e.Put(pipeline.CheckpointKey, []byte("another run's checkpoint"))
	}}}
	_, err := handlertest.SmallFineTune(t, racing).Handle(context.Background(), handlertest.TaskInput("job", dataset.ETag))
	var conflict *pipeline.CheckpointChanged
	if !errors.As(err, &conflict) || err != error(conflict) {
		t.Fatalf("err = %v (%T), want an unwrapped *pipeline.CheckpointChanged", err, err)
	}
	if got := e.Read(pipeline.CheckpointKey); string(got) != "another run's checkpoint" {
		t.Errorf("the other run's checkpoint was overwritten")
	}
	if job := e.Job("job"); job.FineTune.Status != pipeline.StatusFailed {
		t.Errorf("job finetune status %s", job.FineTune.Status)
	}
}

func TestFineTuneStopsBeforeTheDeadlineAndSaves(t *testing.T) {
	e := handlertest.NewEnv(t)
	dataset := e.Put(shards.SingleKey, handlertest.Testdata(t, "small_dataset.csv"))
	h := handlertest.SmallFineTune(t, e.Store)
	h.Policy.FullEpochs, h.Policy.FullPatience = 1000, 1000
	// The invocation's deadline is 30 s away and 29.5 s are kept to save: training has half a
	// second, far less than 1,000 epochs.
	h.SaveMargin = 29500 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := h.Handle(ctx, handlertest.TaskInput("job", dataset.ETag))
	if err != nil {
		t.Fatal(err)
	}
	if out.Epochs >= 1000 || out.CheckpointETag == "" {
		t.Errorf("output %+v: want an early stop with a saved checkpoint", out)
	}
	if job := e.Job("job"); !strings.Contains(job.FineTune.Message, string(lstm.StopDeadline)) {
		t.Errorf("job message %q does not say it stopped for the deadline", job.FineTune.Message)
	}
	checkpointOf(t, e)
}

func TestFineTuneRefusesAChangedDataset(t *testing.T) {
	e := handlertest.NewEnv(t)
	old := e.Put(shards.SingleKey, handlertest.Testdata(t, "small_dataset.csv"))
	e.Put(shards.SingleKey, handlertest.Testdata(t, "new_data.csv"))
	_, err := handlertest.SmallFineTune(t, e.Store).Handle(context.Background(), handlertest.TaskInput("job", old.ETag))
	var changed *pipeline.DatasetChanged
	if !errors.As(err, &changed) || err != error(changed) {
		t.Fatalf("err = %v, want an unwrapped *pipeline.DatasetChanged", err)
	}
	if e.Exists(pipeline.CheckpointKey) {
		t.Errorf("a checkpoint was written from a stale dataset")
	}
}

// TestFineTuneReplacesAVersion1Checkpoint: a checkpoint of the one-day network (format
// version 1) is refused with the reason, and a full training replaces it.
func TestFineTuneReplacesAVersion1Checkpoint(t *testing.T) {
	e := handlertest.NewEnv(t)
	dataset := e.Put(shards.SingleKey, handlertest.Testdata(t, "small_dataset.csv"))
	h := handlertest.SmallFineTune(t, e.Store)
	if _, err := h.Handle(context.Background(), handlertest.TaskInput("job-1", dataset.ETag)); err != nil {
		t.Fatal(err)
	}
	body, _, err := e.Store.Get(context.Background(), pipeline.CheckpointKey, store.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var old bytes.Buffer
	old.ReadFrom(body)
	body.Close()
	v1 := old.Bytes()
	v1[8] = 1 // the little-endian format version after the 8-byte magic
	e.Put(pipeline.CheckpointKey, v1)
	out, err := h.Handle(context.Background(), handlertest.TaskInput("job-2", dataset.ETag))
	if err != nil {
		t.Fatal(err)
	}
	job := e.Job("job-2")
	if out.Mode != training.Full || !strings.Contains(job.FineTune.Message, "format version 1") {
		t.Errorf("mode %s, job message %q: want a full training saying why", out.Mode, job.FineTune.Message)
	}
	if m := checkpointOf(t, e); len(m.Runs()) != 2 || m.Runs()[0].Mode != training.Full || m.Runs()[0].Until.After(m.Runs()[1].Since) {
		t.Errorf("new checkpoint's runs %+v", m.Runs())
	}
}

// TestFineTuneWithCovariates trains with the dataset's known covariates (its price and
// discount columns) and records them in the checkpoint's architecture.
func TestFineTuneWithCovariates(t *testing.T) {
	e := handlertest.NewEnv(t)
	dataset := e.Put(shards.SingleKey, handlertest.Testdata(t, "small_dataset.csv"))
	h := handlertest.SmallFineTune(t, e.Store)
	h.Covariates = true
	if _, err := h.Handle(context.Background(), handlertest.TaskInput("job", dataset.ETag)); err != nil {
		t.Fatal(err)
	}
	if got := checkpointOf(t, e).Config().Covariates; strings.Join(got, ",") != "price,discount" {
		t.Errorf("covariates %q, want price and discount", got)
	}
}

// TestFineTuneOfANewProductWithAFewDays fine-tunes after an upload of only a new product, launched
// two months after the dataset's last day and sold on two days: no window has one of its days as
// an observed target before the validation days. The fine-tune succeeds without changing the
// weights, says so in the job record, and saves a checkpoint that knows the new product.
func TestFineTuneOfANewProductWithAFewDays(t *testing.T) {
	e := handlertest.NewEnv(t)
	ctx := context.Background()
	base := handlertest.Testdata(t, "small_dataset.csv")
	dataset := e.Put(shards.SingleKey, base)
	h := handlertest.SmallFineTune(t, e.Store)
	first, err := h.Handle(ctx, handlertest.TaskInput("job-1", dataset.ETag))
	if err != nil {
		t.Fatal(err)
	}
	trained := checkpointOf(t, e)

	dataset = e.Put(shards.SingleKey, append(append([]byte(nil), base...),
		"2024-05-01,NEWP,7,Toys,North,9.99,0\n2024-05-12,NEWP,9,Toys,North,9.99,0\n"...))
	in := handlertest.TaskInput("job-2", dataset.ETag)
	in.NewFrom, in.NewTo = "2024-05-01", "2024-05-12"
	out, err := h.Handle(ctx, in)
	if err != nil {
		t.Fatalf("fine-tune of a new product with two days: %v", err)
	}
	if out.Mode != training.FineTune || out.Epochs != 0 || out.Windows != 0 || out.CheckpointETag == first.CheckpointETag {
		t.Errorf("output %+v: want a fine-tune of no epoch that saved a new checkpoint", out)
	}
	job := e.Job("job-2")
	if job.FineTune.Status != pipeline.StatusSucceeded || !strings.Contains(job.FineTune.Message, string(lstm.StopNoNewWindow)) {
		t.Errorf("job finetune = %+v, want succeeded with no new window", job.FineTune)
	}
	saved := checkpointOf(t, e)
	if _, ok := saved.Scale(series.ProductKey("NEWP")); !ok {
		t.Errorf("the checkpoint has no scale for the new product: %v", saved.SeriesIDs())
	}
	if saved.Step() != trained.Step() || saved.LastDate().Format(time.DateOnly) != "2024-05-12" {
		t.Errorf("checkpoint at step %d through %s, want step %d (unchanged weights) through 2024-05-12",
			saved.Step(), saved.LastDate().Format(time.DateOnly), trained.Step())
	}
}
