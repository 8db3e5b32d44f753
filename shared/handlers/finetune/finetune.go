// Package finetune is the FineTuneFunction's handler: the training state machine's task that
// continues training the global LSTM from its checkpoint in S3, and the models of the refit's
// backtest origins beside it.
package finetune

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stockcast/stockcast/shared/backtest"
	"github.com/stockcast/stockcast/shared/handlers/task"
	"github.com/stockcast/stockcast/shared/lstm"
	"github.com/stockcast/stockcast/shared/parallel"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/platform"
	"github.com/stockcast/stockcast/shared/series"
	"github.com/stockcast/stockcast/shared/store"
	"github.com/stockcast/stockcast/shared/training"
)

// Handler is the fine-tune task of the training state machine: it continues training the global
// LSTM from its checkpoint (models/lstm/checkpoint.bin) on what the merged upload brought, and
// keeps up to date, beside it, the models trained only through each origin of the refit's
// backtest (models/lstm/origins/<k>.bin), which the refit backtests as the LSTM candidate; after
// an upload the models are independent and train at once, one per core. With no usable
// checkpoint it rebuilds them all as a chain, one after another: in full through the first
// origin, then fine-tuned through each later origin and the last day, whose model is the one
// served. Each model is written only if nobody else wrote it meanwhile.
type Handler struct {
	Store  store.Store
	Jobs   *pipeline.Jobs
	Logger *slog.Logger
	// Config is the network; a checkpoint of another architecture is not resumed.
	Config lstm.Config
	// Covariates makes the network read the dataset's known covariates (series.Table's
	// Covariates) beside the sales; a dataset that gains or loses one is trained from scratch.
	Covariates bool
	// Policy is the training schedule.
	Policy lstm.Policy
	// SaveMargin is the time kept before the invocation's deadline to write the checkpoint.
	SaveMargin time.Duration
	// ProgressEvery is the least time between two progress updates of the job record.
	ProgressEvery time.Duration
	// Workers is how many models are trained at once after an upload (the served one and those of
	// the origins; each on one core); 0 means one per core. A rebuild is a chain, one at a time.
	Workers int
	// Backtest is the refit's backtest configuration (refit.Handler.Backtest): the models of its
	// origins are trained through the same days.
	Backtest backtest.Config
}

// New returns the fine-tune handler over s with the prototype's network and the
// default schedule.
func New(s store.Store, logger *slog.Logger) *Handler {
	return &Handler{
		Store: s, Jobs: pipeline.NewJobs(s), Logger: logger,
		Config: lstm.DefaultConfig(), Policy: lstm.DefaultPolicy(),
		SaveMargin: 20 * time.Second, ProgressEvery: time.Second,
	}
}

// Handle trains and saves the checkpoint. A dataset or checkpoint that changed under it is a
// *pipeline.DatasetChanged or *pipeline.CheckpointChanged error, which the state machine retries.
func (h *Handler) Handle(ctx context.Context, in pipeline.TaskInput) (pipeline.FineTuneOutput, error) {
	ctx, end := platform.Trace(ctx, "finetune")
	out, err := h.handle(ctx, in)
	end(err)
	if err != nil {
		h.Logger.ErrorContext(ctx, "fine-tune failed", "job_id", in.JobID, "error", err)
	}
	return out, task.Retryable(err)
}

func (h *Handler) handle(ctx context.Context, in pipeline.TaskInput) (pipeline.FineTuneOutput, error) {
	if err := task.Check("fine-tune", in, h.Store); err != nil {
		return pipeline.FineTuneOutput{}, err
	}
	log := h.Logger.With("job_id", in.JobID)
	if _, err := h.Jobs.Update(ctx, in.JobID, func(job *pipeline.Job) error {
		job.Stage = "train"
		job.FineTune = &pipeline.FineTune{Status: pipeline.StatusRunning, Message: "loading the dataset and the checkpoint"}
		return nil
	}); err != nil {
		return pipeline.FineTuneOutput{}, err
	}
	out, err := h.train(ctx, in, log)
	if err != nil {
		if _, updateErr := h.Jobs.Update(ctx, in.JobID, func(job *pipeline.Job) error {
			job.FineTune = &pipeline.FineTune{Status: pipeline.StatusFailed, Message: err.Error()}
			return nil
		}); updateErr != nil {
			err = errors.Join(err, updateErr)
		}
	}
	return out, err
}

