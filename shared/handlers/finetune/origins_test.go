package finetune_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stockcast/stockcast/shared/handlers/handlertest"
	"github.com/stockcast/stockcast/shared/lstm"
	"github.com/stockcast/stockcast/shared/pipeline"
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
	dataset := e.Put(pipeline.DatasetKey, sample)
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
	dataset = e.Put(pipeline.DatasetKey, merged)
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
