// Package merge is the MergeFunction's handler: S3 ObjectCreated events on uploads/*.csv are
// validated, merged into the sharded dataset (the parts they touch, then data/index.json; or
// refused and kept under rejected/ with the reasons) and start the training state machine; a scheduled sweep event closes the jobs of
// merges that died and has the dataset trained when nothing covers it. It takes AWS event types
// and interfaces (store.Store, Starter), so functions/merge only wires real dependencies into it,
// and the local stack and the tests run this same handler in process.
package merge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stockcast/stockcast/shared/dataset"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/platform"
	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/store"
	"github.com/stockcast/stockcast/shared/training"
)

// Config tunes the merge step.
type Config struct {
	// MaxUploadBytes refuses larger uploads (they are kept under rejected/).
	MaxUploadBytes int64
	// MaxAttempts bounds how often a merge is redone after losing a race for the dataset.
	MaxAttempts int
	// MaxProblems caps the bad lines listed in a refusal report (the total is always given).
	MaxProblems int
	// Limits bound an upload's columns, fields and dates (Today is set at each merge).
	Limits dataset.Limits
	// DeadAfter is how long a job may stay running without an update before the next merge takes
	// its attempt as dead: longer than the function's timeout, after which Lambda has stopped it.
	DeadAfter time.Duration
	// ShardMaxRows is how many rows a shard holds on average before the dataset doubles its
	// shard count (shards.CountFor); 0 or less never reshards.
	ShardMaxRows int
	// PartWriters bounds the dataset parts a merge writes at once.
	PartWriters int
	// ReshardMargin is the time of the invocation a resharding leaves to the rest of the merge
	// (moving the upload, recording the job, starting the training): a resharding that would
	// take longer is abandoned, uncommitted, and the next merge tries again.
	ReshardMargin time.Duration
}

// DefaultConfig allows 64 MiB uploads, 8 attempts, 100 listed problems and dataset's default
// limits, takes a job running for 6 minutes without news (the function's timeout is 5) as a
// dead attempt's, keeps shards.DefaultMaxRows rows a shard, writes 8 parts at once and leaves a
// resharding all of the invocation's time but 30 seconds.
func DefaultConfig() Config {
	return Config{MaxUploadBytes: 64 << 20, MaxAttempts: 8, MaxProblems: dataset.DefaultMaxProblems, Limits: dataset.DefaultLimits(),
		DeadAfter: 6 * time.Minute, ShardMaxRows: shards.DefaultMaxRows, PartWriters: 8, ReshardMargin: 30 * time.Second}
}

// ConfigFromEnv reads MAX_UPLOAD_BYTES, MAX_NEW_COLUMNS, MAX_COLUMNS, MAX_FIELD_BYTES,
// MIN_DATE (YYYY-MM-DD), MAX_DAYS_AHEAD and MERGE_SHARD_MAX_ROWS over the defaults; a negative
// count turns that limit off.
func ConfigFromEnv(env *platform.Env) Config {
	c := DefaultConfig()
	c.MaxUploadBytes = env.Int64("MAX_UPLOAD_BYTES", c.MaxUploadBytes)
	c.ShardMaxRows = int(env.Int64("MERGE_SHARD_MAX_ROWS", int64(c.ShardMaxRows)))
	c.Limits.MaxNewColumns = int(env.Int64("MAX_NEW_COLUMNS", int64(c.Limits.MaxNewColumns)))
	c.Limits.MaxColumns = int(env.Int64("MAX_COLUMNS", int64(c.Limits.MaxColumns)))
	c.Limits.MaxFieldBytes = int(env.Int64("MAX_FIELD_BYTES", int64(c.Limits.MaxFieldBytes)))
	c.Limits.MinDate = env.Date("MIN_DATE", c.Limits.MinDate)
	c.Limits.MaxDaysAhead = int(env.Int64("MAX_DAYS_AHEAD", int64(c.Limits.MaxDaysAhead)))
	return c
}

// Starter starts the training state machine for a job. Starting a job that was already started
// is a success that starts nothing.
type Starter interface {
	Start(ctx context.Context, in pipeline.TaskInput) (execution string, err error)
}

// Handler folds CSV uploads into the dataset: it is the handler of S3 ObjectCreated events on
// uploads/*.csv and of the merge function's schedule.
type Handler struct {
	Store   store.Store
	Jobs    *pipeline.Jobs
	Queue   *pipeline.Queue
	Starter Starter
	Logger  *slog.Logger
	Config  Config
	Now     func() time.Time
	// Fault, when set, is called at each FaultPoint; an error it returns stops the invocation
	// there, as a crash would (tests of the crash windows).
	Fault func(point FaultPoint) error
}

