// Package task is what the training state machine's task handlers (refit, fine-tune, publish)
// share: the check of a task's input, the dataset version it names, and the errors the state
// machine retries by their type name.
package task

import (
	"context"
	"errors"
	"fmt"

	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/platform"
	"github.com/stockcast/stockcast/shared/series"
	"github.com/stockcast/stockcast/shared/store"
)

// Check refuses a state machine task's input that is incomplete or names another bucket than the
// one the function serves.
func Check(step string, in pipeline.TaskInput, s store.Store) error {
	if err := in.Validate(); err != nil {
		return err
	}
	if in.Bucket != s.Bucket() {
		return fmt.Errorf("%s: input names bucket %s, this function serves %s", step, in.Bucket, s.Bucket())
	}
	return nil
}

// Retryable returns the error a task reports to Step Functions: a *pipeline.DatasetChanged,
// *pipeline.CheckpointChanged or *pipeline.DeadlineNear anywhere in err's chain is returned
// unwrapped, because its type name is the error type the state machine retries on; any other
// error as it is.
func Retryable(err error) error {
	var changed *pipeline.DatasetChanged
	var conflict *pipeline.CheckpointChanged
	var late *pipeline.DeadlineNear
	switch {
	case errors.As(err, &changed):
		return changed
	case errors.As(err, &conflict):
		return conflict
	case errors.As(err, &late):
		return late
	}
	return err
}

// LoadTable reads exactly the dataset version the input names, whole: the shards of the index it
// names, or its single file, each part by its version id, which later merges cannot change, or —
// for an input without one — by ETag, when a dataset that has changed since is a
// *pipeline.DatasetChanged.
func LoadTable(ctx context.Context, s store.Store, in pipeline.TaskInput) (_ *series.Table, err error) {
	ctx, end := platform.Trace(ctx, "load-dataset")
	defer func() { end(err) }()
	x, err := pipeline.DatasetIndex(ctx, s, in)
	if err != nil {
		return nil, err
	}
	table, err := pipeline.LoadDataset(ctx, s, x)
	if err != nil {
		return nil, fmt.Errorf("dataset %s version %s: %w", in.DatasetKey, in.DatasetVersionID, err)
	}
	if table.Rows() == 0 {
		return nil, fmt.Errorf("dataset %s has no rows", in.DatasetKey)
	}
	return table, nil
}