func (h *Handler) train(ctx context.Context, in pipeline.TaskInput, log *slog.Logger) (pipeline.FineTuneOutput, error) {
	x, err := pipeline.DatasetIndex(ctx, h.Store, in)
	if err != nil {
		return pipeline.FineTuneOutput{}, err
	}
	cfg := h.Config
	var whole *series.Table // a dataset of one shard, read whole
	if x.Count() == 1 {
		if whole, err = h.loadShard(ctx, x[0]); err != nil {
			return pipeline.FineTuneOutput{}, err
		}
		if whole.Rows() == 0 {
			return pipeline.FineTuneOutput{}, fmt.Errorf("dataset %s has no rows", in.DatasetKey)
		}
		if h.Covariates {
			cfg.Covariates = whole.Covariates()
		}
	} else if h.Covariates {
		cfg.Covariates = series.ColumnCovariates(x.Columns())
	}
	model, checkpoint, fresh, err := h.resume(ctx, pipeline.CheckpointKey, cfg, log)
	if err != nil {
		return pipeline.FineTuneOutput{}, err
	}
	opts, err := h.options(ctx, in)
	if err != nil {
		return pipeline.FineTuneOutput{}, err
	}
	rebuild := ""
	switch {
	case in.Mode == training.Full:
		rebuild = "full retrain requested"
	case fresh != nil:
		rebuild = "no usable checkpoint: " + fresh.Error()
	}
	var data *trainingData
	if whole != nil {
		data, err = wholeData(whole, x[0], cfg)
	} else {
		since := opts.Since
		if since.IsZero() {
			since = model.LastDate().AddDate(0, 0, 1) // as Train takes it
		}
		data, err = h.sample(ctx, in, x, cfg, since, rebuild != "")
	}
	if err != nil {
		return pipeline.FineTuneOutput{}, err
	}
	log.InfoContext(ctx, "dataset read", "shards", data.read.Shards, "read", data.read.Read, "replay", data.read.Replay,
		"bytes", data.read.Bytes, "series", data.read.Series, "replay_series", data.read.ReplaySeries,
		"windows", data.read.Windows, "replay_windows", data.read.ReplayWindows)
	origins, steps, err := h.planOrigins(ctx, in, log, data, cfg, opts, rebuild != "")
	if err != nil {
		return pipeline.FineTuneOutput{}, err
	}
	servedStep := step{name: "LSTM", model: model, data: data.series, opts: opts}
	if rebuild != "" && len(origins) > 0 { // the chain's last link: from the last origin's model to the last day
		servedStep.model = nil
		servedStep.opts.Mode, servedStep.opts.Since, servedStep.opts.Until = training.FineTune, time.Time{}, time.Time{}
	}
	runs, err := h.runSteps(ctx, in, log, append(steps, servedStep))
	if err != nil {
		return pipeline.FineTuneOutput{}, err
	}
	served := runs[len(origins)]
	model = served.model
	for k := range origins {
		origins[k].model, origins[k].report, origins[k].ms = runs[k].model, runs[k].report, runs[k].ms
	}
	out := pipeline.FineTuneOutput{CheckpointKey: pipeline.CheckpointKey, Mode: served.report.Mode,
		Epochs: served.report.Epochs, Loss: served.report.Loss, ValLoss: served.report.ValLoss, Windows: served.report.Windows, TrainMS: served.ms, Read: &data.read}
	for k, o := range origins {
		saved := o.stored
		if o.report.Stop != lstm.StopNoNewData || !o.kept {
			if saved, err = h.save(ctx, pipeline.OriginKey(k), o.model, o.stored.ETag); err != nil {
				return pipeline.FineTuneOutput{}, err
			}
		}
		out.Origins = append(out.Origins, pipeline.Origin{Key: pipeline.OriginKey(k), ETag: saved.ETag, VersionID: saved.VersionID,
			Through: o.through.Format(time.DateOnly), Mode: o.report.Mode, Epochs: o.report.Epochs, Windows: o.report.Windows, TrainMS: o.ms})
	}
	saved := checkpoint
	if served.report.Stop != lstm.StopNoNewData || checkpoint.ETag == "" || rebuild != "" {
		if saved, err = h.save(ctx, pipeline.CheckpointKey, model, checkpoint.ETag); err != nil {
			return pipeline.FineTuneOutput{}, err
		}
	}
	out.CheckpointETag, out.VersionID = saved.ETag, saved.VersionID
	message := fmt.Sprintf("LSTM %s: %d epochs, stopped: %s (%s)", served.report.Mode, served.report.Epochs, served.report.Stop, served.report.Reason)
	if rebuild != "" && len(origins) > 0 {
		out.Mode = training.Full
		message = fmt.Sprintf("LSTM rebuilt (%s): full through %s, fine-tuned through each later backtest origin and then the last day: %d epochs, stopped: %s",
			rebuild, origins[0].through.Format(time.DateOnly), served.report.Epochs, served.report.Stop)
	}
	if len(origins) > 0 {
		var stops []string
		for _, o := range origins {
			if stop := string(o.report.Stop); !slices.Contains(stops, stop) {
				stops = append(stops, stop)
			}
		}
		message += fmt.Sprintf("; %d backtest origin models, the last through %s, stopped: %s",
			len(origins), origins[len(origins)-1].through.Format(time.DateOnly), strings.Join(stops, ", "))
	}
	_, err = h.Jobs.Update(ctx, in.JobID, func(job *pipeline.Job) error {
		job.FineTune = &pipeline.FineTune{
			Status: pipeline.StatusSucceeded, Mode: out.Mode, Epoch: served.report.Epochs, Epochs: served.report.MaxEpochs,
			Loss: served.report.Loss, ValLoss: served.report.ValLoss, Windows: served.report.Windows, Message: message,
		}
		return nil
	})
	return out, err
}

