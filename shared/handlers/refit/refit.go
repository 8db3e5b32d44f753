// Package refit is the RefitFunction's handler: the training state machine's task that fits the
// trend model to every standard series of one dataset version and backtests every candidate
// model on each — the LSTM of daily data on the fine-tune's models of the backtest origins —
// storing the selection model=auto serves.
package refit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/stockcast/stockcast/shared/backtest"
	"github.com/stockcast/stockcast/shared/handlers/task"
	"github.com/stockcast/stockcast/shared/lstm"
	"github.com/stockcast/stockcast/shared/lstminput"
	"github.com/stockcast/stockcast/shared/parallel"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/platform"
	"github.com/stockcast/stockcast/shared/series"
	"github.com/stockcast/stockcast/shared/stats"
	"github.com/stockcast/stockcast/shared/stats/candidates"
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
	// StopMargin is the time kept before the invocation's deadline to stop fitting and record
	// the outcome: the refit then fails with a *pipeline.DeadlineNear instead of being killed.
	StopMargin time.Duration
	// Select backtests every candidate model on every series and stores the selections
	// model=auto serves (New sets it; without, the API backtests each series on first use).
	Select bool
	// Backtest configures the rolling-origin backtests of the selection (zero: 3 origins × 28
	// days, 8 weeks or 6 months by the data's frequency); the fine-tune's Backtest must be the
	// same for its origin models to be trained through this backtest's origins.
	Backtest backtest.Config
}

// New returns the refit handler over s with Prophet's default options.
func New(s store.Store, logger *slog.Logger) *Handler {
	return &Handler{Store: s, Jobs: pipeline.NewJobs(s), Logger: logger, Now: time.Now, Options: trend.DefaultOptions(), Select: true, StopMargin: 10 * time.Second}
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
	work, stop := h.beforeDeadline(ctx)
	defer stop()
	started := time.Now()
	standard := table.Standard()
	set, failed, err := h.fitAll(work, standard)
	if err != nil {
		return pipeline.RefitOutput{}, h.failed(ctx, in.JobID, err)
	}
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
		TrendKey: key, TrendETag: obj.ETag, TrendVersionID: obj.VersionID, Series: len(set.Models), Failed: failed, FitMS: fitMS,
		Rows: table.Rows(), FirstDate: first.Format(time.DateOnly), LastDate: last.Format(time.DateOnly),
	}
	if h.Select {
		if err := h.selectModels(work, in.JobID, table, standard, &out); err != nil {
			if context.Cause(work) == errDeadlineNear {
				err = &pipeline.DeadlineNear{Step: "refit: backtests", Of: len(standard)}
			}
			return pipeline.RefitOutput{}, h.failed(ctx, in.JobID, err)
		}
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

// selectModels backtests every candidate on every series, stores the selections as
// models/selection/<version>.json and records them in out.
func (h *Handler) selectModels(ctx context.Context, jobID string, table *series.Table, all []series.Series, out *pipeline.RefitOutput) (err error) {
	ctx, end := platform.Trace(ctx, "backtest")
	defer func() { end(err) }()
	started := time.Now()
	freq := stats.Detect(all[0].Dates) // the total: every date of the dataset
	hs := make([]stats.History, 0, len(all))
	for _, s := range all {
		hist, err := stats.FromDatesAt(s.Key, s.Dates, s.Values, freq)
		if err != nil { // dates off the dataset's grid: the series is read daily
			if hist, err = stats.FromDatesAt(s.Key, s.Dates, s.Values, stats.Daily); err != nil {
				return fmt.Errorf("series %s: %w", s.Key, err)
			}
		}
		hs = append(hs, hist)
	}
	cands := candidates.All(h.Options)
	if freq == stats.Daily {
		net, err := h.lstmCandidate(ctx, table)
		if err != nil {
			return err
		}
		if net != nil {
			cands = append(cands, *net)
		}
	}
	sel, err := backtest.SelectAll(ctx, hs, cands, h.Backtest, h.Workers)
	if err != nil {
		return err
	}
	sel.Created, sel.Frequency = h.Now(), freq
	data, err := json.Marshal(sel)
	if err != nil {
		return fmt.Errorf("encode selections: %w", err)
	}
	key := pipeline.SelectionKey(jobID)
	obj, err := h.Store.Put(ctx, key, bytes.NewReader(data), store.PutOptions{ContentType: "application/json"})
	if err != nil {
		return err
	}
	summary := &pipeline.Backtest{Selected: len(sel.Selections), Unselected: len(sel.Unselected),
		MS: time.Since(started).Milliseconds(), Choices: sel.Summary.Choices}
	for _, m := range sel.Summary.Models {
		if m.Model == backtest.Auto {
			summary.MASE, summary.Coverage = m.MASE, m.Coverage
		}
	}
	out.SelectionKey, out.SelectionETag, out.Backtest = key, obj.ETag, summary
	h.Logger.InfoContext(ctx, "models selected by backtest", "job_id", jobID, "series", summary.Selected,
		"unselected", summary.Unselected, "backtest_ms", summary.MS, "mase", summary.MASE, "key", key)
	return nil
}

// lstmCandidate is the global LSTM as a candidate of a daily dataset's backtests: the models the
// fine-tune trained only through each origin of the backtest (models/lstm/origins/), from which
// LSTMForecaster picks, for each window, the newest model that saw no day of it. nil when there
// are none (the fine-tune has not run, or the dataset is too short to backtest); a model that does
// not load is left out with a warning.
func (h *Handler) lstmCandidate(ctx context.Context, table *series.Table) (_ *candidates.LSTMForecaster, err error) {
	ctx, end := platform.Trace(ctx, "load-lstm-origins")
	defer func() { end(err) }()
	objs, err := h.Store.List(ctx, pipeline.OriginsPrefix)
	if err != nil {
		return nil, fmt.Errorf("list the LSTM origin models: %w", err)
	}
	var models []*lstm.Model
	for _, obj := range objs {
		m, err := h.readModel(ctx, obj.Key)
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			h.Logger.WarnContext(ctx, "LSTM origin model left out of the backtests", "key", obj.Key, "error", err)
			continue
		}
		models = append(models, m)
	}
	if len(models) == 0 {
		h.Logger.InfoContext(ctx, "no LSTM origin models: the LSTM is not a candidate of this backtest")
		return nil, nil
	}
	// The forecasts read one set of covariates: those of the newest model, and of the models
	// that read the same.
	slices.SortFunc(models, func(a, b *lstm.Model) int { return b.LastDate().Compare(a.LastDate()) })
	names := models[0].Config().Covariates
	models = slices.DeleteFunc(models, func(m *lstm.Model) bool { return !slices.Equal(m.Config().Covariates, names) })
	inputs, err := lstminput.Standard(table, names)
	if err != nil {
		return nil, err
	}
	net := candidates.NewLSTMForecaster(models, inputs)
	return &net, nil
}

