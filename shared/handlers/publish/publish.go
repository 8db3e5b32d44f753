// Package publish is the PublishFunction's handler: the training state machine's last state,
// which writes models/manifest.json (or, in failure mode, marks the job failed).
package publish

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/stockcast/stockcast/shared/handlers/task"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/platform"
	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/store"
)

// Handler is the last state of the training state machine. With training results it writes
// models/manifest.json, the pointer the forecast API watches, and marks the job succeeded; in
// failure mode (its input carries the error) it marks the job failed and leaves the manifest
// alone, so the previous model keeps serving.
type Handler struct {
	Store  store.Store
	Jobs   *pipeline.Jobs
	Queue  *pipeline.Queue
	Logger *slog.Logger
	Now    func() time.Time
	// MaxAttempts bounds the retries of a manifest write that loses a race.
	MaxAttempts int
}

// New returns the publish handler over s.
func New(s store.Store, logger *slog.Logger) *Handler {
	return &Handler{Store: s, Jobs: pipeline.NewJobs(s), Queue: pipeline.NewQueue(s), Logger: logger, Now: time.Now, MaxAttempts: 8}
}

// Handle publishes the trained models, or records the failure that stopped training.
func (h *Handler) Handle(ctx context.Context, in pipeline.PublishInput) (pipeline.PublishOutput, error) {
	ctx, end := platform.Trace(ctx, "publish")
	out, err := h.handle(ctx, in)
	end(err)
	return out, err
}

func (h *Handler) handle(ctx context.Context, in pipeline.PublishInput) (pipeline.PublishOutput, error) {
	if err := task.Check("publish", in.TaskInput, h.Store); err != nil {
		return pipeline.PublishOutput{}, err
	}
	log := h.Logger.With("job_id", in.JobID)
	if in.Error != nil {
		return h.fail(ctx, in, log)
	}
	if in.Results == nil {
		return pipeline.PublishOutput{}, errors.New("publish: the input has neither training results nor an error")
	}
	index, err := pipeline.DatasetIndex(ctx, h.Store, in.TaskInput)
	if err != nil {
		return pipeline.PublishOutput{}, fmt.Errorf("publish: %w", err)
	}
	out, err := store.RetryConflicts(ctx, h.MaxAttempts, func(int) (pipeline.PublishOutput, error) {
		return h.publish(ctx, in, index, log)
	})
	if errors.Is(err, store.ErrPreconditionFailed) {
		return pipeline.PublishOutput{}, fmt.Errorf("publish: manifest: %w", err)
	}
	if err != nil {
		return out, err
	}
	return h.finish(ctx, in, out, log)
}

func (h *Handler) publish(ctx context.Context, in pipeline.PublishInput, index shards.Index, log *slog.Logger) (pipeline.PublishOutput, error) {
	current, obj, err := pipeline.ReadManifest(ctx, h.Store)
	var damaged *pipeline.Damaged
	switch {
	case errors.Is(err, pipeline.ErrDamagedManifest):
		// Not a reason to stop publishing: the new manifest replaces exactly this object (If-Match
		// on its ETag), which the bucket keeps as an older version; the newest readable version
		// stands in for it in the checks below.
		damaged = &pipeline.Damaged{VersionID: obj.VersionID, ETag: obj.ETag, Error: err.Error()}
		log.WarnContext(ctx, "the current manifest is damaged; replacing it", "etag", obj.ETag, "version_id", obj.VersionID, "error", err)
		readable, _, _, findErr := pipeline.NewestReadableManifest(ctx, h.Store, func(*pipeline.Manifest, store.Object) error { return nil })
		if findErr != nil && !errors.Is(findErr, pipeline.ErrNoManifest) {
			log.WarnContext(ctx, "no older manifest version is readable either", "error", findErr)
		}
		current = readable
	case err != nil && !errors.Is(err, pipeline.ErrNoManifest):
		return pipeline.PublishOutput{}, err
	}
	if current != nil && current.Dataset.Written.After(in.DatasetWritten) {
		log.InfoContext(ctx, "a model of a newer dataset is already published; keeping it", "published", current.Version)
		if _, err := h.Jobs.Update(ctx, in.JobID, func(job *pipeline.Job) error {
			job.Status, job.Stage = pipeline.StatusSuperseded, "done"
			job.Publish = &pipeline.Publish{Status: pipeline.StatusSuperseded, Version: current.Version}
			return nil
		}); err != nil {
			return pipeline.PublishOutput{}, err
		}
		return pipeline.PublishOutput{JobID: in.JobID, Status: pipeline.StatusSuperseded, Version: current.Version, ManifestETag: obj.ETag}, nil
	}
	refit, finetune := in.Results.Refit, in.Results.FineTune
	manifest := &pipeline.Manifest{
		Format:  pipeline.ManifestFormat,
		Version: in.JobID,
		Created: h.Now().UTC(),
		JobID:   in.JobID,
		Dataset: pipeline.Dataset{
			Key: in.DatasetKey, ETag: in.DatasetETag, VersionID: in.DatasetVersionID, Rows: refit.Rows,
			FirstDate: refit.FirstDate, LastDate: refit.LastDate, Written: in.DatasetWritten,
		},
		LSTM:   pipeline.Artifact{Key: finetune.CheckpointKey, ETag: finetune.CheckpointETag, VersionID: finetune.VersionID},
		Groups: refit.Groups,
		Metrics: pipeline.Metrics{
			Series: refit.Series, Fallbacks: refit.Fallbacks, FailedSeries: refit.Failed, FitMS: refit.FitMS, Backtest: refit.Backtest,
			Mode: finetune.Mode, Epochs: finetune.Epochs, Loss: finetune.Loss, ValLoss: finetune.ValLoss, Windows: finetune.Windows,
		},
	}
	if manifest.Shards, manifest.Metrics.FailedShards, err = shardModels(index, refit.Shards); err != nil {
		return pipeline.PublishOutput{}, err
	}
	if current != nil {
		manifest.Previous = current.Version
	}
	manifest.Replaced = damaged
	written, err := pipeline.WriteManifest(ctx, h.Store, manifest, obj.ETag)
	if err != nil {
		return pipeline.PublishOutput{}, err
	}
	if _, err := h.Jobs.Update(ctx, in.JobID, func(job *pipeline.Job) error {
		job.Status, job.Stage, job.Error = pipeline.StatusSucceeded, "done", ""
		job.Publish = &pipeline.Publish{Status: pipeline.StatusSucceeded, Version: manifest.Version, ManifestETag: written.ETag}
		return nil
	}); err != nil {
		return pipeline.PublishOutput{}, err
	}
	log.InfoContext(ctx, "model published", "version", manifest.Version, "manifest_etag", written.ETag, "previous", manifest.Previous,
		"shards", len(manifest.Shards), "failed_shards", manifest.Metrics.FailedShards)
	return pipeline.PublishOutput{JobID: in.JobID, Status: pipeline.StatusSucceeded, Version: manifest.Version, ManifestETag: written.ETag}, nil
}

