package pipeline

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/stockcast/stockcast/shared/dataset"
	"github.com/stockcast/stockcast/shared/training"
)

// TaskInput is the execution input of the training state machine, and what its refit and
// fine-tune tasks receive.
type TaskInput struct {
	Bucket      string `json:"bucket"`
	DatasetKey  string `json:"dataset_key"`
	DatasetETag string `json:"dataset_etag"`
	// DatasetVersionID, where the bucket keeps versions, names the dataset version for good: the
	// tasks read it whatever merges happened since, and the manifest pins it.
	DatasetVersionID string `json:"dataset_version_id,omitempty"`
	JobID            string `json:"job_id"`
	// NewFrom and NewTo (YYYY-MM-DD) are the dates the merged upload brought.
	NewFrom string        `json:"new_from,omitempty"`
	NewTo   string        `json:"new_to,omitempty"`
	Mode    training.Mode `json:"mode,omitempty"`
	// DatasetWritten is when the merge wrote this dataset version: it orders versions, so that a
	// slow run never replaces the model of a newer dataset.
	DatasetWritten time.Time `json:"dataset_written"`
	// Covers are the other jobs whose rows this dataset version holds and that no model served
	// yet (uploads merged while an earlier run trained): they end with this run.
	Covers []string `json:"covers,omitempty"`
	// Touched are the shards (of the dataset index at DatasetKey) the merged upload rewrote; nil
	// when unknown or all, as after a resharding.
	Touched []int `json:"touched,omitempty"`
}

// Validate names the first missing or malformed field.
func (in TaskInput) Validate() error {
	switch {
	case in.Bucket == "":
		return errors.New("task input: bucket is required")
	case in.DatasetKey == "":
		return errors.New("task input: dataset_key is required")
	case in.DatasetETag == "":
		return errors.New("task input: dataset_etag is required")
	case in.JobID == "":
		return errors.New("task input: job_id is required")
	case in.Mode.Validate() != nil:
		return fmt.Errorf("task input: %w", in.Mode.Validate())
	}
	for name, value := range map[string]string{"new_from": in.NewFrom, "new_to": in.NewTo} {
		if value == "" {
			continue
		}
		if _, err := time.Parse(time.DateOnly, value); err != nil {
			return fmt.Errorf("task input: %s %q is not a YYYY-MM-DD date", name, value)
		}
	}
	return nil
}

// RefitOutput is what the refit's group step returns: the results of every shard and of the
// groups, and their summary over the whole dataset.
type RefitOutput struct {
	// Series counts the series fitted (every shard's products and the groups); Fallbacks those
	// fitted with the fallback model, of which Failed names at most MaxListed (Listed: the
	// groups' first, then the shards' in shard order; every one is in the trend models'
	// fallbacks); FitMS is the fits' time added up over the invocations.
	Series    int      `json:"series"`
	Fallbacks int      `json:"fallbacks"`
	Failed    []string `json:"failed"`
	FitMS     int64    `json:"fit_ms"`
	// Rows, FirstDate and LastDate describe the dataset the models were fitted on.
	Rows      int    `json:"rows"`
	FirstDate string `json:"first_date"`
	LastDate  string `json:"last_date"`
	// Backtest summarises the backtests of every shard and of the groups, Bounded (nil when none
	// were made).
	Backtest *Backtest `json:"backtest,omitempty"`
	// Shards are the per-shard results, shard 0 first (a shard whose refit failed has no Trend);
	// Groups the group results made from their partial sums.
	Shards []ShardRefitOutput `json:"shards,omitempty"`
	Groups *Artifact          `json:"groups,omitempty"`
}

// Backtest summarises the refit's backtests and selections.
type Backtest struct {
	// Selected counts the series with a selection; Unselected those too short to backtest.
	Selected   int `json:"selected"`
	Unselected int `json:"unselected"`
	// MS is the wall time of the backtests.
	MS int64 `json:"ms"`
	// MASE is the mean backtest MASE of the served selections (on the windows they were chosen
	// on); Coverage the pooled coverage of their best model's own 80% interval.
	MASE     float64  `json:"mase"`
	Coverage *float64 `json:"coverage,omitempty"`
	// Choices counts each choice ("ets", "median(ets,theta,trend)", …): in a task's output
	// (Bounded) at most MaxListed of them, the most frequent; OtherChoices counts the selections
	// of the choices left out.
	Choices      map[string]int `json:"choices"`
	OtherChoices int            `json:"other_choices,omitempty"`
}

// MaxListed bounds the names a task's output lists where it counts many (fallback series,
// backtest choices), and MaxListedBytes the length of a listed name: the training state
// machine's state holds every shard's output at once, within Step Functions' 256 KiB.
const (
	MaxListed      = 3
	MaxListedBytes = 64
)

// Listed returns the first names of names, at most MaxListed, leaving out any longer than
// MaxListedBytes.
func Listed(names []string) []string {
	var out []string
	for _, name := range names {
		if len(out) == MaxListed {
			break
		}
		if len(name) <= MaxListedBytes {
			out = append(out, name)
		}
	}
	return out
}

// Bounded returns the summary with its Choices cut to the MaxListed most frequent (ties by
// name) whose names are at most MaxListedBytes long, the selections of the others counted in
// OtherChoices; nil for nil.
func (b *Backtest) Bounded() *Backtest {
	if b == nil {
		return nil
	}
	out := *b
	names := slices.Collect(maps.Keys(b.Choices))
	slices.SortFunc(names, func(x, y string) int {
		return cmp.Or(cmp.Compare(b.Choices[y], b.Choices[x]), cmp.Compare(x, y))
	})
	out.Choices = make(map[string]int, min(len(names), MaxListed))
	for _, name := range names {
		if n := b.Choices[name]; len(out.Choices) < MaxListed && len(name) <= MaxListedBytes {
			out.Choices[name] = n
		} else {
			out.OtherChoices += n
		}
	}
	return &out
}