// trained is one training run's model and report.
type trained struct {
	model  *lstm.Model
	report lstm.Report
	ms     int64
	// Origins only: through is the origin; stored the object the model was read from (or, when
	// rebuilt, the one it replaces); kept is set when it continued from the stored model.
	through time.Time
	stored  store.Object
	kept    bool
}

// step is one model's training run.
type step struct {
	name  string
	model *lstm.Model // nil: a clone of the previous step's model once trained (a link of the chain)
	data  []lstm.Series
	opts  lstm.TrainOptions
}

// runSteps trains the models of the steps, in order within each chain (a step and the steps that
// continue from its model) and the chains at once, on up to Workers goroutines: each model is
// trained on one core, as Train is. When the chains run at once the job record follows the last
// step's model (the served one) and the others are logged only; a single chain records each
// step's progress in turn. The first step that fails stops the others, and is the error.
func (h *Handler) runSteps(ctx context.Context, in pipeline.TaskInput, log *slog.Logger, steps []step) ([]trained, error) {
	var chains [][]int
	for i, s := range steps {
		if s.model != nil {
			chains = append(chains, nil)
		}
		chains[len(chains)-1] = append(chains[len(chains)-1], i)
	}
	work, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu     sync.Mutex
		failed error
	)
	out := make([]trained, len(steps))
	parallel.Each(context.WithoutCancel(ctx), len(chains), h.Workers, func(c int) {
		for _, i := range chains[c] {
			mu.Lock()
			stop := failed != nil
			mu.Unlock()
			if stop {
				return
			}
			s := steps[i]
			if s.model == nil {
				s.model = out[i-1].model.Clone()
			}
			run, err := h.run(work, in, log, s, len(chains) == 1 || i == len(steps)-1)
			if err != nil {
				mu.Lock()
				if failed == nil {
					failed = err
					cancel()
				}
				mu.Unlock()
				return
			}
			out[i] = run
		}
	})
	return out, failed
}

