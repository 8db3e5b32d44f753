package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/stockcast/stockcast/shared/store"
	"github.com/stockcast/stockcast/shared/training"
)

// Status is where a job stands.
type Status string

// A job is pending (its upload waits in the drop folder for the merge), running (merging), then rejected (the upload was refused), unchanged (nothing new:
// no training), or training, and finally succeeded, superseded or failed. A stage has the same
// statuses.
const (
	StatusPending   Status = "pending"
	StatusRunning   Status = "running"
	StatusRejected  Status = "rejected"
	StatusUnchanged Status = "unchanged"
	StatusTraining  Status = "training"
	StatusSucceeded Status = "succeeded"
	StatusFailed    Status = "failed"
	// StatusSuperseded: training succeeded, but a newer dataset's model was published first, so
	// this one was not.
	StatusSuperseded Status = "superseded"
)

// Job is the status record of one upload's way through the pipeline, kept at jobs/<id>.json.
type Job struct {
	ID        string       `json:"id"`
	Status    Status       `json:"status"`
	Stage     string       `json:"stage"`
	Upload    Upload       `json:"upload"`
	Execution string       `json:"execution,omitempty"`
	Merge     *MergeReport `json:"merge,omitempty"`
	Refit     *Refit       `json:"refit,omitempty"`
	FineTune  *FineTune    `json:"finetune,omitempty"`
	Publish   *Publish     `json:"publish,omitempty"`
	Error     string       `json:"error,omitempty"`
	// SupersededBy names the job that did this one's work (an attempt that died) or whose model
	// holds its rows.
	SupersededBy string    `json:"superseded_by,omitempty"`
	Created      time.Time `json:"created"`
	Updated      time.Time `json:"updated"`
}

// Upload is the file that started a job and where it was moved.
type Upload struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	ETag   string `json:"etag,omitempty"`
	Size   int64  `json:"size"`
	// MovedTo is processed/… for an accepted upload, rejected/… for a refused one.
	MovedTo string `json:"moved_to,omitempty"`
	// Report is the key of the refusal report.
	Report string `json:"report,omitempty"`
}

// MergeReport is what the merge step did.
type MergeReport struct {
	RowsBefore  int      `json:"rows_before"`
	RowsAfter   int      `json:"rows_after"`
	UploadRows  int      `json:"upload_rows"`
	Inserted    int      `json:"inserted"`
	Replaced    int      `json:"replaced"`
	NewColumns  []string `json:"new_columns"`
	FirstDate   string   `json:"first_date,omitempty"`
	LastDate    string   `json:"last_date,omitempty"`
	DatasetETag string   `json:"dataset_etag,omitempty"`
	// DatasetVersionID is the S3 version of the merged dataset: what training reads.
	DatasetVersionID string `json:"dataset_version_id,omitempty"`
	// Written is when the merged dataset was written.
	Written    time.Time `json:"written"`
	Attempts   int       `json:"attempts"`
	DurationMS int64     `json:"duration_ms"`
	// Shards is the dataset's shard count after the merge; Touched the shards whose parts it
	// rewrote (every shard after a resharding, which ReshardedFrom names the count before).
	Shards        int   `json:"shards"`
	Touched       []int `json:"touched"`
	ReshardedFrom int   `json:"resharded_from,omitempty"`
	// PartsWritten and BytesWritten count the dataset's objects the merge wrote and their bytes
	// (a resharding's included).
	PartsWritten int   `json:"parts_written"`
	BytesWritten int64 `json:"bytes_written"`
}

// Refit is the refit stage's status.
type Refit struct {
	Status Status `json:"status"`
	Series int    `json:"series,omitempty"`
	// Fallbacks counts the series fitted with the fallback model; Failed names at most
	// MaxListed of them (RefitOutput.Failed).
	Fallbacks int      `json:"fallbacks,omitempty"`
	Failed    []string `json:"failed,omitempty"`
	FitMS     int64    `json:"fit_ms,omitempty"`
	TrendKey  string   `json:"trend_key,omitempty"`
}

// FineTune is the fine-tune stage's status and progress.
type FineTune struct {
	Status  Status        `json:"status"`
	Mode    training.Mode `json:"mode,omitempty"`
	Epoch   int           `json:"epoch"`
	Epochs  int           `json:"epochs"`
	Loss    float64       `json:"loss,omitempty"`
	ValLoss float64       `json:"val_loss,omitempty"`
	Windows int           `json:"windows,omitempty"`
	// Message is the last progress line, e.g. "LSTM epoch 3/10 - loss=0.0123".
	Message string `json:"message,omitempty"`
}

// Publish is the publish stage's status.
type Publish struct {
	Status       Status `json:"status"`
	Version      string `json:"version,omitempty"`
	ManifestETag string `json:"manifest_etag,omitempty"`
}

// ErrJobNotFound reports that no record exists for a job id.
var ErrJobNotFound = errors.New("job not found")

// ErrUnchanged, returned by an Update's change, leaves the record as it was: nothing is written,
// its Updated time included.
var ErrUnchanged = errors.New("job unchanged")

// Jobs reads and updates job records. Two writers may update one record at once (a task attempt
// that timed out but still runs, and its retry), so every update is a conditional
// read-modify-write, retried.
type Jobs struct {
	store store.Store
	now   func() time.Time
}

// NewJobs keeps job records in s.
func NewJobs(s store.Store) *Jobs { return &Jobs{store: s, now: time.Now} }

// Get reads a job record.
func (j *Jobs) Get(ctx context.Context, id string) (*Job, error) {
	job, _, err := j.read(ctx, id)
	return job, err
}

func (j *Jobs) read(ctx context.Context, id string) (*Job, string, error) {
	data, obj, err := store.ReadAll(ctx, j.store, JobKey(id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", fmt.Errorf("job %s: %w", id, ErrJobNotFound)
	}
	if err != nil {
		return nil, "", fmt.Errorf("read job %s: %w", id, err)
	}
	var job Job
	if err := json.Unmarshal(data, &job); err != nil {
		return nil, "", fmt.Errorf("decode job %s: %w", id, err)
	}
	return &job, obj.ETag, nil
}

// maxUpdateAttempts bounds the retries of a job update that keeps losing races.
const maxUpdateAttempts = 20

// Update applies change to the job's record (a new record if there is none) and writes it back
// only if nobody wrote it in between; otherwise it rereads and applies change again. If change
// returns ErrUnchanged, Update writes nothing and returns the record as read.
func (j *Jobs) Update(ctx context.Context, id string, change func(*Job) error) (*Job, error) {
	return store.RetryConflicts(ctx, maxUpdateAttempts, func(int) (*Job, error) {
		job, etag, err := j.read(ctx, id)
		if errors.Is(err, ErrJobNotFound) {
			job, etag, err = &Job{ID: id, Created: j.now().UTC()}, "", nil
		}
		if err != nil {
			return nil, err
		}
		err = change(job)
		if errors.Is(err, ErrUnchanged) {
			return job, nil
		}
		if err != nil {
			return nil, err
		}
		job.Updated = j.now().UTC()
		data, err := json.MarshalIndent(job, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("encode job %s: %w", id, err)
		}
		opts := store.ConditionFor(etag)
		opts.ContentType = "application/json"
		if _, err := j.store.Put(ctx, JobKey(id), bytes.NewReader(data), opts); err != nil {
			return nil, fmt.Errorf("write job %s: %w", id, err)
		}
		return job, nil
	})
}
