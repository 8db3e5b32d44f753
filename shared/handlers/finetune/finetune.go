// Package finetune is the FineTuneFunction's handler: the training state machine's task that
// continues training the global LSTM from its checkpoint in S3.
package finetune

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/stockcast/stockcast/shared/handlers/task"
	"github.com/stockcast/stockcast/shared/lstm"
	"github.com/stockcast/stockcast/shared/lstminput"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/platform"
	"github.com/stockcast/stockcast/shared/store"
	"github.com/stockcast/stockcast/shared/training"
)

// Handler is the fine-tune task of the training state machine: it continues training the global
// LSTM from its checkpoint (models/lstm/checkpoint.bin) on what the merged upload brought, or
// trains it from scratch when there is no usable checkpoint, and writes the new checkpoint only if
// nobody else wrote one meanwhile.
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
	table, err := task.LoadTable(ctx, h.Store, in)
	if err != nil {
		return pipeline.FineTuneOutput{}, err
	}
	cfg := h.Config
	if h.Covariates {
		cfg.Covariates = table.Covariates()
	}
	data, err := lstminput.Standard(table, cfg.Covariates)
	if err != nil {
		return pipeline.FineTuneOutput{}, err
	}
	model, checkpoint, err := h.resume(ctx, cfg, log)
	if err != nil {
		return pipeline.FineTuneOutput{}, err
	}
	opts, err := h.options(ctx, in, log)
	if err != nil {
		return pipeline.FineTuneOutput{}, err
	}
	trainCtx, end := platform.Trace(ctx, "train")
	report, err := model.Train(trainCtx, data, opts)
	end(err)
	if err != nil {
		return pipeline.FineTuneOutput{}, fmt.Errorf("train the LSTM: %w", err)
	}
	log.InfoContext(ctx, "LSTM trained", "mode", report.Mode, "reason", report.Reason, "epochs", report.Epochs,
		"windows", report.Windows, "loss", report.Loss, "val_loss", report.ValLoss, "stop", report.Stop,
		"new_series", len(report.NewSeries))
	saved := checkpoint
	if report.Stop != lstm.StopNoNewData || checkpoint.ETag == "" {
		if saved, err = h.save(ctx, model, checkpoint.ETag); err != nil {
			return pipeline.FineTuneOutput{}, err
		}
	}
	out := pipeline.FineTuneOutput{
		CheckpointKey: pipeline.CheckpointKey, CheckpointETag: saved.ETag, VersionID: saved.VersionID,
		Mode: report.Mode, Epochs: report.Epochs, Loss: report.Loss, ValLoss: report.ValLoss, Windows: report.Windows,
	}
	_, err = h.Jobs.Update(ctx, in.JobID, func(job *pipeline.Job) error {
		job.FineTune = &pipeline.FineTune{
			Status: pipeline.StatusSucceeded, Mode: out.Mode, Epoch: report.Epochs, Epochs: report.MaxEpochs,
			Loss: report.Loss, ValLoss: report.ValLoss, Windows: report.Windows,
			Message: fmt.Sprintf("LSTM %s: %d epochs, stopped: %s (%s)", report.Mode, report.Epochs, report.Stop, report.Reason),
		}
		return nil
	})
	return out, err
}

// resume loads the checkpoint, or starts a new model and says why.
func (h *Handler) resume(ctx context.Context, cfg lstm.Config, log *slog.Logger) (_ *lstm.Model, _ store.Object, err error) {
	ctx, end := platform.Trace(ctx, "load-checkpoint")
	defer func() { end(err) }()
	body, obj, err := h.Store.Get(ctx, pipeline.CheckpointKey, store.GetOptions{})
	var reader io.Reader
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, store.Object{}, err
	default:
		defer body.Close()
		reader = body
	}
	model, fresh, err := lstm.Resume(reader, cfg)
	if err != nil {
		return nil, store.Object{}, fmt.Errorf("read checkpoint %s: %w", pipeline.CheckpointKey, err)
	}
	if fresh != nil {
		log.WarnContext(ctx, "training the LSTM from scratch", "reason", fresh.Error())
	} else {
		log.InfoContext(ctx, "resuming the LSTM from its checkpoint", "etag", obj.ETag, "trained_through", model.LastDate().Format(time.DateOnly), "step", model.Step())
	}
	return model, obj, nil
}

// options turns the task input into a training run: the new dates, the mode, a deadline that
// leaves time to save, and progress written to the job record about once a second.
func (h *Handler) options(ctx context.Context, in pipeline.TaskInput, log *slog.Logger) (lstm.TrainOptions, error) {
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
	var last time.Time
	opts.Progress = func(e lstm.Epoch) {
		message := fmt.Sprintf("LSTM epoch %d/%d - loss=%.5f - val_loss=%.5f", e.Epoch, e.Epochs, e.Loss, e.ValLoss)
		log.InfoContext(ctx, message, "epoch", e.Epoch, "epochs", e.Epochs, "loss", e.Loss, "val_loss", e.ValLoss)
		if time.Since(last) < h.ProgressEvery && e.Epoch != e.Epochs {
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
	return opts, nil
}

// save writes the checkpoint if the one it continued from is still current.
func (h *Handler) save(ctx context.Context, model *lstm.Model, etag string) (_ store.Object, err error) {
	ctx, end := platform.Trace(ctx, "save-checkpoint")
	defer func() { end(err) }()
	opts := store.ConditionFor(etag)
	opts.ContentType = "application/octet-stream"
	obj, err := store.PutFrom(ctx, h.Store, pipeline.CheckpointKey, opts, func(w io.Writer) error {
		_, err := model.WriteTo(w)
		return err
	})
	if errors.Is(err, store.ErrPreconditionFailed) {
		return store.Object{}, &pipeline.CheckpointChanged{Key: pipeline.CheckpointKey, Want: etag}
	}
	return obj, err
}