// run trains one model, logs the outcome, and records its progress in the job if record is set.
func (h *Handler) run(ctx context.Context, in pipeline.TaskInput, log *slog.Logger, s step, record bool) (trained, error) {
	opts := s.opts
	opts.Progress = h.progress(ctx, in, log, s.name, record)
	trainCtx, end := platform.Trace(ctx, "train")
	started := time.Now()
	report, err := s.model.Train(trainCtx, s.data, opts)
	end(err)
	if err != nil {
		return trained{}, fmt.Errorf("train the %s: %w", s.name, err)
	}
	ms := time.Since(started).Milliseconds()
	log.InfoContext(ctx, s.name+" trained", "mode", report.Mode, "reason", report.Reason, "epochs", report.Epochs,
		"windows", report.Windows, "loss", report.Loss, "val_loss", report.ValLoss, "stop", report.Stop,
		"new_series", len(report.NewSeries), "trained_through", s.model.LastDate().Format(time.DateOnly), "train_ms", ms)
	return trained{model: s.model, report: report, ms: ms}, nil
}

// planOrigins prepares the training of the models of the refit's backtest origins
// (backtest.DailyOrigins of the dataset with Backtest), one step each on the run's data, and
// returns what each continues from (through, stored, kept; the model and report are runSteps'):
// each stored one that is usable — readable, of cfg's architecture, trained through no later
// than its origin, and rebuild unset — is fine-tuned on the days up to its origin; any other is
// rebuilt by the chain: in full through the first origin, else from the previous origin's model
// fine-tuned through its own. No model sees a day after its origin. None for a dataset that is
// not daily or too short to backtest.
func (h *Handler) planOrigins(ctx context.Context, in pipeline.TaskInput, log *slog.Logger, data *trainingData, cfg lstm.Config, opts lstm.TrainOptions, rebuild bool) ([]trained, []step, error) {
	if !data.daily {
		return nil, nil, nil // the LSTM is a candidate of daily data only
	}
	days, err := backtest.DailyOrigins(data.first, data.last, h.Backtest)
	if err != nil {
		log.InfoContext(ctx, "no LSTM backtest origin models", "reason", err.Error())
		return nil, nil, nil
	}
	var newFrom time.Time
	if in.NewFrom != "" {
		newFrom, _ = time.Parse(time.DateOnly, in.NewFrom) // TaskInput.Validate checked it
	}
	origins, steps := make([]trained, len(days)), make([]step, len(days))
	for k, day := range days {
		key := pipeline.OriginKey(k)
		model, stored, fresh, err := h.resume(ctx, key, cfg, log)
		if err != nil {
			return nil, nil, err
		}
		o := opts
		o.Mode, o.Since, o.Until = training.FineTune, time.Time{}, time.Time{}
		kept := !rebuild && fresh == nil && !model.LastDate().After(day)
		if !kept && fresh == nil && !rebuild {
			log.InfoContext(ctx, "rebuilding an LSTM origin model trained past its origin", "key", key,
				"trained_through", model.LastDate().Format(time.DateOnly), "origin", day.Format(time.DateOnly))
		}
		switch {
		case kept:
			if !newFrom.IsZero() && !newFrom.After(model.LastDate()) { // rows merged up to the model's last day
				o.Since = newFrom
			}
		case k == 0:
			if model, err = lstm.New(cfg); err != nil {
				return nil, nil, err
			}
			o.Mode = training.Full
		default:
			model = nil // the previous origin's, once trained
		}
		origins[k] = trained{through: day, stored: stored, kept: kept}
		steps[k] = step{name: fmt.Sprintf("LSTM of backtest origin %d/%d (through %s)", k+1, len(days), day.Format(time.DateOnly)),
			model: model, data: lstm.Through(data.series, day), opts: o}
	}
	return origins, steps, nil
}

