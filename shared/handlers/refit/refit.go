// Package refit is the RefitFunction's handler: the training state machine's task that fits the
// trend model to every standard series of one dataset version.
package refit

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

	"github.com/stockcast/stockcast/shared/handlers/task"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/platform"
	"github.com/stockcast/stockcast/shared/series"
	"github.com/stockcast/stockcast/shared/store"
	"github.com/stockcast/stockcast/shared/trend"
)

// Handler is the refit task of the training state machine: it fits a trend model (Prophet's
// model) to every standard series of one dataset version — the total, each product, each
// category, each region — on all cores, and stores them as models/trend/<version>.json.
type Handler struct {
	Store  store.Store
	Jobs   *pipeline.Jobs
	Logger *slog.Logger
	Now    func() time.Time
	// Options are the trend model's options for every series.
	Options trend.Options
	// Workers is how many series are fitted at once; 0 means one per core.
	Workers int
}

// New returns the refit handler over s with Prophet's default options.
func New(s store.Store, logger *slog.Logger) *Handler {
	return &Handler{Store: s, Jobs: pipeline.NewJobs(s), Logger: logger, Now: time.Now, Options: trend.DefaultOptions()}
}

// Handle fits the dataset version named by the input. A dataset that changed since the input
// was made is a *pipeline.DatasetChanged error, which the state machine retries.
func (h *Handler) Handle(ctx context.Context, in pipeline.TaskInput) (pipeline.RefitOutput, error) {
	ctx, end := platform.Trace(ctx, "refit")
	out, err := h.handle(ctx, in)
	end(err)
	if err != nil {
		h.Logger.ErrorContext(ctx, "refit failed", "job_id", in.JobID, "error", err)
	}
	return out, task.Retryable(err)
}

func (h *Handler) handle(ctx context.Context, in pipeline.TaskInput) (pipeline.RefitOutput, error) {
	if err := task.Check("refit", in, h.Store); err != nil {
		return pipeline.RefitOutput{}, err
	}
	if _, err := h.Jobs.Update(ctx, in.JobID, func(job *pipeline.Job) error {
		job.Stage = "train"
		job.Refit = &pipeline.Refit{Status: pipeline.StatusRunning}
		return nil
	}); err != nil {
		return pipeline.RefitOutput{}, err
	}
	table, err := task.LoadTable(ctx, h.Store, in)
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

// fitAll fits every series on all workers. A series whose fit fails gets the trend package's
// fallback (a flat model at its recent mean) and is listed in failed.
func (h *Handler) fitAll(ctx context.Context, all []series.Series) (*trend.Set, []string) {
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

func (h *Handler) failed(ctx context.Context, jobID string, cause error) error {
	if _, err := h.Jobs.Update(ctx, jobID, func(job *pipeline.Job) error {
		job.Refit = &pipeline.Refit{Status: pipeline.StatusFailed}
		return nil
	}); err != nil {
		return errors.Join(cause, err)
	}
	return cause
}
