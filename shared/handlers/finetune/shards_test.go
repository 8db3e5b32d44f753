package finetune_test

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stockcast/stockcast/shared/datagen"
	"github.com/stockcast/stockcast/shared/handlers/handlertest"
	"github.com/stockcast/stockcast/shared/lstm"
	"github.com/stockcast/stockcast/shared/lstminput"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/series"
	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/store"
	"github.com/stockcast/stockcast/shared/training"
)

// upload splits a generated dataset into the rows before its last days and the whole dataset
// with those last days' rows for the products of shard k of count only: an upload touching one
// shard. It returns both CSVs and the upload's first and last days.
func upload(t testing.TB, data []byte, days, k, count int) (before, after []byte, from, to string) {
	t.Helper()
	header, rows, _ := bytes.Cut(data, []byte("\n"))
	trimmed := bytes.TrimRight(rows, "\n")
	last, err := time.Parse(time.DateOnly, string(trimmed[bytes.LastIndexByte(trimmed, '\n')+1:][:10]))
	if err != nil {
		t.Fatal(err)
	}
	first := last.AddDate(0, 0, 1-days).Format(time.DateOnly)
	before = append(append([]byte(nil), header...), '\n')
	after = slices.Clone(before)
	for line := range bytes.Lines(rows) {
		date, product := string(line[:10]), strings.Split(string(line), ",")[1]
		switch {
		case date < first:
			before = append(before, line...)
			after = append(after, line...)
		case shards.Of(product, count) == k:
			after = append(after, line...)
		}
	}
	return before, after, first, last.Format(time.DateOnly)
}