// FineTuneOutput is what the fine-tune task returns.
type FineTuneOutput struct {
	CheckpointKey  string        `json:"checkpoint_key"`
	CheckpointETag string        `json:"checkpoint_etag"`
	VersionID      string        `json:"version_id"`
	Mode           training.Mode `json:"mode"`
	Epochs         int           `json:"epochs"`
	Loss           float64       `json:"loss"`
	ValLoss        float64       `json:"val_loss"`
	Windows        int           `json:"windows"`
	// TrainMS is the wall time of training the served model.
	TrainMS int64 `json:"train_ms"`
	// Origins are the models trained only through each origin of the refit's backtest, oldest
	// first, which the refit scores as the LSTM candidate; none when the dataset is not daily or
	// too short to backtest.
	Origins []Origin `json:"origins,omitempty"`
	// Read is what the run read of the dataset and kept to train on.
	Read *DatasetRead `json:"read,omitempty"`
}

// DatasetRead is what a fine-tune read of the dataset: the shards it loaded, one at a time, and
// the series it kept of them to train on, the replay sample's apart.
type DatasetRead struct {
	// Shards is the dataset's shard count; Read the shards loaded, in the order read; Replay
	// those of them read for the replay sample (of the shards the upload did not touch, when
	// there are some).
	Shards int   `json:"shards"`
	Read   []int `json:"read"`
	Replay []int `json:"replay,omitempty"`
	// Bytes is the size of the shards read, as the index gives it.
	Bytes int64 `json:"bytes"`
	// Series counts the series kept, ReplaySeries those of them from the replay shards.
	Series       int `json:"series"`
	ReplaySeries int `json:"replay_series"`
	// Windows counts the days of values kept, each the origin of at most one training window
	// (what the models train on is a sample of them each epoch); ReplayWindows those of the
	// replay series.
	Windows       int `json:"windows"`
	ReplayWindows int `json:"replay_windows"`
}

// Origin is the LSTM trained only through one origin of the refit's backtest.
type Origin struct {
	Key       string `json:"key"`
	ETag      string `json:"etag"`
	VersionID string `json:"version_id,omitempty"`
	// Through (YYYY-MM-DD) is the origin: the model saw no day after it.
	Through string `json:"through"`
	// Mode is how this run trained it: fine-tuned from the stored model or the previous origin's,
	// or in full; Epochs, Windows and TrainMS are the run's.
	Mode    training.Mode `json:"mode"`
	Epochs  int           `json:"epochs"`
	Windows int           `json:"windows"`
	TrainMS int64         `json:"train_ms"`
}

// TrainResults are the outputs of the training tasks: the fine-tune's, which the refit receives
// too (beside the TaskInput), and the refit's.
type TrainResults struct {
	Refit    RefitOutput    `json:"refit"`
	FineTune FineTuneOutput `json:"finetune"`
}

// TaskError is an error caught by the state machine, in Step Functions' shape.
type TaskError struct {
	Error string `json:"Error"`
	Cause string `json:"Cause"`
}

// PublishInput is what the publish task receives: the job, and either the training results or
// the error that stopped training (failure mode).
type PublishInput struct {
	TaskInput
	Results *TrainResults `json:"results,omitempty"`
	Error   *TaskError    `json:"error,omitempty"`
}

// PublishOutput is what the publish task returns.
type PublishOutput struct {
	JobID        string `json:"job_id"`
	Status       Status `json:"status"`
	Version      string `json:"version,omitempty"`
	ManifestETag string `json:"manifest_etag,omitempty"`
	// Next is the training the state machine runs next, for the uploads merged while this one
	// ran (see Queue.Finish); absent when none waits.
	Next *TaskInput `json:"next,omitempty"`
}

// DatasetChanged reports that the dataset is no longer the version a task was given; the state
// machine retries on it by this type's name, which is the Lambda error type.
type DatasetChanged struct {
	Key, Want, Got string
}

func (e *DatasetChanged) Error() string {
	return fmt.Sprintf("dataset %s changed: task was given ETag %s, the bucket now has %s", e.Key, e.Want, e.Got)
}

// DeadlineNear reports that a task stopped before its invocation's deadline, with Done of Of
// items finished, rather than being killed at it; the state machine retries it by this type's
// name, once.
type DeadlineNear struct {
	Step     string
	Done, Of int
}

func (e *DeadlineNear) Error() string {
	return fmt.Sprintf("%s stopped before the invocation's deadline with %d of %d done", e.Step, e.Done, e.Of)
}

// CheckpointChanged reports that another run wrote the LSTM checkpoint while this one trained;
// the state machine retries the fine-tune task by this type's name, which continues from the
// newer checkpoint.
type CheckpointChanged struct {
	Key, Want string
}

func (e *CheckpointChanged) Error() string {
	return fmt.Sprintf("checkpoint %s changed while training (it was %s when read); fine-tune again from the new one", e.Key, e.Want)
}

// RejectionReport is what rejected/<name>.error.json holds: why the merge step refused an
// upload, line by line.
type RejectionReport struct {
	Upload     string            `json:"upload"`
	ETag       string            `json:"etag"`
	Size       int64             `json:"size"`
	JobID      string            `json:"job_id"`
	RejectedAt time.Time         `json:"rejected_at"`
	Error      string            `json:"error"`
	Total      int               `json:"total_problems"`
	Problems   []dataset.Problem `json:"problems"`
}