// FaultPoint names a point between two writes of a merge, where a crash leaves the work half done.
type FaultPoint string

// The merge's crash windows: after the parts of the dataset were written and before the index
// that commits them (of a merge, or of a resharding), after the index, …
const (
	AfterPartWrites   FaultPoint = "after_part_writes"
	AfterDatasetWrite FaultPoint = "after_dataset_write"
	AfterMove         FaultPoint = "after_move"
	AfterJobUpdate    FaultPoint = "after_job_update"
	AfterStart        FaultPoint = "after_start_execution"
)

// FaultPoints lists the crash windows in the order a merge passes them.
var FaultPoints = []FaultPoint{AfterPartWrites, AfterDatasetWrite, AfterMove, AfterJobUpdate, AfterStart}

func (h *Handler) fault(point FaultPoint) error {
	if h.Fault == nil {
		return nil
	}
	if err := h.Fault(point); err != nil {
		return &faultError{point: point, err: err}
	}
	return nil
}

// faultError is the crash that Fault staged at a point.
type faultError struct {
	point FaultPoint
	err   error
}

func (e *faultError) Error() string { return fmt.Sprintf("fault at %s: %v", e.point, e.err) }
func (e *faultError) Unwrap() error { return e.err }

// New returns the merge handler over s with the default configuration.
func New(s store.Store, starter Starter, logger *slog.Logger) *Handler {
	return &Handler{Store: s, Jobs: pipeline.NewJobs(s), Queue: pipeline.NewQueue(s), Starter: starter, Logger: logger,
		Config: DefaultConfig(), Now: time.Now}
}

// Event is what the merge function is invoked with: S3's object-created records, or SweepEvent
// from its schedule.
type Event struct {
	events.S3Event
	// Sweep asks for the sweep alone (Sweep).
	Sweep bool `json:"sweep,omitempty"`
}

// SweepEvent is the event of the merge function's schedule (template.yaml's Sweep) and of the
// local stack's ticker.
const SweepEvent = `{"sweep": true}`

// HandleEvent is the merge function's entry point: a sweep event sweeps, an S3 event is merged.
func (h *Handler) HandleEvent(ctx context.Context, event Event) error {
	if event.Sweep {
		return h.Sweep(ctx)
	}
	return h.Handle(ctx, event.S3Event)
}

// Sweep does, with no upload, what every merge does besides merging, so that nothing waits for
// an upload that may never come: it closes the jobs of merge attempts that died
// (closeDeadJobs: no job stays running much past the function's timeout) and checks that the
// current dataset is trained (trainCurrent), leaving a training that failed to a retry, the next
// upload or a restart, rather than failing it again at every sweep.
func (h *Handler) Sweep(ctx context.Context) error {
	if err := h.closeDeadJobs(ctx, ""); err != nil {
		return fmt.Errorf("sweep: close the jobs of dead merge attempts: %w", err)
	}
	if err := h.trainCurrent(ctx, false); err != nil {
		return fmt.Errorf("sweep: train the current dataset: %w", err)
	}
	return nil
}

