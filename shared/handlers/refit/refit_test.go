package refit_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/stockcast/stockcast/shared/handlers/handlertest"

	"github.com/stockcast/stockcast/shared/handlers/refit"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/series"
	"github.com/stockcast/stockcast/shared/trend"
)

func TestRefitFitsEveryStandardSeries(t *testing.T) {
	e := handlertest.NewEnv(t)
	// One product with a single day of history cannot be fitted: it gets the fallback.
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
	if !slices.Equal(out.Failed, []string{series.ProductKey("LONELY")}) || set.Fallbacks[series.ProductKey("LONELY")] == "" {
		t.Errorf("failed = %v, fallbacks = %v; want the one-day product", out.Failed, set.Fallbacks)
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
