// Package task is what the training state machine's task handlers (refit, fine-tune, publish)
// share: the check of a task's input and the errors the state machine retries by their type
// name.
package task

import (
	"errors"
	"fmt"

	"github.com/stockcast/stockcast/shared/pipeline"
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
