package refit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stockcast/stockcast/shared/backtest"
	"github.com/stockcast/stockcast/shared/grouped"
	"github.com/stockcast/stockcast/shared/handlers/handlertest"
	"github.com/stockcast/stockcast/shared/handlers/refit"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/series"
	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/store"
	"github.com/stockcast/stockcast/shared/trend"
)

// smallData is small_dataset.csv (5 products, 60 days) with a product of one day of history,
// which is served its mean, not a fitted model.
func smallData(t *testing.T) []byte {
	return append(handlertest.Testdata(t, "small_dataset.csv"), []byte("2024-02-29,LONELY,5,Home,East,1.0,0\n")...)
}

func shardTask(in pipeline.TaskInput, sh shards.Shard) pipeline.ShardTask {
	var task pipeline.ShardTask
	task.Input.TaskInput, task.Shard = in, sh
	return task
}

func readJSON(t *testing.T, e *handlertest.Env, key string, v any) {
	t.Helper()
	if err := json.Unmarshal(e.Read(key), v); err != nil {
		t.Fatalf("decode %s: %v", key, err)
	}
}

// TestRefitFitsEachShardsProductsAndTheGroupsFromTheirPartials: the refit of each shard fits and
// backtests that shard's products only; the group step adds up the shards' partials into exactly
// the group series of the whole dataset and fits and backtests those; the summary covers all.
func TestRefitFitsEachShardsProductsAndTheGroupsFromTheirPartials(t *testing.T) {
	e := handlertest.NewEnv(t)
	data := smallData(t)
	obj, index := e.PutShards(data, 4)
	in := handlertest.ShardedTaskInput("job-1", obj)
	h := refit.New(e.Store, handlertest.Logger(t))
	out := handlertest.Refit(t, h, in, pipeline.FineTuneOutput{})

	whole, err := series.Load(context.Background(), bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Shards) != 4 {
		t.Fatalf("%d shard results", len(out.Shards))
	}
	products := 0
	for k, sh := range out.Shards {
		var set trend.Set
		readJSON(t, e, sh.Trend.Key, &set)
		var want []string
		for _, p := range whole.Products() {
			if shards.Of(p, 4) == k {
				want = append(want, series.ProductKey(p))
			}
		}
		got := make([]string, 0, len(set.Models))
		for key := range set.Models {
			got = append(got, key)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) || sh.Series != len(want) || sh.Trend.Key != pipeline.ShardTrendKey("job-1", k) || sh.Rows != index[k].Rows {
			t.Errorf("shard %d: models of %v (series %d, rows %d, key %s), want the shard's products %v", k, got, sh.Series, sh.Rows, sh.Trend.Key, want)
		}
		products += len(want)
		if len(want) > 0 {
			var sel backtest.Set
			readJSON(t, e, sh.Selection.Key, &sel)
			if sel.Format != backtest.SetFormat || len(sel.Selections)+len(sel.Unselected) != len(want) {
				t.Errorf("shard %d: selections %d + unselected %d for %d products", k, len(sel.Selections), len(sel.Unselected), len(want))
			}
		}
	}
	if set := readTrends(t, e, out.Shards[shards.Of("LONELY", 4)].Trend.Key); set.Models[series.ProductKey("LONELY")].FitInfo().Method != trend.MethodMean {
		t.Error("the one-day product is not served its mean")
	}

	var groups grouped.Set
	readJSON(t, e, out.Groups.Key, &groups)
	var want []series.Series
	for _, s := range whole.Standard() {
		if !strings.HasPrefix(s.Key, "product/") {
			want = append(want, s)
		}
	}
	if groups.Format != grouped.Format || out.Groups.Key != pipeline.GroupsKey("job-1") || !reflect.DeepEqual(groups.Series, want) {
		t.Errorf("groups %s (%s): %d series, want the whole dataset's %d group series", out.Groups.Key, groups.Format, len(groups.Series), len(want))
	}
	for _, s := range want {
		if groups.Trends.Models[s.Key] == nil || groups.Selections.Selections[s.Key] == nil {
			t.Errorf("group %s has no trend model or no selection", s.Key)
		}
	}
	if out.Series != products+len(want) || out.Rows != 241 || out.FirstDate != "2024-01-01" || out.LastDate != "2024-02-29" || len(out.Failed) != 0 {
		t.Errorf("summary: %d series (want %d), %d rows %s..%s, failed %v", out.Series, products+len(want), out.Rows, out.FirstDate, out.LastDate, out.Failed)
	}
	if b := out.Backtest; b == nil || b.Selected != out.Series-1 || b.Unselected != 1 || !(b.MASE > 0) || b.Coverage == nil {
		t.Errorf("pooled backtest %+v: want every series but the one-day product selected", b)
	}
	if job := e.Job("job-1"); job.Refit == nil || job.Refit.Status != pipeline.StatusSucceeded || job.Refit.Series != out.Series {
		t.Errorf("job refit = %+v", job.Refit)
	}
}

