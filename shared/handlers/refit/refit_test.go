package refit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stockcast/stockcast/shared/backtest"
	"github.com/stockcast/stockcast/shared/handlers/handlertest"
	"github.com/stockcast/stockcast/shared/store"

	"github.com/stockcast/stockcast/shared/handlers/refit"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/series"
	"github.com/stockcast/stockcast/shared/trend"
)

func TestRefitFitsEveryStandardSeries(t *testing.T) {
	e := handlertest.NewEnv(t)
	// One product with a single day of history is served its mean, not a fitted model.
	data := append(handlertest.Testdata(t, "small_dataset.csv"), []byte("2024-02-29,LONELY,5,Home,East,1.0,0\n")...)
	dataset := e.Put(pipeline.DatasetKey, data)
	out, err := refit.New(e.Store, handlertest.Logger(t)).Handle(context.Background(), handlertest.TaskInput("job-1", dataset.ETag))
	if err != nil {
		t.Fatal(err)
	}
	// total + 5 products + categories + regions of small_dataset.csv
	var set trend.Set
	if err := json.Unmarshal(e.Read(out.TrendKey), &set); err != nil {
		t.Fatalf("decode %s: %v", out.TrendKey, err)
	}
	for _, key := range []string{series.Total, series.ProductKey("P0001"), series.ProductKey("LONELY"), series.CategoryKey("Home"), series.RegionKey("East")} {
		if set.Models[key] == nil {
			t.Errorf("no model for %s", key)
		}
	}
	if out.Series != len(set.Models) || out.TrendKey != "models/trend/job-1.json" || out.TrendETag == "" {
		t.Errorf("output %+v", out)
	}
	if len(out.Failed) != 0 || len(set.Fallbacks) != 0 || set.Models[series.ProductKey("LONELY")].FitInfo().Method != trend.MethodMean {
		t.Errorf("failed = %v, fallbacks = %v; want the one-day product served its mean", out.Failed, set.Fallbacks)
	}
	if out.Rows != 241 || out.FirstDate != "2024-01-01" || out.LastDate != "2024-02-29" {
		t.Errorf("dataset summary rows %d %s..%s", out.Rows, out.FirstDate, out.LastDate)
	}
	job := e.Job("job-1")
	if job.Refit == nil || job.Refit.Status != pipeline.StatusSucceeded || job.Refit.Series != out.Series {
		t.Errorf("job refit = %+v", job.Refit)
	}
	forecast, err := set.Models[series.Total].Predict(set.Models[series.Total].FutureDates(7))
	if err != nil || len(forecast.Yhat) != 7 {
		t.Errorf("the stored total model does not predict: %v", err)
	}
	// Every series long enough to backtest has a selection with its backtest and calibration;
	// the one-day product has none, and says why.
	var sel backtest.Set
	if err := json.Unmarshal(e.Read(out.SelectionKey), &sel); err != nil {
		t.Fatalf("decode %s: %v", out.SelectionKey, err)
	}
	p1 := sel.Selections[series.ProductKey("P0001")]
	if out.SelectionKey != "models/selection/job-1.json" || out.SelectionETag == "" || sel.Format != backtest.SetFormat || sel.Frequency != "daily" ||
		p1 == nil || p1.Calibration.Points() != p1.Origins*p1.Horizon || p1.Candidates["ets"].Scores == nil || p1.Candidates["trend"].Scores == nil {
		t.Fatalf("selections %+v, P0001 %+v", out, p1)
	}
	if sel.Unselected[series.ProductKey("LONELY")] == "" || out.Backtest == nil || out.Backtest.Selected != len(set.Models)-1 ||
		out.Backtest.Unselected != 1 || !(out.Backtest.MASE > 0) {
		t.Errorf("unselected %v, summary %+v", sel.Unselected, out.Backtest)
	}
}

func TestRefitRefusesAChangedDataset(t *testing.T) {
	e := handlertest.NewEnv(t)
	old := e.Put(pipeline.DatasetKey, handlertest.Testdata(t, "small_dataset.csv"))
	e.Put(pipeline.DatasetKey, handlertest.Testdata(t, "sample_dataset.csv"))
	_, err := refit.New(e.Store, handlertest.Logger(t)).Handle(context.Background(), handlertest.TaskInput("job-2", old.ETag))
	var changed *pipeline.DatasetChanged
	if !errors.As(err, &changed) || err != error(changed) {
		t.Fatalf("err = %v (%T), want an unwrapped *pipeline.DatasetChanged", err, err)
	}
	if e.Exists(pipeline.TrendKey("job-2")) {
		t.Errorf("models were written for a stale dataset")
	}
	if job := e.Job("job-2"); job.Refit.Status != pipeline.StatusFailed {
		t.Errorf("job refit status %s", job.Refit.Status)
	}
}

