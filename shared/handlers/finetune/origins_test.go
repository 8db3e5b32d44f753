package finetune_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stockcast/stockcast/shared/handlers/handlertest"
	"github.com/stockcast/stockcast/shared/lstm"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/store"
	"github.com/stockcast/stockcast/shared/training"
)

func modelAt(t *testing.T, e *handlertest.Env, key string) *lstm.Model {
	t.Helper()
	m, err := lstm.Read(bytes.NewReader(e.Read(key)))
	if err != nil {
		t.Fatalf("%s does not load: %v", key, err)
	}
	return m
}

func day(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

// checkOrigins checks that the output lists the refit's three origins before last, each stored
// as a model trained through exactly its origin and no later.
func checkOrigins(t *testing.T, e *handlertest.Env, out pipeline.FineTuneOutput, last time.Time) []*lstm.Model {
	t.Helper()
	if len(out.Origins) != 3 {
		t.Fatalf("origins %+v, want 3", out.Origins)
	}
	var models []*lstm.Model
	for k, o := range out.Origins {
		want := last.AddDate(0, 0, -28*(3-k))
		m := modelAt(t, e, o.Key)
		head, _ := e.Store.Head(context.Background(), o.Key)
		if o.Key != pipeline.OriginKey(k) || o.Through != want.Format(time.DateOnly) || !store.SameETag(o.ETag, head.ETag) {
			t.Errorf("origin %d: %+v (stored ETag %s), want %s through %s", k, o, head.ETag, pipeline.OriginKey(k), want.Format(time.DateOnly))
		}
		if !m.LastDate().Equal(want) {
			t.Errorf("origin %d trained through %s, its origin is %s", k, m.LastDate().Format(time.DateOnly), o.Through)
		}
		for _, r := range m.Runs() {
			if r.Until.After(want) {
				t.Errorf("origin %d: a run trained on days up to %s, after its origin %s", k, r.Until.Format(time.DateOnly), o.Through)
			}
		}
		models = append(models, m)
	}
	return models
}

// TestFineTuneKeepsTheBacktestOriginModels: with no checkpoint, the chain trains in full through
// the first origin of the refit's backtest and fine-tunes through each later one and the last
// day; after an upload each origin model is fine-tuned up to its new origin, and one that is
// missing or trained past its origin is rebuilt from the previous origin's.
func TestFineTuneKeepsTheBacktestOriginModels(t *testing.T) {
	e := handlertest.NewEnv(t)
	ctx := context.Background()
	sample := handlertest.Testdata(t, "sample_dataset.csv")
	dataset := e.Put(shards.SingleKey, sample)
	h := handlertest.SmallFineTune(t, e.Store)

	first, err := h.Handle(ctx, handlertest.TaskInput("job-1", dataset.ETag))
	if err != nil {
		t.Fatal(err)
	}
	last := day("2024-04-09")
	origins := checkOrigins(t, e, first, last)
	modes := []training.Mode{first.Origins[0].Mode, first.Origins[1].Mode, first.Origins[2].Mode}
	if modes[0] != training.Full || modes[1] != training.FineTune || modes[2] != training.FineTune || first.Mode != training.Full {
		t.Errorf("modes: origins %v, served %s; want full, then fine-tunes, and a full rebuild", modes, first.Mode)
	}
	served := checkpointOf(t, e)
	if !served.LastDate().Equal(last) || len(served.Runs()) != 4 || served.Runs()[0].Mode != training.Full {
		t.Errorf("served model through %s with runs %+v: want the chain's four runs through %s", served.LastDate().Format(time.DateOnly), served.Runs(), last.Format(time.DateOnly))
	}

	// An upload of three days moves every origin three days on.
	merged := append(append([]byte(nil), sample...), bytes.SplitN(handlertest.Testdata(t, "new_data.csv"), []byte("\n"), 2)[1]...)
	dataset = e.Put(shards.SingleKey, merged)
	in := handlertest.TaskInput("job-2", dataset.ETag)
	in.NewFrom, in.NewTo = "2024-04-10", "2024-04-12"
	second, err := h.Handle(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	last = day("2024-04-12")
	advanced := checkOrigins(t, e, second, last)
	for k, m := range advanced {
		if second.Origins[k].Mode != training.FineTune || m.Step() <= origins[k].Step() || second.Origins[k].Windows == 0 {
			t.Errorf("origin %d: %+v, step %d (was %d): want it fine-tuned from the stored model", k, second.Origins[k], m.Step(), origins[k].Step())
		}
	}
	if second.Mode != training.FineTune || !checkpointOf(t, e).LastDate().Equal(last) {
		t.Errorf("served: %+v", second)
	}

	// Origin 1 replaced by a model trained past it, origin 2 lost: both rebuilt by the chain.
	e.Put(pipeline.OriginKey(1), e.Read(pipeline.CheckpointKey))
	if err := e.Store.Delete(ctx, pipeline.OriginKey(2)); err != nil {
		t.Fatal(err)
	}
	in.JobID = "job-3"
	third, err := h.Handle(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	rebuilt := checkOrigins(t, e, third, last)
	if third.Origins[0].Windows != 0 || rebuilt[0].Step() != advanced[0].Step() {
		t.Errorf("origin 0 had nothing new but was trained: %+v", third.Origins[0])
	}
	for k := 1; k < 3; k++ {
		if rebuilt[k].Step() <= rebuilt[k-1].Step() || third.Origins[k].Mode != training.FineTune {
			t.Errorf("origin %d: %+v, step %d: want it fine-tuned from origin %d's (step %d)", k, third.Origins[k], rebuilt[k].Step(), k-1, rebuilt[k-1].Step())
		}
	}
}

// progressStore keeps every fine-tune status written to a job record.
type progressStore struct {
	store.Store
	mu      sync.Mutex
	records []pipeline.FineTune
}

func (p *progressStore) Put(ctx context.Context, key string, body io.Reader, opts store.PutOptions) (store.Object, error) {
	data, err := io.ReadAll(body)
	if err != nil {
		return store.Object{}, err
	}
	if strings.HasPrefix(key, pipeline.JobsPrefix) {
		var job pipeline.Job
		if err := json.Unmarshal(data, &job); err == nil && job.FineTune != nil {
			p.mu.Lock()
			p.records = append(p.records, *job.FineTune)
			p.mu.Unlock()
		}
	}
	return p.Store.Put(ctx, key, bytes.NewReader(data), opts)
}

// trainingProgress is the names of the models whose epochs the records report, in order.
func (p *progressStore) trainingProgress() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var names []string
	for _, r := range p.records {
		if r.Status == pipeline.StatusRunning && r.Epochs > 0 {
			name, _, _ := strings.Cut(r.Message, " epoch ")
			names = append(names, name)
		}
	}
	p.records = nil
	return names
}

// TestFineTuneTrainsTheModelsAtOnce: after an upload the served model and the three origin models
// train at once; each comes out byte for byte as it does one at a time, the output lists the
// origins in order, and the job record follows the served model's epochs only. The rebuild's
// chain records each model's progress in turn.
func TestFineTuneTrainsTheModelsAtOnce(t *testing.T) {
	e := handlertest.NewEnv(t)
	ctx := context.Background()
	sample := handlertest.Testdata(t, "sample_dataset.csv")
	dataset := e.Put(shards.SingleKey, sample)
	recorder := &progressStore{Store: e.Store}
	h := handlertest.SmallFineTune(t, recorder)
	if _, err := h.Handle(ctx, handlertest.TaskInput("job-0", dataset.ETag)); err != nil {
		t.Fatal(err)
	}
	chain := recorder.trainingProgress()
	if i := slices.Index(chain, "LSTM"); len(chain) < 4 || !strings.HasPrefix(chain[0], "LSTM of backtest origin 1/3") || i < 3 || !slices.IsSorted(chain[:i]) || slices.ContainsFunc(chain[i:], func(n string) bool { return n != "LSTM" }) {
		t.Errorf("the rebuild recorded the progress of %q: want each origin's in turn, then the served model's", chain)
	}
	keys := []string{pipeline.CheckpointKey, pipeline.OriginKey(0), pipeline.OriginKey(1), pipeline.OriginKey(2)}
	before := map[string][]byte{}
	for _, key := range keys {
		before[key] = e.Read(key)
	}
	merged := append(append([]byte(nil), sample...), bytes.SplitN(handlertest.Testdata(t, "new_data.csv"), []byte("\n"), 2)[1]...)
	dataset = e.Put(shards.SingleKey, merged)

	var outs []pipeline.FineTuneOutput
	var models []map[string][]byte
	for _, workers := range []int{1, 4} {
		for _, key := range keys {
			e.Put(key, before[key])
		}
		h.Workers = workers
		in := handlertest.TaskInput(fmt.Sprintf("job-%d", workers), dataset.ETag)
		in.NewFrom, in.NewTo = "2024-04-10", "2024-04-12"
		out, err := h.Handle(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		checkOrigins(t, e, out, day("2024-04-12"))
		if names := recorder.trainingProgress(); len(names) == 0 || slices.ContainsFunc(names, func(n string) bool { return n != "LSTM" }) {
			t.Errorf("%d workers: the job recorded the progress of %q, want the served model's only", workers, names)
		}
		if job := e.Job(in.JobID).FineTune; job.Status != pipeline.StatusSucceeded || job.Epoch != out.Epochs || job.Epochs == 0 {
			t.Errorf("%d workers: job record %+v for a served model trained %d epochs", workers, job, out.Epochs)
		}
		trained := map[string][]byte{}
		for _, key := range keys {
			trained[key] = e.Read(key)
		}
		outs, models = append(outs, out), append(models, trained)
	}
	for _, key := range keys {
		if !bytes.Equal(models[0][key], models[1][key]) {
			t.Errorf("%s differs when the models train at once", key)
		}
	}
	for k := range outs[0].Origins {
		a, b := outs[0].Origins[k], outs[1].Origins[k]
		a.ETag, a.VersionID, a.TrainMS, b.ETag, b.VersionID, b.TrainMS = "", "", 0, "", "", 0
		if a != b {
			t.Errorf("origin %d: %+v one at a time, %+v at once", k, a, b)
		}
	}
}