func readTrends(t *testing.T, e *handlertest.Env, key string) trend.Set {
	t.Helper()
	var set trend.Set
	readJSON(t, e, key, &set)
	return set
}

// TestGroupsComputeAFailedShardsPartialsFromItsData: a shard whose Map item failed (its element
// is the error object) has its partials computed from its data; the groups are the same, and the
// shard is reported without artifacts.
func TestGroupsComputeAFailedShardsPartialsFromItsData(t *testing.T) {
	e, in, index, h := unselectedRefit(t, "job-f", 2)
	full := handlertest.Refit(t, h, in, pipeline.FineTuneOutput{})

	var task refit.GroupsTask
	task.Input.TaskInput = in
	ok, err := h.HandleShard(context.Background(), shardTask(in, index[0]))
	if err != nil {
		t.Fatal(err)
	}
	first, _ := json.Marshal(ok)
	task.Input.Results.Shards = []json.RawMessage{first, json.RawMessage(`{"Error":"States.TaskFailed","Cause":"the shard's refit timed out"}`)}
	out, err := h.HandleGroups(context.Background(), task)
	if err != nil {
		t.Fatal(err)
	}
	if out.Shards[1].Trend.Key != "" || out.Shards[1].Shard != 1 || out.Shards[1].Of != 2 || out.Shards[1].Rows != index[1].Rows || out.Shards[0].Trend.Key == "" {
		t.Errorf("shard results %+v", out.Shards)
	}
	var got, want grouped.Set
	readJSON(t, e, out.Groups.Key, &got)
	readJSON(t, e, full.Groups.Key, &want)
	if !reflect.DeepEqual(got.Series, want.Series) || out.Rows != full.Rows || out.Series != full.Series-full.Shards[1].Series {
		t.Errorf("with shard 1 failed: %d group series, %d rows, %d series; with none: %d, %d, %d",
			len(got.Series), out.Rows, out.Series, len(want.Series), full.Rows, full.Series)
	}
	task.Input.Results.Shards = task.Input.Results.Shards[:1]
	if _, err := h.HandleGroups(context.Background(), task); err == nil {
		t.Error("groups of 1 result for 2 shards accepted")
	}
}

// TestGroupsAddUpTheShardsBoundedCounts: the group step adds up the shards' fallback counts and
// backtest choices, and its output, the job and so the manifest name at most
// pipeline.MaxListed fallbacks and choices, counting the others.
func TestGroupsAddUpTheShardsBoundedCounts(t *testing.T) {
	e, in, index, h := unselectedRefit(t, "job-b", 2)
	var task refit.GroupsTask
	task.Input.TaskInput = in
	for k, sh := range index {
		res, err := h.HandleShard(context.Background(), shardTask(in, sh))
		if err != nil {
			t.Fatal(err)
		}
		// As a shard's refit reports many fallbacks and choices: counted, a few listed.
		res.Fallbacks, res.Failed = 1000+k, []string{fmt.Sprintf("P%d-a", k), fmt.Sprintf("P%d-b", k), fmt.Sprintf("P%d-c", k)}
		res.Backtest = (&pipeline.Backtest{Selected: 100, Choices: map[string]int{"ets": 40, "theta": 30, "naive": 20, fmt.Sprintf("mean%d", k): 10}}).Bounded()
		raw, _ := json.Marshal(res)
		task.Input.Results.Shards = append(task.Input.Results.Shards, raw)
	}
	out, err := h.HandleGroups(context.Background(), task)
	if err != nil {
		t.Fatal(err)
	}
	wantChoices := map[string]int{"ets": 80, "theta": 60, "naive": 40}
	if out.Fallbacks != 2001 || !slices.Equal(out.Failed, []string{"P0-a", "P0-b", "P0-c"}) || out.Backtest == nil ||
		!maps.Equal(out.Backtest.Choices, wantChoices) || out.Backtest.OtherChoices != 20 || out.Backtest.Selected != 200 {
		t.Errorf("fallbacks %d %q, backtest %+v; want 2001, the first 3 names, choices %v and 20 others", out.Fallbacks, out.Failed, out.Backtest, wantChoices)
	}
	if job := e.Job("job-b"); job.Refit == nil || job.Refit.Fallbacks != 2001 || len(job.Refit.Failed) != pipeline.MaxListed {
		t.Errorf("job refit %+v", job.Refit)
	}
}