// readModel reads one stored LSTM model.
func (h *Handler) readModel(ctx context.Context, key string) (*lstm.Model, error) {
	body, _, err := h.Store.Get(ctx, key, store.GetOptions{})
	if err != nil {
		return nil, err
	}
	defer body.Close()
	m, err := lstm.Read(body)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	return m, nil
}

// errDeadlineNear is the cause of the work context's end at StopMargin before the deadline.
var errDeadlineNear = errors.New("the invocation's deadline is near")

// beforeDeadline returns the context the refit's work runs in: it ends StopMargin before ctx's
// deadline, if ctx has one.
func (h *Handler) beforeDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	return context.WithDeadlineCause(ctx, deadline.Add(-h.StopMargin), errDeadlineNear)
}

// fitAll fits every series on all workers. A series whose fit fails gets the trend package's
// fallback (a flat model at its recent mean) and is listed in failed. When ctx ends, no further
// series is started, the fits under way stop, and the error says how far it got: a
// *pipeline.DeadlineNear when the invocation's deadline is near.
func (h *Handler) fitAll(ctx context.Context, all []series.Series) (_ *trend.Set, _ []string, err error) {
	ctx, end := platform.Trace(ctx, "fit")
	defer func() { end(err) }()
	type fitted struct {
		model  *trend.Model
		reason string
	}
	results := make([]fitted, len(all))
	started := parallel.Each(ctx, len(all), h.Workers, func(i int) {
		model, reason, err := trend.FitWithFallback(ctx, all[i].Dates, all[i].Values, h.Options)
		if err != nil {
			reason = err.Error()
		}
		results[i] = fitted{model, reason}
	})
	if ctx.Err() != nil {
		if context.Cause(ctx) == errDeadlineNear {
			return nil, nil, &pipeline.DeadlineNear{Step: "refit", Done: started, Of: len(all)}
		}
		return nil, nil, fmt.Errorf("refit stopped with %d of %d series started: %w", started, len(all), context.Cause(ctx))
	}
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
	return set, failed, nil
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
