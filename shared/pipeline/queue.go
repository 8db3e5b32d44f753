package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/stockcast/stockcast/shared/store"
	"github.com/stockcast/stockcast/shared/training"
)

// Training is models/training.json: the one training run in progress and the jobs merged while it
// runs. One run at a time trains the latest dataset; the uploads of a burst wait for it and are
// trained together by its next iteration, so that a burst trains at most twice.
type Training struct {
	// Active is false once the run has ended with no job waiting.
	Active bool `json:"active"`
	// Execution is the state machine execution; Started is false until it was started.
	Execution string `json:"execution,omitempty"`
	Started   bool   `json:"started"`
	// JobID is the job the current iteration trains for, DatasetETag the version it trains, and
	// Covers the other jobs whose rows that version holds.
	JobID       string   `json:"job_id"`
	DatasetETag string   `json:"dataset_etag"`
	Covers      []string `json:"covers,omitempty"`
	// Waiting are the jobs merged since the iteration started: the next one trains them.
	Waiting []string  `json:"waiting,omitempty"`
	Updated time.Time `json:"updated"`
}

// jobs are every job the claim holds.
func (t *Training) jobs() []string {
	return append(append([]string{t.JobID}, t.Covers...), t.Waiting...)
}

// Queue hands datasets to the training state machine one run at a time.
type Queue struct {
	store store.Store
	now   func() time.Time
	// StaleAfter is how long an iteration may go without news before the claim is taken as
	// abandoned (its execution died): longer than a run of the state machine's tasks.
	StaleAfter time.Duration
	// StartGrace is how long a claim may wait for its execution to start.
	StartGrace time.Duration
}

// NewQueue keeps the training claim in s.
func NewQueue(s store.Store) *Queue {
	return &Queue{store: s, now: time.Now, StaleAfter: 45 * time.Minute, StartGrace: time.Minute}
}

// live reports whether the claim stands for a run that is going on.
func (q *Queue) live(t *Training) bool {
	if t == nil || !t.Active {
		return false
	}
	age := q.now().Sub(t.Updated)
	return age < q.StaleAfter && (t.Started || age < q.StartGrace)
}

// Action is what Request did.
type Action string

// Request's outcomes.
const (
	// Covered: a published model already covers the dataset version.
	Covered Action = "covered"
	// Started: a run was started for the job.
	Started Action = "started"
	// Queued: a run is going on; the job waits for its next iteration.
	Queued Action = "queued"
	// Running: the run going on trains this very dataset version.
	Running Action = "running"
)

// Decision is Request's outcome.
type Decision struct {
	Action    Action
	Execution string
	// Version is the published model that covers the dataset (Covered).
	Version string
}

// StartFunc starts a state machine execution for in and returns its id ("" when training is not
// wired); starting a job already started is a success.
type StartFunc func(ctx context.Context, in TaskInput) (string, error)

// Request asks for the dataset version in.DatasetETag to be trained for job in.JobID: nothing to
// do if the published model covers it; queued behind the run in progress if there is one (its
// next iteration trains the latest dataset, this job's rows included); otherwise a run is started.
// An abandoned claim's jobs are covered by the new run, so that they end with it.
func (q *Queue) Request(ctx context.Context, in TaskInput, start StartFunc) (Decision, error) {
	manifest, _, err := ReadManifest(ctx, q.store)
	if err != nil && !errors.Is(err, ErrNoManifest) && !errors.Is(err, ErrDamagedManifest) {
		return Decision{}, err
	}
	if err != nil {
		manifest = nil // no readable model covers the dataset: train it (publish replaces a damaged manifest)
	}
	if manifest != nil && store.SameETag(manifest.Dataset.ETag, in.DatasetETag) {
		return Decision{Action: Covered, Version: manifest.Version}, nil
	}
	var decision Decision
	claim, err := q.update(ctx, func(t *Training) (*Training, error) {
		switch {
		case q.live(t) && t.JobID == in.JobID:
			decision = Decision{Action: Started, Execution: t.Execution}
			if t.Started {
				return nil, nil // a duplicate request: it runs already
			}
			return t, nil // its start may have been lost: start it again (idempotent)
		case q.live(t) && store.SameETag(t.DatasetETag, in.DatasetETag) && !slices.Contains(t.jobs(), in.JobID):
			decision = Decision{Action: Running, Execution: t.Execution}
			return nil, nil
		case q.live(t):
			decision = Decision{Action: Queued, Execution: t.Execution}
			if !slices.Contains(t.jobs(), in.JobID) {
				t.Waiting = append(t.Waiting, in.JobID)
			}
			return t, nil
		}
		covers := slices.Clone(in.Covers)
		if t != nil && t.Active { // abandoned: its jobs end with the new run
			for _, id := range t.jobs() {
				if id != in.JobID && !slices.Contains(covers, id) {
					covers = append(covers, id)
				}
			}
		}
		decision = Decision{Action: Started}
		return &Training{Active: true, JobID: in.JobID, DatasetETag: in.DatasetETag, Covers: covers, Updated: q.now().UTC()}, nil
	})
	if err != nil || decision.Action != Started || (claim != nil && claim.Started) || claim == nil {
		return decision, err
	}
	in.Covers = claim.Covers
	execution, err := start(ctx, in)
	if err != nil {
		return Decision{}, err
	}
	decision.Execution = execution
	_, err = q.update(ctx, func(t *Training) (*Training, error) {
		if t == nil || t.JobID != in.JobID {
			return nil, nil
		}
		t.Execution, t.Started, t.Updated = execution, true, q.now().UTC()
		return t, nil
	})
	return decision, err
}