// TestRefitDispatchesOnTheStep: the function's input, as the state machine sends it, picks the
// step; another step is refused.
func TestRefitDispatchesOnTheStep(t *testing.T) {
	_, in, index, h := unselectedRefit(t, "job-d", 1)
	item, _ := json.Marshal(map[string]any{"step": "shard", "input": map[string]any{"results": map[string]any{"finetune": map[string]any{}}}, "shard": index[0]})
	// The Map's ItemSelector puts the state input under "input": the TaskInput fields at its top.
	item = bytes.Replace(item, []byte(`"input":{`), append([]byte(`"input":{`), taskFields(t, in)...), 1)
	res, err := h.Handle(context.Background(), item)
	if err != nil {
		t.Fatal(err)
	}
	sh, ok := res.(pipeline.ShardRefitOutput)
	if !ok || sh.Trend.Key != pipeline.ShardTrendKey("job-d", 0) {
		t.Fatalf("shard step returned %#v", res)
	}
	raw, _ := json.Marshal(sh)
	groups := []byte(`{"step":"groups","input":{` + string(taskFields(t, in)) + `"results":{"finetune":{"checkpoint_key":"models/lstm/checkpoint.bin","epochs":3},"shards":[` + string(raw) + `]}}}`)
	res, err = h.Handle(context.Background(), groups)
	// The group step hands publish the training results: its refit output beside the fine-tune's
	// output as it received it.
	if out, ok := res.(pipeline.TrainResults); err != nil || !ok || out.Refit.Groups == nil || len(out.Refit.Shards) != 1 ||
		out.FineTune.CheckpointKey != "models/lstm/checkpoint.bin" || out.FineTune.Epochs != 3 {
		t.Fatalf("groups step returned %#v, %v", res, err)
	}
	for _, bad := range []string{`{"step":"all"}`, `{}`, `not json`} {
		if _, err := h.Handle(context.Background(), json.RawMessage(bad)); err == nil {
			t.Errorf("input %s accepted", bad)
		}
	}
}

// unselectedRefit puts smallData as a dataset of count shards, and returns the test bench, the
// task input of job on it, its shards and a refit handler that fits without the backtest's
// selection.
func unselectedRefit(t *testing.T, job string, count int) (*handlertest.Env, pipeline.TaskInput, shards.Index, *refit.Handler) {
	t.Helper()
	e := handlertest.NewEnv(t)
	obj, index := e.PutShards(smallData(t), count)
	h := refit.New(e.Store, handlertest.Logger(t))
	h.Select = false
	return e, handlertest.ShardedTaskInput(job, obj), index, h
}

// taskFields are in's JSON fields followed by a comma, to open an object with.
func taskFields(t *testing.T, in pipeline.TaskInput) []byte {
	t.Helper()
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	return append(data[1:len(data)-1], ',')
}