// models reads the served model and the origins' models of out.
func models(t testing.TB, s store.Store, out pipeline.FineTuneOutput) map[string][]byte {
	t.Helper()
	got := map[string][]byte{}
	for _, o := range append(out.Origins, pipeline.Origin{Key: pipeline.CheckpointKey}) {
		body, _, err := store.ReadAll(context.Background(), s, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		got[o.Key] = body
	}
	return got
}

// TestFineTuneOfAShardedDataset: after an upload touching shard 1 of 4, the fine-tune trains on
// shard 1's product series plus a replay sample of the other shards, capped by the schedule,
// and reads no other shard; a retry of the same task reads and trains on exactly the same.
func TestFineTuneOfAShardedDataset(t *testing.T) {
	ctx := context.Background()
	const count, touched = 4, 1
	data := handlertest.Generated(t, datagen.Config{Products: 24, Days: 200, Seed: 3})
	base, merged, from, to := upload(t, data, 3, touched, count)
	mem := store.NewMemory(handlertest.Bucket)
	gets := &getLog{Store: mem}
	h := handlertest.SmallFineTune(t, gets)
	h.Policy.MaxReplay = 500 // the replay sample: less than one shard's series
	w := newSharded(t, mem)

	// From scratch: every shard is new, all of them fit in the window cap.
	first, err := h.Handle(ctx, w.write(base, count, "job-1", nil))
	if err != nil {
		t.Fatal(err)
	}
	if r := first.Read; r == nil || r.Shards != count || len(r.Read) != count || len(r.Replay) != 0 || r.Series != 24 || len(first.Origins) != 3 {
		t.Fatalf("first run read %+v with %d origins: want all 24 products of the 4 shards and 3 origins", r, len(first.Origins))
	}
	served := checkpointOf2(t, mem)
	if ids := served.SeriesIDs(); len(ids) != 24 || slices.ContainsFunc(ids, func(id string) bool { return !strings.HasPrefix(id, "product/") }) {
		t.Errorf("the model knows %q: want the 24 product series only, no shard's partial group series", ids)
	}
	before := models(t, mem, first)

	in := w.write(merged, count, "job-2", []int{touched})
	in.NewFrom, in.NewTo = from, to
	x, err := pipeline.DatasetIndex(ctx, mem, in)
	if err != nil {
		t.Fatal(err)
	}
	gets.reset()
	requests := mem.Requests("get")
	second, err := h.Handle(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	keys := gets.reset()
	if got := mem.Requests("get") - requests; got != len(keys) {
		t.Fatalf("the store served %d gets, the log saw %d", got, len(keys))
	}
	r := second.Read
	if r == nil || len(r.Read) != 2 || r.Read[0] != touched || !slices.Equal(r.Replay, r.Read[1:]) || r.Replay[0] == touched {
		t.Fatalf("second run read %+v: want shard %d, then one replay shard", r, touched)
	}
	if got := shardsRead(keys, count); !slices.Equal(got, r.Read) {
		t.Errorf("parts of shards %v were read, the output says %v", got, r.Read)
	}
	parts := 0
	for _, key := range keys {
		if strings.HasPrefix(key, shards.Prefix) {
			parts++
		}
	}
	if want := len(x[touched].Parts) + len(x[r.Replay[0]].Parts); parts != want {
		t.Errorf("%d part reads, want each of the %d parts of the two shards once", parts, want)
	}
	if fresh := r.Series - r.ReplaySeries; fresh != x[touched].Products || r.ReplaySeries == 0 || r.ReplayWindows > h.Policy.MaxReplay || r.ReplaySeries >= x[r.Replay[0]].Products {
		t.Errorf("read %+v: want shard %d's %d products and a sample of at most %d windows of the replay shard's %d", r, touched, x[touched].Products, h.Policy.MaxReplay, x[r.Replay[0]].Products)
	}
	if second.Mode != training.FineTune || second.Windows == 0 || len(second.Origins) != 3 {
		t.Errorf("second run %+v: want a fine-tune of the served and 3 origin models", second)
	}
	if got := checkpointOf2(t, mem).LastDate().Format(time.DateOnly); got != to {
		t.Errorf("the model is trained through %s, the upload through %s", got, to)
	}
	for k, o := range second.Origins {
		if o.Mode != training.FineTune || o.Windows == 0 {
			t.Errorf("origin %d: %+v, want fine-tuned on new windows", k, o)
		}
	}
	trained := models(t, mem, second)

	// A retry of the same task, from the same models, picks the same sample.
	for key, body := range before {
		if _, err := mem.Put(ctx, key, bytes.NewReader(body), store.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	retry, err := h.Handle(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(retry.Read, second.Read) {
		t.Errorf("the retry read %+v, the first try %+v", retry.Read, second.Read)
	}
	if got := shardsRead(gets.reset(), count); !slices.Equal(got, r.Read) {
		t.Errorf("the retry read the parts of shards %v, want %v", got, r.Read)
	}
	for key, body := range models(t, mem, retry) {
		if !bytes.Equal(body, trained[key]) {
			t.Errorf("%s differs on the retry", key)
		}
	}

	// Not knowing what the upload touched, it reads every shard (the new series fit in the cap)
	// and replays series of them without a new day.
	for key, body := range before {
		if _, err := mem.Put(ctx, key, bytes.NewReader(body), store.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	in.Touched = nil
	all, err := h.Handle(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if r := all.Read; len(r.Read) != count || len(r.Replay) != 0 || r.Series-r.ReplaySeries != x[touched].Products || r.ReplaySeries == 0 || r.ReplayWindows > h.Policy.MaxReplay {
		t.Errorf("with no shard named read %+v: want every shard, shard %d's %d new series and a replay sample of at most %d windows", r, touched, x[touched].Products, h.Policy.MaxReplay)
	}
}

// TestFineTuneOfAShardedDatasetWithinTheWindowCap: the windows kept stay within the schedule's
// caps whatever the dataset's size, and a shard is read only while the cap has room.
func TestFineTuneOfAShardedDatasetWithinTheWindowCap(t *testing.T) {
	ctx := context.Background()
	data := handlertest.Generated(t, datagen.Config{Products: 24, Days: 200, Seed: 3})
	mem := store.NewMemory(handlertest.Bucket)
	h := handlertest.SmallFineTune(t, mem)
	h.Policy.MaxWindows = 1000 // five of the 200-day series
	out, err := h.Handle(ctx, newSharded(t, mem).write(data, 4, "job", nil))
	if err != nil {
		t.Fatal(err)
	}
	if r := out.Read; r.Windows > 1000 || r.Series != 5 || len(r.Read) > 2 || out.Mode != training.Full {
		t.Errorf("read %+v in mode %s: want 5 series of at most 1000 windows from at most 2 shards, trained in full", r, out.Mode)
	}
	in := newSharded(t, mem).write(data, 4, "job-2", []int{4})
	if _, err := h.Handle(ctx, in); err == nil || !strings.Contains(err.Error(), "touched shard 4 of 4") {
		t.Errorf("a task touching shard 4 of 4: %v", err)
	}
}

// TestFineTuneOfOneShardTrainsAsBefore: a dataset of one shard, named by the index, trains
// exactly as the single file did before sharding: the same checkpoints, byte for byte, as a task
// naming the file, and as the whole table's standard series trained directly.
func TestFineTuneOfOneShardTrainsAsBefore(t *testing.T) {
	ctx := context.Background()
	sample := handlertest.Testdata(t, "sample_dataset.csv")
	merged := append(slices.Clone(sample), bytes.SplitN(handlertest.Testdata(t, "new_data.csv"), []byte("\n"), 2)[1]...)
	run := func(indexed bool) []map[string][]byte {
		e := handlertest.NewEnv(t)
		h := handlertest.SmallFineTune(t, e.Store)
		w := newSharded(t, e.Store)
		var runs []map[string][]byte
		for i, data := range [][]byte{sample, merged} {
			job := fmt.Sprintf("job-%d", i)
			var in pipeline.TaskInput
			if indexed {
				in = w.write(data, 1, job, []int{0})
			} else {
				in = handlertest.TaskInput(job, e.Put(shards.SingleKey, data).ETag)
			}
			if i == 1 {
				in.NewFrom, in.NewTo = "2024-04-10", "2024-04-12"
			}
			out, err := h.Handle(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if r := out.Read; r == nil || r.Shards != 1 || !slices.Equal(r.Read, []int{0}) || r.Replay != nil || len(out.Origins) != 3 {
				t.Fatalf("read %+v with %d origins: want the one shard read whole", r, len(out.Origins))
			}
			runs = append(runs, models(t, e.Store, out))
		}
		return runs
	}
	file, index := run(false), run(true)
	for i := range file {
		for key, body := range file[i] {
			if !bytes.Equal(body, index[i][key]) {
				t.Errorf("run %d: %s differs when the dataset is named by its index", i, key)
			}
		}
	}

	// As before sharding: the whole table's standard series, group series included, trained
	// directly by the chain of a rebuild — small_dataset.csv has one backtest origin: its model
	// in full through it, the served model fine-tuned on from it through the last day.
	e := handlertest.NewEnv(t)
	h := handlertest.SmallFineTune(t, e.Store)
	small := handlertest.Testdata(t, "small_dataset.csv")
	out, err := h.Handle(ctx, newSharded(t, e.Store).write(small, 1, "job", nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Origins) != 1 {
		t.Fatalf("%d origins, want 1", len(out.Origins))
	}
	table, err := series.Load(ctx, bytes.NewReader(small))
	if err != nil {
		t.Fatal(err)
	}
	data, err := lstminput.Standard(table, nil)
	if err != nil {
		t.Fatal(err)
	}
	origin, err := lstm.New(h.Config)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := origin.Train(ctx, lstm.Through(data, day(out.Origins[0].Through)), lstm.TrainOptions{Mode: training.Full, Policy: h.Policy}); err != nil {
		t.Fatal(err)
	}
	served := origin.Clone()
	if _, err := served.Train(ctx, data, lstm.TrainOptions{Mode: training.FineTune, Policy: h.Policy}); err != nil {
		t.Fatal(err)
	}
	for key, m := range map[string]*lstm.Model{pipeline.OriginKey(0): origin, pipeline.CheckpointKey: served} {
		var want bytes.Buffer
		if _, err := m.WriteTo(&want); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(e.Read(key), want.Bytes()) {
			t.Errorf("%s differs from the model trained directly on the %d standard series", key, len(data))
		}
	}
	if out.Read.Series != len(data) {
		t.Errorf("read %+v, want the %d standard series", out.Read, len(data))
	}
}

func checkpointOf2(t testing.TB, s store.Store) *lstm.Model {
	t.Helper()
	body, _, err := store.ReadAll(context.Background(), s, pipeline.CheckpointKey)
	if err != nil {
		t.Fatal(err)
	}
	m, err := lstm.Read(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return m
}