// Finish ends an iteration of the run that trained in (failed or not) and returns the next
// iteration's input, or nil when no job waits: the latest dataset, for the newest waiting job,
// covering the other waiting jobs — and this iteration's jobs when it failed, since the next
// model holds their rows too.
func (q *Queue) Finish(ctx context.Context, in TaskInput, failed bool, jobs *Jobs) (*TaskInput, error) {
	var dataset *DatasetRef
	var next *TaskInput
	_, err := q.update(ctx, func(t *Training) (*Training, error) {
		next = nil
		switch {
		case t == nil || t.JobID != in.JobID:
			return nil, nil // not this run's claim (it was abandoned and replaced)
		case len(t.Waiting) == 0:
			t.Active, t.Updated = false, q.now().UTC()
			return t, nil
		case dataset == nil:
			current, err := CurrentDataset(ctx, q.store)
			if err != nil {
				return nil, fmt.Errorf("read the dataset for the next training: %w", err)
			}
			dataset = &current.Ref
		}
		newest := t.Waiting[len(t.Waiting)-1]
		covers := slices.Clone(t.Waiting[:len(t.Waiting)-1])
		if failed {
			covers = append(covers, t.JobID)
			covers = append(covers, t.Covers...)
		}
		next = &TaskInput{
			Bucket: in.Bucket, DatasetKey: dataset.Key, DatasetETag: dataset.ETag, DatasetVersionID: dataset.VersionID, JobID: newest,
			Mode: training.FineTune, DatasetWritten: dataset.Written, Covers: covers,
		}
		t.JobID, t.DatasetETag, t.Covers, t.Waiting, t.Updated = newest, dataset.ETag, covers, nil, q.now().UTC()
		return t, nil
	})
	if err != nil || next == nil {
		return nil, err
	}
	// The new days are those of every upload the next model brings; the dataset was written after
	// each of their merges (S3's LastModified has only seconds), and after this run's version.
	if !next.DatasetWritten.After(in.DatasetWritten) {
		next.DatasetWritten = in.DatasetWritten.Add(time.Millisecond)
	}
	for _, id := range append([]string{next.JobID}, next.Covers...) {
		job, err := jobs.Get(ctx, id)
		if err != nil || job.Merge == nil {
			continue
		}
		if job.Merge.Written.After(next.DatasetWritten) {
			next.DatasetWritten = job.Merge.Written
		}
		if f := job.Merge.FirstDate; f != "" && (next.NewFrom == "" || f < next.NewFrom) {
			next.NewFrom = f
		}
		if l := job.Merge.LastDate; l > next.NewTo {
			next.NewTo = l
		}
	}
	return next, nil
}

// Join makes a job wait for the next iteration of the run in progress, execution: Request answers
// Running, and records nothing, for a job whose rows are in the very dataset version the run
// trains; a job that must end with a run (an attempt that died before it recorded its merge)
// joins it this way. It reports false when that run is no longer going on.
func (q *Queue) Join(ctx context.Context, execution, jobID string) (bool, error) {
	joined := false
	_, err := q.update(ctx, func(t *Training) (*Training, error) {
		joined = q.live(t) && t.Execution == execution
		if !joined || slices.Contains(t.jobs(), jobID) {
			return nil, nil
		}
		t.Waiting = append(t.Waiting, jobID)
		return t, nil
	})
	return joined, err
}

// Read returns the claim (nil when there is none).
func (q *Queue) Read(ctx context.Context) (*Training, error) {
	t, _, err := q.read(ctx)
	return t, err
}

// Abandon ends the claim of a run whose execution is known to have stopped (the local stack
// restarted): the next Request starts a new run that covers its jobs.
func (q *Queue) Abandon(ctx context.Context, execution string) error {
	_, err := q.update(ctx, func(t *Training) (*Training, error) {
		if t == nil || !t.Active || t.Execution != execution {
			return nil, nil
		}
		t.Updated = time.Time{} // stale at once; still Active, so that its jobs are covered
		return t, nil
	})
	return err
}

func (q *Queue) read(ctx context.Context) (*Training, string, error) {
	data, obj, err := store.ReadAll(ctx, q.store, TrainingKey)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", TrainingKey, err)
	}
	var t Training
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, "", fmt.Errorf("decode %s: %w", TrainingKey, err)
	}
	return &t, obj.ETag, nil
}

// update applies change to the claim and writes the result back only if nobody wrote the claim
// in between (a nil result writes nothing); otherwise it rereads and applies change again.
func (q *Queue) update(ctx context.Context, change func(*Training) (*Training, error)) (*Training, error) {
	return store.RetryConflicts(ctx, maxUpdateAttempts, func(int) (*Training, error) {
		t, etag, err := q.read(ctx)
		if err != nil {
			return nil, err
		}
		out, err := change(t)
		if err != nil || out == nil {
			return t, err
		}
		data, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", TrainingKey, err)
		}
		opts := store.ConditionFor(etag)
		opts.ContentType = "application/json"
		if _, err := q.store.Put(ctx, TrainingKey, bytes.NewReader(data), opts); err != nil {
			return nil, fmt.Errorf("write %s: %w", TrainingKey, err)
		}
		return out, nil
	})
}