func TestRefitRefusesAChangedShard(t *testing.T) {
	e := handlertest.NewEnv(t)
	obj, index := e.PutShards(smallData(t), 2)
	in := handlertest.ShardedTaskInput("job-2", obj)
	sh := index[0]
	sh.Parts = slices.Clone(sh.Parts)
	sh.Parts[0].VersionID = "" // read by ETag: the part rewritten since is a changed dataset
	e.Put(sh.Parts[0].Key, handlertest.Testdata(t, "small_dataset.csv"))
	_, err := refit.New(e.Store, handlertest.Logger(t)).HandleShard(context.Background(), shardTask(in, sh))
	var changed *pipeline.DatasetChanged
	if !errors.As(err, &changed) || err != error(changed) {
		t.Fatalf("err = %v (%T), want an unwrapped *pipeline.DatasetChanged", err, err)
	}
	if e.Exists(pipeline.ShardTrendKey("job-2", 0)) {
		t.Errorf("models were written for a stale shard")
	}
}

func TestRefitRefusesBadInput(t *testing.T) {
	e := handlertest.NewEnv(t)
	obj, index := e.PutShards(smallData(t), 2)
	h := refit.New(e.Store, handlertest.Logger(t))
	good := handlertest.ShardedTaskInput("job-b", obj)
	for _, in := range []pipeline.TaskInput{{}, handlertest.TaskInput("", `"x"`), {Bucket: "other", DatasetKey: "k", DatasetETag: "e", JobID: "j"}} {
		if _, err := h.HandleShard(context.Background(), shardTask(in, index[0])); err == nil {
			t.Errorf("shard input %+v accepted", in)
		}
		var groups refit.GroupsTask
		groups.Input.TaskInput = in
		if _, err := h.HandleGroups(context.Background(), groups); err == nil {
			t.Errorf("groups input %+v accepted", in)
		}
	}
	for _, sh := range []shards.Shard{{Shard: 2, Of: 2}, {Shard: -1, Of: 2}, {Shard: 0, Of: 0}} {
		if _, err := h.HandleShard(context.Background(), shardTask(good, sh)); err == nil {
			t.Errorf("shard %d of %d accepted", sh.Shard, sh.Of)
		}
	}
}

// TestRefitReadsThePinnedShardVersionWhateverMergedSince: the index entry pins each part's
// version; a part rewritten since does not change what the refit reads.
func TestRefitReadsThePinnedShardVersionWhateverMergedSince(t *testing.T) {
	e := handlertest.NewEnv(t)
	obj, index := e.PutShards(smallData(t), 1)
	e.Put(index[0].Parts[0].Key, handlertest.Testdata(t, "sample_dataset.csv"))
	out, err := refit.New(e.Store, handlertest.Logger(t)).HandleShard(context.Background(), shardTask(handlertest.ShardedTaskInput("job-3", obj), index[0]))
	if err != nil {
		t.Fatalf("refit of a pinned version after a merge: %v", err)
	}
	if out.LastDate != "2024-02-29" || out.Rows != 241 || out.Trend.VersionID == "" {
		t.Errorf("refit %+v: want the pinned dataset (241 rows to 2024-02-29) and the models' version id", out)
	}
}

// TestRefitStopsBeforeTheDeadline: with less time left than its stop margin, each step starts no
// fit and fails with the retryable *pipeline.DeadlineNear (not a Lambda timeout); the group step
// says so on the job.
func TestRefitStopsBeforeTheDeadline(t *testing.T) {
	e := handlertest.NewEnv(t)
	obj, index := e.PutShards(smallData(t), 2)
	in := handlertest.ShardedTaskInput("job-late", obj)
	h := refit.New(e.Store, handlertest.Logger(t))
	var groups refit.GroupsTask
	groups.Input.TaskInput = in
	for _, sh := range index {
		out, err := h.HandleShard(context.Background(), shardTask(in, sh))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(out)
		groups.Input.Results.Shards = append(groups.Input.Results.Shards, raw)
	}
	h.StopMargin = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := h.HandleShard(ctx, shardTask(in, index[0]))
	var late *pipeline.DeadlineNear
	if !errors.As(err, &late) || err != error(late) || late.Done != 0 || late.Of == 0 {
		t.Fatalf("shard refit with its deadline near: %v, want a DeadlineNear with nothing done", err)
	}
	_, err = h.HandleGroups(ctx, groups)
	if !errors.As(err, &late) || err != error(late) || late.Done != 0 {
		t.Fatalf("group refit with its deadline near: %v, want a DeadlineNear with nothing done", err)
	}
	if job := e.Job("job-late"); job.Refit == nil || job.Refit.Status != pipeline.StatusFailed {
		t.Errorf("job after the stop: %+v", job.Refit)
	}
}