// shardModels are the manifest's shards: each shard's entry of the dataset index with the
// artifacts its refit wrote, and the shards whose refit failed (no trend models: the API fits
// their series on demand).
func shardModels(index shards.Index, results []pipeline.ShardRefitOutput) ([]pipeline.ShardModel, []int, error) {
	if len(results) != len(index) {
		return nil, nil, fmt.Errorf("publish: the refit has %d shard results for the %d shards of the dataset index", len(results), len(index))
	}
	out := make([]pipeline.ShardModel, len(index))
	var failed []int
	for k, sh := range index {
		r := results[k]
		if r.Shard != sh.Shard || r.Of != sh.Of {
			return nil, nil, fmt.Errorf("publish: refit result %d is of shard %d of %d, the index's is %d of %d", k, r.Shard, r.Of, sh.Shard, sh.Of)
		}
		out[k] = pipeline.ShardModel{Data: sh, Trend: r.Trend, Selection: r.Selection}
		if r.Trend.Key == "" {
			failed = append(failed, sh.Shard)
		}
	}
	return out, failed, nil
}

// finish ends the jobs this run covered — superseded by the model that holds their rows — and
// hands the state machine the next training, for the uploads merged meanwhile.
func (h *Handler) finish(ctx context.Context, in pipeline.PublishInput, out pipeline.PublishOutput, log *slog.Logger) (pipeline.PublishOutput, error) {
	for _, id := range in.Covers {
		if _, err := h.Jobs.Update(ctx, id, func(job *pipeline.Job) error {
			job.Status, job.Stage, job.Error, job.SupersededBy = pipeline.StatusSuperseded, "done", "", in.JobID
			job.Publish = &pipeline.Publish{Status: pipeline.StatusSuperseded, Version: out.Version, ManifestETag: out.ManifestETag}
			return nil
		}); err != nil {
			return pipeline.PublishOutput{}, err
		}
	}
	next, err := h.Queue.Finish(ctx, in.TaskInput, false, h.Jobs)
	if err != nil {
		return pipeline.PublishOutput{}, err
	}
	if next != nil {
		log.InfoContext(ctx, "uploads were merged while this model trained: training the latest dataset next", "next_job_id", next.JobID, "covers", next.Covers)
	}
	out.Next = next
	return out, nil
}

// fail records why training failed; the manifest, and so the served model, stay as they were.
// When uploads were merged meanwhile (the usual cause of DatasetChanged), the next training holds
// this run's rows too: its jobs wait for it instead of failing.
func (h *Handler) fail(ctx context.Context, in pipeline.PublishInput, log *slog.Logger) (pipeline.PublishOutput, error) {
	reason := describeTaskError(in.Error)
	next, err := h.Queue.Finish(ctx, in.TaskInput, true, h.Jobs)
	if err != nil {
		return pipeline.PublishOutput{}, err
	}
	for _, id := range append([]string{in.JobID}, in.Covers...) {
		if _, err := h.Jobs.Update(ctx, id, func(job *pipeline.Job) error {
			if next != nil {
				job.Status, job.Stage, job.Error = pipeline.StatusTraining, "queued", ""
				job.Publish = nil
				return nil
			}
			job.Status, job.Error = pipeline.StatusFailed, reason
			job.Publish = &pipeline.Publish{Status: pipeline.StatusFailed}
			return nil
		}); err != nil {
			return pipeline.PublishOutput{}, err
		}
	}
	if next != nil {
		log.WarnContext(ctx, "training stopped; the next training, of the latest dataset, holds these rows too", "error", reason, "next_job_id", next.JobID)
		return pipeline.PublishOutput{JobID: in.JobID, Status: pipeline.StatusTraining, Next: next}, nil
	}
	log.ErrorContext(ctx, "training failed; the previous model keeps serving", "error", reason)
	return pipeline.PublishOutput{JobID: in.JobID, Status: pipeline.StatusFailed}, nil
}

// describeTaskError turns Step Functions' {Error, Cause} into one line; the cause of a Lambda
// error is its JSON error payload, whose message is what a person wants to read.
func describeTaskError(e *pipeline.TaskError) string {
	var payload struct {
		Message string `json:"errorMessage"`
	}
	if json.Unmarshal([]byte(e.Cause), &payload) == nil && payload.Message != "" {
		return e.Error + ": " + payload.Message
	}
	if e.Cause == "" {
		return e.Error
	}
	return e.Error + ": " + e.Cause
}
