// Package refit is the RefitFunction's handler, two tasks of the training state machine. The
// refit of one shard (a Distributed Map item) fits the trend model to each of the shard's
// products and backtests every candidate model on each — the LSTM of daily data on the
// fine-tune's models of the backtest origins —, storing the selections model=auto serves and the
// shard's partial sums of the group series. The group step adds up every shard's partials into
// the group series (the total, each category, each region) and fits and backtests those.
package refit

import (
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

// The steps of the refit, the input's "step".
const (
	// StepShard is the refit of one shard: the input is a pipeline.ShardTask.
	StepShard = "shard"
	// StepGroups is the group step after the Map: the input is a GroupsTask.
	StepGroups = "groups"
)

// Handler is the refit tasks of the training state machine.
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
	// the outcome: the step then fails with a *pipeline.DeadlineNear instead of being killed.
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

// GroupsTask is what the group step receives: the Map state's input (the TaskInput, the
// fine-tune's output) with the Map's output, one element per shard of the dataset index in
// shard order — a pipeline.ShardRefitOutput, or the error object of a shard whose refit failed
// within the Map's tolerated failures.
type GroupsTask struct {
	Input struct {
		pipeline.TaskInput
		Results struct {
			FineTune pipeline.FineTuneOutput `json:"finetune"`
			Shards   []json.RawMessage       `json:"shards"`
		} `json:"results"`
	} `json:"input"`
}

// Handle dispatches on the input's "step": StepShard returns a pipeline.ShardRefitOutput,
// StepGroups the pipeline.TrainResults publish receives — the group step's pipeline.RefitOutput
// beside the fine-tune's output as the task received it —, which the state machine puts in place
// of its results, dropping the Map's: the state then holds every shard's result once.
func (h *Handler) Handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var head struct {
		Step string `json:"step"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, fmt.Errorf("refit: decode input: %w", err)
	}
	switch head.Step {
	case StepShard:
		var t pipeline.ShardTask
		if err := json.Unmarshal(raw, &t); err != nil {
			return nil, fmt.Errorf("refit: decode shard task: %w", err)
		}
		return h.HandleShard(ctx, t)
	case StepGroups:
		var t GroupsTask
		if err := json.Unmarshal(raw, &t); err != nil {
			return nil, fmt.Errorf("refit: decode groups task: %w", err)
		}
		out, err := h.HandleGroups(ctx, t)
		if err != nil {
			return nil, err
		}
		return pipeline.TrainResults{Refit: out, FineTune: t.Input.Results.FineTune}, nil
	}
	return nil, fmt.Errorf("refit: input step %q is neither %q nor %q", head.Step, StepShard, StepGroups)
}

// HandleShard refits one shard of the dataset version the task names: the shard's entry pins its
// parts. A part that changed since is a *pipeline.DatasetChanged, which the state machine retries.
func (h *Handler) HandleShard(ctx context.Context, t pipeline.ShardTask) (pipeline.ShardRefitOutput, error) {
	ctx, end := platform.Trace(ctx, "refit-shard")
	out, err := h.shard(ctx, t)
	end(err)
	if err != nil {
		h.Logger.ErrorContext(ctx, "shard refit failed", "job_id", t.Input.JobID, "shard", t.Shard.Shard, "of", t.Shard.Of, "error", err)
	}
	return out, task.Retryable(err)
}

func (h *Handler) shard(ctx context.Context, t pipeline.ShardTask) (pipeline.ShardRefitOutput, error) {
	in, sh := t.Input.TaskInput, t.Shard
	if err := task.Check("refit", in, h.Store); err != nil {
		return pipeline.ShardRefitOutput{}, err
	}
	if sh.Of < 1 || sh.Shard < 0 || sh.Shard >= sh.Of {
		return pipeline.ShardRefitOutput{}, fmt.Errorf("refit: shard %d of %d", sh.Shard, sh.Of)
	}
	table, err := pipeline.LoadShard(ctx, h.Store, sh)
	if err != nil {
		return pipeline.ShardRefitOutput{}, err
	}
	work, stop := h.beforeDeadline(ctx)
	defer stop()
	started := time.Now()
	products := table.ProductSeries()
	set, failed, err := h.fitAll(work, products)
	if err != nil {
		return pipeline.ShardRefitOutput{}, err
	}
	out := shardData(sh, table)
	out.Series, out.Fallbacks, out.Failed, out.FitMS = len(set.Models), len(failed), pipeline.Listed(failed), time.Since(started).Milliseconds()
	if out.Trend, err = h.put(ctx, pipeline.ShardTrendKey(in.JobID, sh.Shard), set, "trend models"); err != nil {
		return pipeline.ShardRefitOutput{}, err
	}
	partials := table.Partials()
	if out.Partials, err = h.put(ctx, pipeline.PartialsKey(in.JobID, sh.Shard), partials, "partial sums"); err != nil {
		return pipeline.ShardRefitOutput{}, err
	}
	if h.Select && len(products) > 0 {
		freq := stats.Detect(partials[0].Dates) // the shard's total: every date of the shard
		sel, summary, err := h.selectModels(work, products, freq, func(names []string) ([]lstm.Series, error) { return lstminput.Standard(table, names) })
		if err != nil {
			return pipeline.ShardRefitOutput{}, h.stopped(work, err, "refit: backtests of a shard", len(products))
		}
		a, err := h.put(ctx, pipeline.ShardSelectionKey(in.JobID, sh.Shard), sel, "selections")
		if err != nil {
			return pipeline.ShardRefitOutput{}, err
		}
		out.Selection, out.Backtest = &a, summary.Bounded()
	}
	h.Logger.InfoContext(ctx, "shard refitted", "job_id", in.JobID, "shard", sh.Shard, "of", sh.Of, "series", out.Series,
		"fallbacks", len(failed), "fit_ms", out.FitMS, "rows", out.Rows)
	return out, nil
}

// put stores v as JSON at key.
func (h *Handler) put(ctx context.Context, key string, v any, what string) (pipeline.Artifact, error) {
	obj, err := pipeline.WriteJSON(ctx, h.Store, what, key, store.PutOptions{}, v)
	if err != nil {
		return pipeline.Artifact{}, err
	}
	return pipeline.Artifact{Key: key, ETag: obj.ETag, VersionID: obj.VersionID}, nil
}

// stopped is err, or a *pipeline.DeadlineNear of step when the work context ended at the stop
// margin.
func (h *Handler) stopped(work context.Context, err error, step string, of int) error {
	if context.Cause(work) == errDeadlineNear {
		return &pipeline.DeadlineNear{Step: step, Of: of}
	}
	return err
}

// selectModels backtests every candidate on every series of frequency freq — the LSTM among them
// for daily data, on the series inputs gives for the origin models' covariates — and returns the
// selections with their summary.
func (h *Handler) selectModels(ctx context.Context, all []series.Series, freq stats.Frequency,
	inputs func(covariates []string) ([]lstm.Series, error)) (_ *backtest.Set, _ *pipeline.Backtest, err error) {
	ctx, end := platform.Trace(ctx, "backtest")
	defer func() { end(err) }()
	started := time.Now()
	hs := make([]stats.History, 0, len(all))
	for _, s := range all {
		hist, err := stats.FromDatesAt(s.Key, s.Dates, s.Values, freq)
		if err != nil { // dates off the dataset's grid: the series is read daily
			if hist, err = stats.FromDatesAt(s.Key, s.Dates, s.Values, stats.Daily); err != nil {
				return nil, nil, fmt.Errorf("series %s: %w", s.Key, err)
			}
		}
		hs = append(hs, hist)
	}
	cands := candidates.All(h.Options)
	if freq == stats.Daily {
		net, err := h.lstmCandidate(ctx, inputs)
		if err != nil {
			return nil, nil, err
		}
		if net != nil {
			cands = append(cands, *net)
		}
	}
	sel, err := backtest.SelectAll(ctx, hs, cands, h.Backtest, h.Workers)
	if err != nil {
		return nil, nil, err
	}
	sel.Created, sel.Frequency = h.Now(), freq
	summary := &pipeline.Backtest{Selected: len(sel.Selections), Unselected: len(sel.Unselected),
		MS: time.Since(started).Milliseconds(), Choices: sel.Summary.Choices}
	for _, m := range sel.Summary.Models {
		if m.Model == backtest.Auto {
			summary.MASE, summary.Coverage = m.MASE, m.Coverage
		}
	}
	return sel, summary, nil
}

// lstmCandidate is the global LSTM as a candidate of a daily dataset's backtests: the models the
// fine-tune trained only through each origin of the backtest (models/lstm/origins/), from which
// LSTMForecaster picks, for each window, the newest model that saw no day of it. nil when there
// are none (the fine-tune has not run, or the dataset is too short to backtest); a model that does
// not load is left out with a warning.
func (h *Handler) lstmCandidate(ctx context.Context, inputs func(covariates []string) ([]lstm.Series, error)) (_ *candidates.LSTMForecaster, err error) {
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
	in, err := inputs(names)
	if err != nil {
		return nil, err
	}
	net := candidates.NewLSTMForecaster(models, in)
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