// TestRefitStopsWhenCancelled: a cancelled shard refit returns the cancellation, not a model set.
func TestRefitStopsWhenCancelled(t *testing.T) {
	e := handlertest.NewEnv(t)
	obj, index := e.PutShards(smallData(t), 1)
	ctx, cancel := context.WithCancel(context.Background())
	h := refit.New(e.Store, handlertest.Logger(t))
	h.Store = &cancelOnRead{Store: e.Store, key: index[0].Parts[0].Key, cancel: cancel}
	if _, err := h.HandleShard(ctx, shardTask(handlertest.ShardedTaskInput("job-cancelled", obj), index[0])); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled refit: %v, want context.Canceled", err)
	}
	if e.Exists(pipeline.ShardTrendKey("job-cancelled", 0)) {
		t.Error("a cancelled refit wrote trend models")
	}
}

// cancelOnRead cancels the refit's context once the part key has been read: mid-way.
type cancelOnRead struct {
	store.Store
	key    string
	cancel context.CancelFunc
}

func (c *cancelOnRead) Get(ctx context.Context, key string, opts store.GetOptions) (io.ReadCloser, store.Object, error) {
	body, obj, err := c.Store.Get(ctx, key, opts)
	if key == c.key && err == nil {
		data, readErr := io.ReadAll(body)
		body.Close()
		c.cancel()
		return io.NopCloser(bytes.NewReader(data)), obj, readErr
	}
	return body, obj, err
}

// TestRefitBacktestsTheLSTMOnItsOriginModels: after the fine-tune, the refit scores the LSTM
// candidate on every daily series — each shard's products and the groups — from the models
// trained only through each origin, and says which; without origin models the LSTM is no
// candidate. The task names the dataset as before sharding (one file), read as its one shard.
func TestRefitBacktestsTheLSTMOnItsOriginModels(t *testing.T) {
	e := handlertest.NewEnv(t)
	ctx := context.Background()
	dataset := e.Put(shards.SingleKey, handlertest.Testdata(t, "small_dataset.csv"))
	in := handlertest.TaskInput("job-lstm", dataset.ETag)
	h := refit.New(e.Store, handlertest.Logger(t))
	before := handlertest.Refit(t, h, in, pipeline.FineTuneOutput{})
	var sel backtest.Set
	readJSON(t, e, before.Shards[0].Selection.Key, &sel)
	if slices.Contains(sel.Candidates, "lstm") {
		t.Errorf("candidates %v without any origin model", sel.Candidates)
	}

	tuned, err := handlertest.SmallFineTune(t, e.Store).Handle(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(tuned.Origins) != 1 || tuned.Origins[0].Through != "2024-02-09" {
		t.Fatalf("fine-tune origins %+v, want one through 2024-02-09 (60 days: one window of 20)", tuned.Origins)
	}
	out := handlertest.Refit(t, h, in, tuned)
	sel = backtest.Set{}
	readJSON(t, e, out.Shards[0].Selection.Key, &sel)
	var groups grouped.Set
	readJSON(t, e, out.Groups.Key, &groups)
	if !slices.Contains(sel.Candidates, "lstm") || !slices.Contains(groups.Selections.Candidates, "lstm") {
		t.Fatalf("candidates %v (groups %v) after the fine-tune", sel.Candidates, groups.Selections.Candidates)
	}
	for key, s := range sel.Selections {
		res := s.Candidates["lstm"]
		if res.Scores == nil || !strings.Contains(res.Model, "trained through 2024-02-09") {
			t.Errorf("%s: lstm candidate %+v, want scores from the model trained through the origin", key, res)
		}
	}
	for key, s := range groups.Selections.Selections {
		if res := s.Candidates["lstm"]; res.Scores == nil {
			t.Errorf("group %s: lstm candidate %+v, want scores", key, res)
		}
	}
}
