package handlers

import (
	"errors"
	"fmt"

	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/platform"
	"github.com/stockcast/stockcast/shared/store"
	"github.com/stockcast/stockcast/shared/trend"
)

// TrendOptionsFromEnv reads the trend model's options, shared by the refit (which fits the
// standard series) and the forecast API (which fits ad-hoc series the same way):
// TREND_SEASONALITY_MODE (additive or multiplicative), TREND_INTERVAL_WIDTH,
// TREND_CHANGEPOINT_PRIOR_SCALE and TREND_UNCERTAINTY_SAMPLES, Prophet's defaults otherwise.
func TrendOptionsFromEnv(env *platform.Env) trend.Options {
	options := trend.DefaultOptions()
	options.SeasonalityMode = trend.Mode(env.String("TREND_SEASONALITY_MODE", string(options.SeasonalityMode)))
	options.IntervalWidth = env.Float("TREND_INTERVAL_WIDTH", options.IntervalWidth)
	options.ChangepointPriorScale = env.Float("TREND_CHANGEPOINT_PRIOR_SCALE", options.ChangepointPriorScale)
	options.UncertaintySamples = int(env.Int64("TREND_UNCERTAINTY_SAMPLES", int64(options.UncertaintySamples)))
	return options
}

// checkTask refuses a state machine task's input that is incomplete or names another bucket than
// the one the function serves.
func checkTask(step string, in pipeline.TaskInput, s store.Store) error {
	if err := in.Validate(); err != nil {
		return err
	}
	if in.Bucket != s.Bucket() {
		return fmt.Errorf("%s: input names bucket %s, this function serves %s", step, in.Bucket, s.Bucket())
	}
	return nil
}

// retryable returns the error a task reports to Step Functions: a *pipeline.DatasetChanged or
// *pipeline.CheckpointChanged anywhere in err's chain is returned unwrapped, because its type
// name is the error type the state machine retries on; any other error as it is.
func retryable(err error) error {
	var changed *pipeline.DatasetChanged
	var conflict *pipeline.CheckpointChanged
	switch {
	case errors.As(err, &changed):
		return changed
	case errors.As(err, &conflict):
		return conflict
	}
	return err
}