// resume loads a checkpoint, or starts a new model and says why (fresh).
func (h *Handler) resume(ctx context.Context, key string, cfg lstm.Config, log *slog.Logger) (_ *lstm.Model, _ store.Object, fresh, err error) {
	ctx, end := platform.Trace(ctx, "load-checkpoint")
	defer func() { end(err) }()
	body, obj, err := h.Store.Get(ctx, key, store.GetOptions{})
	var reader io.Reader
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, store.Object{}, nil, err
	default:
		defer body.Close()
		reader = body
	}
	model, fresh, err := lstm.Resume(reader, cfg)
	if err != nil {
		return nil, store.Object{}, nil, fmt.Errorf("read checkpoint %s: %w", key, err)
	}
	if fresh != nil {
		log.WarnContext(ctx, "no usable LSTM checkpoint", "key", key, "reason", fresh.Error())
	} else {
		log.InfoContext(ctx, "resuming the LSTM from its checkpoint", "key", key, "etag", obj.ETag, "trained_through", model.LastDate().Format(time.DateOnly), "step", model.Step())
	}
	return model, obj, fresh, nil
}

// options turns the task input into a training run of the served model: the new dates, the
// mode, and a deadline that leaves time to save.
func (h *Handler) options(ctx context.Context, in pipeline.TaskInput) (lstm.TrainOptions, error) {
	opts := lstm.TrainOptions{Mode: cmp.Or(in.Mode, training.FineTune), Policy: h.Policy}
	var err error
	if in.NewFrom != "" {
		if opts.Since, err = time.Parse(time.DateOnly, in.NewFrom); err != nil {
			return opts, err
		}
	}
	if in.NewTo != "" {
		if opts.Until, err = time.Parse(time.DateOnly, in.NewTo); err != nil {
			return opts, err
		}
	}
	if deadline, ok := ctx.Deadline(); ok {
		opts.Deadline = deadline.Add(-h.SaveMargin)
	}
	return opts, nil
}

// progress logs each epoch of the named model and, if record is set, writes it to the job record
// about once a second.
func (h *Handler) progress(ctx context.Context, in pipeline.TaskInput, log *slog.Logger, name string, record bool) func(lstm.Epoch) {
	var last time.Time
	return func(e lstm.Epoch) {
		message := fmt.Sprintf("%s epoch %d/%d - loss=%.5f - val_loss=%.5f", name, e.Epoch, e.Epochs, e.Loss, e.ValLoss)
		log.InfoContext(ctx, message, "epoch", e.Epoch, "epochs", e.Epochs, "loss", e.Loss, "val_loss", e.ValLoss)
		if !record || time.Since(last) < h.ProgressEvery && e.Epoch != e.Epochs {
			return
		}
		last = time.Now()
		if _, err := h.Jobs.Update(ctx, in.JobID, func(job *pipeline.Job) error {
			job.FineTune = &pipeline.FineTune{Status: pipeline.StatusRunning, Epoch: e.Epoch, Epochs: e.Epochs, Loss: e.Loss, ValLoss: e.ValLoss, Message: message}
			return nil
		}); err != nil {
			log.WarnContext(ctx, "could not record training progress", "error", err)
		}
	}
}

// save writes a checkpoint if the one it continued from (or replaces) is still current.
func (h *Handler) save(ctx context.Context, key string, model *lstm.Model, etag string) (_ store.Object, err error) {
	ctx, end := platform.Trace(ctx, "save-checkpoint")
	defer func() { end(err) }()
	opts := store.ConditionFor(etag)
	opts.ContentType = "application/octet-stream"
	obj, err := store.PutFrom(ctx, h.Store, key, opts, func(w io.Writer) error {
		_, err := model.WriteTo(w)
		return err
	})
	if errors.Is(err, store.ErrPreconditionFailed) {
		return store.Object{}, &pipeline.CheckpointChanged{Key: key, Want: etag}
	}
	return obj, err
}