// Handle processes every record of the event. A record that fails for a reason worth retrying
// (S3 or Step Functions unavailable, the dataset contended beyond the retry budget) makes the
// invocation fail, so Lambda retries it; retries are safe because every step is idempotent.
func (h *Handler) Handle(ctx context.Context, event events.S3Event) error {
	var errs []error
	for _, record := range event.Records {
		if err := h.record(ctx, record); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (h *Handler) record(ctx context.Context, record events.S3EventRecord) error {
	key, err := url.QueryUnescape(record.S3.Object.Key)
	if err != nil {
		h.Logger.WarnContext(ctx, "skipping an event whose key is not URL-encoded", "key", record.S3.Object.Key, "error", err)
		return nil
	}
	log := h.Logger.With("bucket", record.S3.Bucket.Name, "key", key)
	if record.S3.Bucket.Name != h.Store.Bucket() {
		log.WarnContext(ctx, "skipping an event from another bucket", "expected_bucket", h.Store.Bucket())
		return nil
	}
	name, ok := pipeline.UploadName(key)
	if !ok {
		log.InfoContext(ctx, "skipping a key that is not a .csv file under uploads/ (any case of .csv is taken)")
		return nil
	}
	u := upload{
		name:  name,
		key:   key,
		etag:  record.S3.Object.ETag,
		jobID: h.jobID(ctx, record, key, name),
		log:   log,
	}
	u.log = log.With("job_id", u.jobID)
	if err := h.closeDeadJobs(ctx, u.jobID); err != nil {
		u.log.WarnContext(ctx, "could not close the jobs of dead merge attempts; the next merge tries again", "error", err)
	}
	if err := h.merge(ctx, &u); err != nil {
		u.log.ErrorContext(ctx, "merge failed; the upload stays in uploads/ for a retry", "error", err)
		return fmt.Errorf("merge %s: %w", key, err)
	}
	return nil
}

// jobID names an upload's job: the id the API announced when it presigned the upload
// (pipeline.JobIDMetadata), else one derived from the event, so that a duplicate delivery of the
// event finds its job either way.
func (h *Handler) jobID(ctx context.Context, record events.S3EventRecord, key, name string) string {
	if id := h.announcedJobID(ctx, key, name, record.S3.Object.ETag); id != "" {
		return id
	}
	return pipeline.JobID(record.S3.Bucket.Name, key, record.S3.Object.ETag, record.S3.Object.Sequencer)
}

// announcedJobID reads the job id an upload was presigned with: from the upload or, when an
// earlier delivery of the event has moved it already, from where it went — today's or
// yesterday's processed/ folder (Lambda redelivers within hours: a retry may cross midnight), or
// rejected/ — (a copy keeps its metadata; there it must be the event's content). An id that a
// job of other content already has is not taken: the presigned URL was used twice. Any failure
// to read means no id: the merge then reports it when it reads the upload.
func (h *Handler) announcedJobID(ctx context.Context, key, name, etag string) string {
	now := h.Now()
	for _, candidate := range []string{key, pipeline.ProcessedKey(name, now), pipeline.ProcessedKey(name, now.AddDate(0, 0, -1)), pipeline.RejectedKey(name)} {
		obj, err := h.Store.Head(ctx, candidate)
		if err != nil || (candidate != key && (etag == "" || !store.SameETag(obj.ETag, etag))) {
			continue
		}
		id := obj.Metadata[pipeline.JobIDMetadata]
		if !pipeline.IsJobIDFor(id, key) {
			return ""
		}
		if job, err := h.Jobs.Get(ctx, id); err == nil && job.Upload.ETag != "" && !store.SameETag(job.Upload.ETag, obj.ETag) {
			return ""
		}
		return id
	}
	return ""
}

// upload is one upload being merged.
type upload struct {
	name, key, etag, jobID string
	log                    *slog.Logger
	obj                    store.Object
}

func (h *Handler) merge(ctx context.Context, u *upload) (err error) {
	ctx, end := platform.Trace(ctx, "merge")
	defer func() { end(err) }()
	started := h.Now()
	if done, err := h.alreadyHandled(ctx, u); done || err != nil {
		return err
	}
	if err := h.read(ctx, u); err != nil {
		if errors.Is(err, errGone) {
			return h.afterGone(ctx, u)
		}
		return err
	}
	if _, err := h.Jobs.Update(ctx, u.jobID, func(job *pipeline.Job) error {
		job.Status, job.Stage = pipeline.StatusRunning, "merge"
		job.Upload = pipeline.Upload{Bucket: h.Store.Bucket(), Key: u.key, ETag: u.obj.ETag, Size: u.obj.Size}
		return nil
	}); err != nil {
		return err
	}
	if processed := pipeline.ProcessedKey(u.name, h.Now()); len(processed) > pipeline.MaxKeyBytes {
		short := pipeline.ShortName(u.name)
		u.log.WarnContext(ctx, "the upload's name is too long to be moved; refusing it under a shortened name", "bytes", len(u.key), "name", short)
		problem := dataset.Problem{Value: u.name, Reason: fmt.Sprintf(
			"the upload's key is %d bytes: moved to %s it would be %d, and S3 keys are at most %d bytes; upload it under a name of at most %d bytes (kept here as %s)",
			len(u.key), pipeline.ProcessedPrefix, len(processed), pipeline.MaxKeyBytes, len(u.name)-(len(processed)-pipeline.MaxKeyBytes), short)}
		u.name = short
		return h.reject(ctx, u, &dataset.ValidationError{Total: 1, Problems: []dataset.Problem{problem}})
	}
	if u.obj.Size > h.Config.MaxUploadBytes {
		return h.reject(ctx, u, &dataset.ValidationError{Total: 1, Problems: []dataset.Problem{{
			Reason: fmt.Sprintf("the upload is %d bytes; the limit is %d bytes (MAX_UPLOAD_BYTES)", u.obj.Size, h.Config.MaxUploadBytes),
		}}})
	}
	result, err := h.mergeWithRetries(ctx, u)
	var invalid *dataset.ValidationError
	if errors.As(err, &invalid) {
		return h.reject(ctx, u, invalid)
	}
	if err != nil {
		return err
	}
	result.report.DurationMS = h.Now().Sub(started).Milliseconds()
	return h.accept(ctx, u, result)
}

// alreadyHandled recognises a duplicate delivery of an event whose upload was merged or refused
// already: it only makes sure that the dataset is trained (the invariant: every dataset version
// the merge wrote is trained and published, or superseded by a newer one that is).
func (h *Handler) alreadyHandled(ctx context.Context, u *upload) (bool, error) {
	job, err := h.Jobs.Get(ctx, u.jobID)
	if errors.Is(err, pipeline.ErrJobNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	switch {
	case unmerged(job):
		return false, nil // an earlier attempt stopped half-way: every step is safe to redo
	case job.Status == pipeline.StatusRejected:
		u.log.InfoContext(ctx, "duplicate event: this upload was refused already; checking that the dataset is trained")
		return true, h.trainCurrent(ctx, true)
	}
	u.log.InfoContext(ctx, "duplicate event: this upload was merged already; checking that its dataset is trained", "status", job.Status)
	return true, h.train(ctx, u, job.Merge)
}

// afterGone handles an event whose upload is no longer in uploads/: moved by an earlier attempt
// of this job that stopped before recording it (the rows are in the dataset: train it), or by
// another job, or deleted.
func (h *Handler) afterGone(ctx context.Context, u *upload) error {
	job, err := h.Jobs.Get(ctx, u.jobID)
	if errors.Is(err, pipeline.ErrJobNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if job.Status != pipeline.StatusRunning {
		return h.train(ctx, u, job.Merge)
	}
	u.log.WarnContext(ctx, "an earlier attempt merged and moved the upload, then stopped; training the dataset that holds its rows")
	return h.train(ctx, u, nil)
}

var errGone = errors.New("upload gone")

// read describes the upload; its content is streamed by each merge attempt (openUpload).
func (h *Handler) read(ctx context.Context, u *upload) (err error) {
	ctx, end := platform.Trace(ctx, "merge.read")
	defer func() { end(err) }()
	obj, err := h.Store.Head(ctx, u.key)
	if errors.Is(err, store.ErrNotFound) {
		u.log.InfoContext(ctx, "the upload is gone (moved by an earlier delivery of this event, or deleted)")
		return errGone
	}
	if err != nil {
		return err
	}
	if u.etag != "" && !store.SameETag(u.etag, obj.ETag) {
		// Overwritten since the event: merge what is there now (nothing is lost); the newer
		// upload's own event will then find it gone.
		u.log.InfoContext(ctx, "the upload was overwritten after this event; merging its current content", "event_etag", u.etag, "etag", obj.ETag)
	}
	u.obj = obj
	return nil
}

// openUpload streams exactly the upload that read described (by version where the bucket keeps
// versions), never more than the size limit: parsing holds the rows, not the file.
func (h *Handler) openUpload(u *upload) dataset.Opener {
	return func(ctx context.Context) (io.ReadCloser, error) {
		body, _, err := h.Store.Get(ctx, u.key, store.GetOptions{VersionID: u.obj.VersionID, IfMatch: u.obj.ETag})
		if err != nil {
			return nil, fmt.Errorf("read upload: %w", err)
		}
		return struct {
			io.Reader
			io.Closer
		}{io.LimitReader(body, h.Config.MaxUploadBytes), body}, nil
	}
}

type mergeResult struct {
	report    pipeline.MergeReport
	changed   bool
	reordered bool
}

// mergeWithRetries merges the upload into the dataset, committing it only if nobody else did
// meanwhile; on a lost race it starts again from the fresh dataset. It then reshards the dataset
// if its rows call for more shards.
func (h *Handler) mergeWithRetries(ctx context.Context, u *upload) (mergeResult, error) {
	result, err := store.RetryConflicts(ctx, h.Config.MaxAttempts, func(attempt int) (mergeResult, error) {
		if attempt > 1 {
			u.log.InfoContext(ctx, "the dataset changed while merging; merging again", "attempt", attempt)
		}
		result, err := h.mergeOnce(ctx, u)
		result.report.Attempts = attempt
		return result, err
	})
	if err != nil {
		return mergeResult{}, fmt.Errorf("merge into the dataset: %w", err)
	}
	// A resharding rewrites the whole dataset: it gets the invocation's time but ReshardMargin,
	// which the upload's move, its job record and the training's start need.
	reshardCtx := ctx
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		reshardCtx, cancel = context.WithDeadline(ctx, deadline.Add(-h.Config.ReshardMargin))
		defer cancel()
	}
	resharded, err := h.reshard(reshardCtx, u.log)
	var crash *faultError
	switch {
	case errors.As(err, &crash):
		return mergeResult{}, err
	case err != nil:
		// The merge is committed; the next merge reshards.
		u.log.WarnContext(ctx, "the dataset could not be resharded; the next merge tries again", "error", err)
	case resharded != nil:
		r := &result.report
		r.Shards, r.ReshardedFrom, r.Touched = resharded.Shards, resharded.ReshardedFrom, nil
		r.PartsWritten += resharded.PartsWritten
		r.BytesWritten += resharded.BytesWritten
		r.DatasetETag, r.DatasetVersionID, r.Written = resharded.DatasetETag, resharded.DatasetVersionID, resharded.Written
		result.changed = true
	}
	return result, nil
}

func (h *Handler) mergeOnce(ctx context.Context, u *upload) (_ mergeResult, err error) {
	ctx, end := platform.Trace(ctx, "merge.dataset")
	defer func() { end(err) }()
	cur, err := pipeline.CurrentDataset(ctx, h.Store)
	if errors.Is(err, store.ErrNotFound) {
		cur = pipeline.Current{Index: shards.Index{{Shard: 0, Of: 1}}} // no dataset yet: the upload starts it
	} else if err != nil {
		return mergeResult{}, err
	}
	result, err := h.mergeShards(ctx, u, cur)
	if err != nil {
		return mergeResult{}, err
	}
	if err := h.fault(AfterDatasetWrite); err != nil {
		return mergeResult{}, err
	}
	if result.reordered {
		u.log.WarnContext(ctx, "the dataset was not sorted by (date, product_id): it was merged in memory and is sorted again")
	}
	return result, nil
}

// RejectionReport is what rejected/<name>.error.json holds.
type RejectionReport = pipeline.RejectionReport

// reject keeps the upload under rejected/ with its reasons and leaves the dataset alone; it then
// checks that the dataset is trained, as every merge does.
func (h *Handler) reject(ctx context.Context, u *upload, invalid *dataset.ValidationError) (err error) {
	ctx, end := platform.Trace(ctx, "merge.reject")
	defer func() { end(err) }()
	report, err := json.MarshalIndent(RejectionReport{
		Upload:     u.key,
		ETag:       u.obj.ETag,
		Size:       u.obj.Size,
		JobID:      u.jobID,
		RejectedAt: h.Now().UTC(),
		Error:      invalid.Error(),
		Total:      invalid.Total,
		Problems:   invalid.Problems,
	}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode rejection report: %w", err)
	}
	reportKey, movedTo := pipeline.RejectedReportKey(u.name), pipeline.RejectedKey(u.name)
	if _, err := h.Store.Put(ctx, reportKey, bytes.NewReader(report), store.PutOptions{ContentType: "application/json"}); err != nil {
		return err
	}
	if err := h.move(ctx, u.key, movedTo); err != nil {
		return err
	}
	if _, err := h.Jobs.Update(ctx, u.jobID, func(job *pipeline.Job) error {
		job.Status, job.Stage, job.Error = pipeline.StatusRejected, "merge", invalid.Error()
		job.Upload.MovedTo, job.Upload.Report = movedTo, reportKey
		return nil
	}); err != nil {
		return err
	}
	u.log.WarnContext(ctx, "upload refused; kept under rejected/ with its reasons", "reason", invalid.Error(), "problems", invalid.Total, "report", reportKey)
	return h.trainCurrent(ctx, true)
}

// accept moves the merged upload to processed/, records the merge and has the dataset trained.
func (h *Handler) accept(ctx context.Context, u *upload, result mergeResult) error {
	movedTo := pipeline.ProcessedKey(u.name, h.Now())
	if err := h.move(ctx, u.key, movedTo); err != nil {
		return err
	}
	if err := h.fault(AfterMove); err != nil {
		return err
	}
	job, err := h.Jobs.Update(ctx, u.jobID, func(job *pipeline.Job) error {
		if !result.changed && job.Merge != nil {
			return nil // a concurrent delivery of this event merged it: its report stands
		}
		report := result.report
		job.Merge, job.Upload.MovedTo = &report, movedTo
		job.Status, job.Stage = pipeline.StatusTraining, "train"
		if !result.changed {
			job.Status, job.Stage = pipeline.StatusUnchanged, "merge"
		}
		return nil
	})
	if err != nil {
		return err
	}
	u.log.InfoContext(ctx, "upload merged", "rows_before", result.report.RowsBefore, "rows_after", result.report.RowsAfter,
		"inserted", result.report.Inserted, "replaced", result.report.Replaced, "new_columns", result.report.NewColumns,
		"attempts", result.report.Attempts, "changed", result.changed, "shards", result.report.Shards, "touched", len(result.report.Touched),
		"resharded_from", result.report.ReshardedFrom, "parts_written", result.report.PartsWritten, "bytes_written", result.report.BytesWritten)
	if err := h.fault(AfterJobUpdate); err != nil {
		return err
	}
	if err := h.closeDeadAttempts(ctx, u); err != nil {
		return err
	}
	return h.train(ctx, u, job.Merge)
}

// closeDeadAttempts ends the records of earlier attempts at the same upload that died half-way
// (their process was killed): the merge function runs one invocation at a time, so another job
// of this upload still running now is no longer running anywhere.
func (h *Handler) closeDeadAttempts(ctx context.Context, u *upload) error {
	jobs, err := h.Jobs.List(ctx, pipeline.ListOptions{Upload: u.key, Limit: pipeline.MaxListLimit})
	if err != nil {
		return err
	}
	for _, other := range jobs {
		if other.ID == u.jobID || !unmerged(other) || !store.SameETag(other.Upload.ETag, u.obj.ETag) {
			continue
		}
		if _, err := h.Jobs.Update(ctx, other.ID, func(job *pipeline.Job) error {
			if unmerged(job) {
				job.Status, job.Stage, job.SupersededBy = pipeline.StatusSuperseded, "done", u.jobID
				job.Error = fmt.Sprintf("this attempt stopped before it finished; job %s merged the same upload", u.jobID)
			}
			return nil
		}); err != nil {
			return err
		}
		u.log.InfoContext(ctx, "closed the record of an attempt that died", "dead_job_id", other.ID)
	}
	return nil
}

// unmerged tells whether an attempt at the job stopped before it recorded its merge: it is still
// running, or closeDeadJobs closed it as failed when it died (Merge and MovedTo are recorded
// together).
func unmerged(job *pipeline.Job) bool {
	return job.Status == pipeline.StatusRunning || job.Status == pipeline.StatusFailed && job.Merge == nil && job.Upload.MovedTo == ""
}

// closeDeadJobs closes the jobs of merge attempts that died and that no later attempt at their
// upload closed (Lambda's retries of a merge that timed out were spent): a job other than current
// that is still running without an update for Config.DeadAfter, longer than the function's
// timeout, runs nowhere. If its upload is still in uploads/, the job fails with the reason, and a later
// delivery of its event merges the upload again; otherwise the attempt had merged and moved it,
// and the dataset, which holds its rows, is trained for the job.
func (h *Handler) closeDeadJobs(ctx context.Context, current string) error {
	jobs, err := h.Jobs.List(ctx, pipeline.ListOptions{Limit: pipeline.MaxListLimit})
	if err != nil {
		return err
	}
	dead := func(job *pipeline.Job) bool {
		return job.ID != current && job.Status == pipeline.StatusRunning && h.Now().Sub(job.Updated) >= h.Config.DeadAfter
	}
	for _, job := range jobs {
		if !dead(job) {
			continue
		}
		_, err := h.Store.Head(ctx, job.Upload.Key)
		if errors.Is(err, store.ErrNotFound) {
			if err := h.trainMoved(ctx, job); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		reason := fmt.Sprintf("the merge stopped before it finished (its invocation timed out or its process was killed) and was not retried within %s; "+
			"the upload is still in %s: it is merged when its event is delivered again, or upload it again", h.Config.DeadAfter, job.Upload.Key)
		if _, err := h.Jobs.Update(ctx, job.ID, func(job *pipeline.Job) error {
			if dead(job) {
				job.Status, job.Error = pipeline.StatusFailed, reason
			}
			return nil
		}); err != nil {
			return err
		}
		h.Logger.WarnContext(ctx, "closed the job of a merge attempt that died", "dead_job_id", job.ID, "upload", job.Upload.Key)
	}
	return nil
}

// trainMoved has the dataset trained for a job whose attempt moved its upload to processed/, then
// stopped before recording it: the dataset holds the upload's rows.
func (h *Handler) trainMoved(ctx context.Context, job *pipeline.Job) error {
	h.Logger.WarnContext(ctx, "an attempt moved its upload, then stopped: training the dataset that holds its rows", "job_id", job.ID)
	return h.trainJob(ctx, job)
}

// trainJob has the current dataset trained for a job recorded earlier, with the job's own upload
// and merge report (train).
func (h *Handler) trainJob(ctx context.Context, job *pipeline.Job) error {
	return h.train(ctx, &upload{key: job.Upload.Key, jobID: job.ID, log: h.Logger.With("job_id", job.ID)}, job.Merge)
}

// train has the current dataset trained for the job, unless the published model covers it: it
// starts a run, or queues the job behind the run in progress. A dataset of the single-file layout
// is indexed first (migrate). merged is the job's merge report
// (nil when an earlier attempt stopped before recording it).
func (h *Handler) train(ctx context.Context, u *upload, merged *pipeline.MergeReport) error {
	cur, err := h.migrate(ctx) // the training reads the index
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("the dataset to train: %w", err)
	}
	current := cur.Ref
	if err := h.abandonDeadRun(ctx); err != nil {
		return err
	}
	in := pipeline.TaskInput{
		Bucket: h.Store.Bucket(), DatasetKey: current.Key, DatasetETag: current.ETag, JobID: u.jobID,
		Mode: training.FineTune, DatasetWritten: current.Written,
		// The version id pins the dataset for training, whatever merges happen meanwhile.
		DatasetVersionID: current.VersionID,
	}
	if merged != nil {
		in.NewFrom, in.NewTo = merged.FirstDate, merged.LastDate
		if store.SameETag(merged.DatasetETag, current.ETag) {
			in.DatasetWritten = merged.Written // DatasetWritten orders dataset versions for the publish step
			// The shards this merge rewrote; any other merge since leaves them unknown (nil: all).
			in.Touched = merged.Touched
		}
	}
	// A failed job trains again: it is training from now on (publish ends it, even before this
	// handler returns). Records are written only when they change: a check that finds the
	// dataset trained, or training, leaves them as they are.
	open := false // the job must end with a run: it is not unchanged, nor ended
	if _, err := h.Jobs.Update(ctx, u.jobID, func(job *pipeline.Job) error {
		failed := job.Status == pipeline.StatusFailed
		if failed {
			job.Status, job.Stage, job.Error, job.Publish = pipeline.StatusTraining, "train", "", nil
		}
		open = job.Status == pipeline.StatusRunning || job.Status == pipeline.StatusTraining && job.Publish == nil
		if !failed {
			return pipeline.ErrUnchanged
		}
		return nil
	}); err != nil {
		return err
	}
	decision, err := h.request(ctx, in, open)
	if err != nil {
		return err
	}
	u.log.InfoContext(ctx, "training", "decision", decision.Action, "execution", decision.Execution, "version", decision.Version)
	switch {
	case decision.Action == pipeline.Running || decision.Execution == "" && decision.Action != pipeline.Covered:
		return nil // the run in progress trains this dataset, or training is not wired
	case decision.Action == pipeline.Covered:
		// The published model holds the rows: a job still open ends with it.
		_, err = h.Jobs.Update(ctx, u.jobID, func(job *pipeline.Job) error {
			if job.Status != pipeline.StatusTraining && job.Status != pipeline.StatusRunning {
				return pipeline.ErrUnchanged
			}
			job.Status, job.Stage, job.Error = pipeline.StatusSuperseded, "done", ""
			job.Publish = &pipeline.Publish{Status: pipeline.StatusSuperseded, Version: decision.Version}
			return nil
		})
		return err
	}
	stage := "train"
	if decision.Action == pipeline.Queued {
		stage = "queued"
	}
	_, err = h.Jobs.Update(ctx, u.jobID, func(job *pipeline.Job) error {
		if job.Publish != nil {
			return pipeline.ErrUnchanged // the run has ended already: publish recorded how
		}
		if job.Status == pipeline.StatusTraining && job.Stage == stage && job.Execution == decision.Execution && job.Error == "" {
			return pipeline.ErrUnchanged
		}
		job.Status, job.Stage, job.Execution, job.Error = pipeline.StatusTraining, stage, decision.Execution, ""
		return nil
	})
	return err
}

// maxJoinAttempts bounds how often a request is made again because the run it was to join ended.
const maxJoinAttempts = 3

// request asks the training queue to train in. A job that must end with a run (open) and whose
// rows are in the very version the run in progress trains joins that run, which then ends it.
func (h *Handler) request(ctx context.Context, in pipeline.TaskInput, open bool) (pipeline.Decision, error) {
	for range maxJoinAttempts {
		decision, err := h.Queue.Request(ctx, in, func(ctx context.Context, in pipeline.TaskInput) (string, error) {
			execution, err := h.Starter.Start(ctx, in)
			if err != nil {
				return "", err
			}
			return execution, h.fault(AfterStart)
		})
		if err != nil || decision.Action != pipeline.Running || !open {
			return decision, err
		}
		joined, err := h.Queue.Join(ctx, decision.Execution, in.JobID)
		if err != nil || joined {
			decision.Action = pipeline.Queued
			return decision, err
		}
	}
	return pipeline.Decision{}, fmt.Errorf("train the dataset for job %s: the runs in progress kept ending before it could join them", in.JobID)
}

// runningChecker is a Starter that can tell whether an execution still runs.
type runningChecker interface {
	Running(ctx context.Context, execution string) (bool, error)
}

// abandonDeadRun ends the claim of a training run whose execution is no longer running though
// it never finished (its process was killed, it timed out), so that the next request trains
// again, covering the run's jobs.
func (h *Handler) abandonDeadRun(ctx context.Context) error {
	checker, ok := h.Starter.(runningChecker)
	if !ok {
		return nil
	}
	claim, err := h.Queue.Read(ctx)
	if err != nil || claim == nil || !claim.Active || !claim.Started || claim.Execution == "" {
		return err
	}
	running, err := checker.Running(ctx, claim.Execution)
	if err != nil || running {
		return err
	}
	h.Logger.WarnContext(ctx, "the training run stopped before it finished; the next training covers its jobs", "execution", claim.Execution)
	return h.Queue.Abandon(ctx, claim.Execution)
}

// Retry trains a job's rows again (bin/stockcast retry): the current dataset, which holds them,
// is trained for the job unless the published model covers it.
func (h *Handler) Retry(ctx context.Context, jobID string) error {
	job, err := h.Jobs.Get(ctx, jobID)
	if err != nil {
		return err
	}
	return h.trainJob(ctx, job)
}

// Repair checks, when the system starts, that every merged upload is trained: an upload that an
// attempt moved to processed/ before it stopped is trained (the attempts whose upload is still in
// uploads/ merge again and are closed then), and the current dataset is trained unless the
// published model or the run in progress covers it (trainCurrent).
func (h *Handler) Repair(ctx context.Context) error {
	jobs, err := h.Jobs.List(ctx, pipeline.ListOptions{Limit: pipeline.MaxListLimit})
	if err != nil {
		return err
	}
	for _, job := range jobs {
		if job.Status != pipeline.StatusRunning {
			continue
		}
		if _, err := h.Store.Head(ctx, job.Upload.Key); err == nil || !errors.Is(err, store.ErrNotFound) {
			continue // still in uploads/ (or unknown): merged again by its redelivered event
		}
		if err := h.trainMoved(ctx, job); err != nil {
			return err
		}
	}
	return h.trainCurrent(ctx, true)
}

// trainCurrent checks the invariant — every dataset version the merge wrote is trained and
// published, or superseded by a newer one that is — where no upload's job is at hand (a refused
// upload, a sweep, a start): the current dataset is trained for the job that wrote it (else the
// newest job that merged) unless the published model or the run in progress covers it. If that
// job's training failed, it is tried again only with retryFailed.
func (h *Handler) trainCurrent(ctx context.Context, retryFailed bool) error {
	current, err := h.currentRef(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	jobs, err := h.Jobs.List(ctx, pipeline.ListOptions{Limit: pipeline.MaxListLimit})
	if err != nil {
		return err
	}
	var writer *pipeline.Job
	for _, job := range jobs {
		if job.Merge != nil && (writer == nil || store.SameETag(job.Merge.DatasetETag, current.ETag) && !store.SameETag(writer.Merge.DatasetETag, current.ETag)) {
			writer = job
		}
	}
	switch {
	case writer == nil:
		return nil
	case writer.Status == pipeline.StatusFailed && !retryFailed:
		h.Logger.InfoContext(ctx, "the current dataset's training failed; bin/stockcast retry, the next upload or a restart of the local stack trains it again",
			"job_id", writer.ID, "error", writer.Error)
		return nil
	}
	return h.trainJob(ctx, writer)
}

// currentRef names the current dataset version as a training task does; no dataset is an error
// wrapping store.ErrNotFound.
func (h *Handler) currentRef(ctx context.Context) (pipeline.DatasetRef, error) {
	cur, err := pipeline.CurrentDataset(ctx, h.Store)
	if err != nil {
		return pipeline.DatasetRef{}, fmt.Errorf("read the dataset's version: %w", err)
	}
	return cur.Ref, nil
}

// move copies key to dst and deletes it: nothing is lost if it stops half-way, since the
// upload stays where it was until the copy exists.
func (h *Handler) move(ctx context.Context, key, dst string) error {
	_, err := h.Store.Copy(ctx, key, dst)
	if errors.Is(err, store.ErrNotFound) {
		// A concurrent delivery of the same event moved it first.
		if _, err := h.Store.Head(ctx, dst); err == nil {
			return nil
		}
	}
	if err != nil {
		return err
	}
	return h.Store.Delete(ctx, key)
}
