package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/platform"
	"github.com/stockcast/stockcast/shared/series"
	"github.com/stockcast/stockcast/shared/store"
	"github.com/stockcast/stockcast/shared/trend"
)

// Refit is the refit task of the training state machine: it fits a trend model (Prophet's
// model) to every standard series of one dataset version — the total, each product, each
// category, each region — on all cores, and stores them as models/trend/<version>.json.
type Refit struct {
	Store  store.Store
	Jobs   *pipeline.Jobs
	Logger *slog.Logger
	Now    func() time.Time
	// Options are the trend model's options for every series.
	Options trend.Options
	// Workers is how many series are fitted at once; 0 means one per core.
	Workers int
}

// NewRefit returns the refit handler over s with Prophet's default options.
func NewRefit(s store.Store, logger *slog.Logger) *Refit {
	return &Refit{Store: s, Jobs: pipeline.NewJobs(s), Logger: logger, Now: time.Now, Options: trend.DefaultOptions()}
}

// Handle fits the dataset version named by the input. A dataset that changed since the input
// was made is a *pipeline.DatasetChanged error, which the state machine retries.
func (h *Refit) Handle(ctx context.Context, in pipeline.TaskInput) (pipeline.RefitOutput, error) {
	ctx, end := platform.Trace(ctx, "refit")
	out, err := h.handle(ctx, in)
	end(err)
	if err != nil {
		h.Logger.ErrorContext(ctx, "refit failed", "job_id", in.JobID, "error", err)
	}
	return out, retryable(err)
}

func (h *Refit) handle(ctx context.Context, in pipeline.TaskInput) (pipeline.RefitOutput, error) {
	if err := checkTask("refit", in, h.Store); err != nil {
		return pipeline.RefitOutput{}, err
	}
	if _, err := h.Jobs.Update(ctx, in.JobID, func(job *pipeline.Job) error {
		job.Stage = "train"
		job.Refit = &pipeline.Refit{Status: pipeline.StatusRunning}
		return nil
	}); err != nil {
		return pipeline.RefitOutput{}, err
	}
	table, err := loadTable(ctx, h.Store, in)
	if err != nil {
		return pipeline.RefitOutput{}, h.failed(ctx, in.JobID, err)
	}
	started := time.Now()
	set, failed := h.fitAll(ctx, table.Standard())
	fitMS := time.Since(started).Milliseconds()
	data, err := json.Marshal(set)
	if err != nil {
		return pipeline.RefitOutput{}, h.failed(ctx, in.JobID, fmt.Errorf("encode trend models: %w", err))
	}
	key := pipeline.TrendKey(in.JobID)
	obj, err := h.Store.Put(ctx, key, bytes.NewReader(data), store.PutOptions{ContentType: "application/json"})
	if err != nil {
		return pipeline.RefitOutput{}, h.failed(ctx, in.JobID, err)
	}
	first, _ := table.FirstDate()
	last, _ := table.LastDate()
	out := pipeline.RefitOutput{
		TrendKey: key, TrendETag: obj.ETag, Series: len(set.Models), Failed: failed, FitMS: fitMS,
		Rows: table.Rows(), FirstDate: first.Format(time.DateOnly), LastDate: last.Format(time.DateOnly),
	}
	if _, err := h.Jobs.Update(ctx, in.JobID, func(job *pipeline.Job) error {
		job.Refit = &pipeline.Refit{Status: pipeline.StatusSucceeded, Series: out.Series, Failed: failed, FitMS: fitMS, TrendKey: key}
		return nil
	}); err != nil {
		return pipeline.RefitOutput{}, err
	}
	h.Logger.InfoContext(ctx, "trend models fitted", "job_id", in.JobID, "series", out.Series, "fallbacks", len(failed), "fit_ms", fitMS, "key", key)
	return out, nil
}

// loadTable reads exactly the dataset version the input names.
func loadTable(ctx context.Context, s store.Store, in pipeline.TaskInput) (_ *series.Table, err error) {
	ctx, end := platform.Trace(ctx, "load-dataset")
	defer func() { end(err) }()
	body, _, err := s.Get(ctx, in.DatasetKey, store.GetOptions{IfMatch: in.DatasetETag})
	if errors.Is(err, store.ErrPreconditionFailed) || errors.Is(err, store.ErrNotFound) {
		current := "nothing"
		if obj, headErr := s.Head(ctx, in.DatasetKey); headErr == nil {
			current = obj.ETag
		}
		return nil, &pipeline.DatasetChanged{Key: in.DatasetKey, Want: in.DatasetETag, Got: current}
	}
	if err != nil {
		return nil, err
	}
	defer body.Close()
	table, err := series.Load(ctx, body)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", in.DatasetKey, err)
	}
	if table.Rows() == 0 {
		return nil, fmt.Errorf("dataset %s has no rows", in.DatasetKey)
	}
	return table, nil
}

// fitAll fits every series on all workers. A series whose fit fails gets the trend package's
// fallback (a flat model at its recent mean) and is listed in failed.
func (h *Refit) fitAll(ctx context.Context, all []series.Series) (*trend.Set, []string) {
	_, end := platform.Trace(ctx, "fit")
	defer end(nil)
	type fitted struct {
		model  *trend.Model
		reason string
	}
	results := make([]fitted, len(all))
	next := make(chan int)
	var wg sync.WaitGroup
	workers := h.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	for range min(workers, len(all)) {
		wg.Go(func() {
			for i := range next {
				model, reason, err := trend.FitWithFallback(all[i].Dates, all[i].Values, h.Options)
				if err != nil {
					reason = err.Error()
				}
				results[i] = fitted{model, reason}
			}
		})
	}
	for i := range all {
		next <- i
	}
	close(next)
	wg.Wait()
	set := trend.NewSet(h.Now())
	var failed []string
	for i, s := range all {
		r := results[i]
		if r.reason != "" {
			failed = append(failed, s.Key)
			h.Logger.WarnContext(ctx, "series fitted with the fallback model", "series", s.Key, "reason", r.reason)
		}
		if r.model != nil {
			set.Add(s.Key, r.model, r.reason)
		}
	}
	return set, failed
}

func (h *Refit) failed(ctx context.Context, jobID string, cause error) error {
	if _, err := h.Jobs.Update(ctx, jobID, func(job *pipeline.Job) error {
		job.Refit = &pipeline.Refit{Status: pipeline.StatusFailed}
		return nil
	}); err != nil {
		return errors.Join(cause, err)
	}
	return cause
}