func TestRefitRefusesBadInput(t *testing.T) {
	e := handlertest.NewEnv(t)
	h := refit.New(e.Store, handlertest.Logger(t))
	for _, in := range []pipeline.TaskInput{{}, handlertest.TaskInput("", `"x"`), {Bucket: "other", DatasetKey: "k", DatasetETag: "e", JobID: "j"}} {
		if _, err := h.Handle(context.Background(), in); err == nil {
			t.Errorf("input %+v accepted", in)
		}
	}
}

func TestRefitReadsThePinnedDatasetVersionWhateverMergedSince(t *testing.T) {
	e := handlertest.NewEnv(t)
	pinned := e.Put(pipeline.DatasetKey, handlertest.Testdata(t, "small_dataset.csv"))
	e.Put(pipeline.DatasetKey, handlertest.Testdata(t, "sample_dataset.csv"))
	in := handlertest.TaskInput("job-3", pinned.ETag)
	in.DatasetVersionID = pinned.VersionID
	out, err := refit.New(e.Store, handlertest.Logger(t)).Handle(context.Background(), in)
	if err != nil {
		t.Fatalf("refit of a pinned version after a merge: %v", err)
	}
	if out.LastDate != "2024-02-29" || out.TrendVersionID == "" {
		t.Errorf("refit %+v: want the pinned dataset (to 2024-02-29) and the models' version id", out)
	}
}

// TestRefitStopsBeforeTheDeadline: with less time left than its stop margin, the refit starts no
// fit and fails with the retryable *pipeline.DeadlineNear (not a Lambda timeout), and its job
// says so.
func TestRefitStopsBeforeTheDeadline(t *testing.T) {
	e := handlertest.NewEnv(t)
	dataset := e.Put(pipeline.DatasetKey, handlertest.Testdata(t, "small_dataset.csv"))
	h := refit.New(e.Store, handlertest.Logger(t))
	h.StopMargin = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := h.Handle(ctx, handlertest.TaskInput("job-late", dataset.ETag))
	var late *pipeline.DeadlineNear
	if !errors.As(err, &late) || late.Done != 0 || late.Of == 0 {
		t.Fatalf("refit with its deadline near: %v, want a DeadlineNear with nothing done", err)
	}
	if job := e.Job("job-late"); job.Refit == nil || job.Refit.Status != pipeline.StatusFailed {
		t.Errorf("job after the stop: %+v", job.Refit)
	}
}

// TestRefitStopsWhenCancelled: a cancelled refit returns the cancellation, not a model set.
func TestRefitStopsWhenCancelled(t *testing.T) {
	e := handlertest.NewEnv(t)
	dataset := e.Put(pipeline.DatasetKey, handlertest.Testdata(t, "small_dataset.csv"))
	ctx, cancel := context.WithCancel(context.Background())
	h := refit.New(e.Store, handlertest.Logger(t))
	h.Store = &cancelOnRead{Store: e.Store, cancel: cancel}
	if _, err := h.Handle(ctx, handlertest.TaskInput("job-cancelled", dataset.ETag)); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled refit: %v, want context.Canceled", err)
	}
	if e.Exists(pipeline.TrendKey("job-cancelled")) {
		t.Error("a cancelled refit wrote trend models")
	}
}

// cancelOnRead cancels the refit's context once the dataset has been read: mid-way.
type cancelOnRead struct {
	store.Store
	cancel context.CancelFunc
}

func (c *cancelOnRead) Get(ctx context.Context, key string, opts store.GetOptions) (io.ReadCloser, store.Object, error) {
	body, obj, err := c.Store.Get(ctx, key, opts)
	if key == pipeline.DatasetKey && err == nil {
		data, readErr := io.ReadAll(body)
		body.Close()
		c.cancel()
		return io.NopCloser(bytes.NewReader(data)), obj, readErr
	}
	return body, obj, err
}

// TestRefitBacktestsTheLSTMOnItsOriginModels: after the fine-tune, the refit scores the LSTM
// candidate on every daily series from the models trained only through each origin, and says
// which; without origin models the LSTM is no candidate.
func TestRefitBacktestsTheLSTMOnItsOriginModels(t *testing.T) {
	e := handlertest.NewEnv(t)
	ctx := context.Background()
	dataset := e.Put(pipeline.DatasetKey, handlertest.Testdata(t, "small_dataset.csv"))
	in := handlertest.TaskInput("job-lstm", dataset.ETag)
	before, err := refit.New(e.Store, handlertest.Logger(t)).Handle(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	var sel backtest.Set
	if err := json.Unmarshal(e.Read(before.SelectionKey), &sel); err != nil {
		t.Fatal(err)
	}
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
	out, err := refit.New(e.Store, handlertest.Logger(t)).Handle(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	sel = backtest.Set{}
	if err := json.Unmarshal(e.Read(out.SelectionKey), &sel); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(sel.Candidates, "lstm") {
		t.Fatalf("candidates %v after the fine-tune", sel.Candidates)
	}
	for key, s := range sel.Selections {
		res := s.Candidates["lstm"]
		if res.Scores == nil || !strings.Contains(res.Model, "trained through 2024-02-09") {
			t.Errorf("%s: lstm candidate %+v, want scores from the model trained through the origin", key, res)
		}
	}
}
