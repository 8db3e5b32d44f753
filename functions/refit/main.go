// Command refit is the RefitFunction Lambda, a task of the training state machine: it fits
// Prophet's model to every standard series of the dataset version it is given and stores them
// as models/trend/<version>.json.
//
// Configuration: DATA_BUCKET (required); TREND_SEASONALITY_MODE (additive or multiplicative,
// default additive), TREND_INTERVAL_WIDTH (default 0.8), TREND_CHANGEPOINT_PRIOR_SCALE (default
// 0.05), TREND_UNCERTAINTY_SAMPLES (default 1000); REFIT_STOP_MARGIN (default 10s: the refit
// stops this long before its deadline and fails with the retryable DeadlineNear); LOG_LEVEL.
package main

import (
	"github.com/stockcast/stockcast/shared/handlers/refit"
	"github.com/stockcast/stockcast/shared/handlers/trendconfig"
	"github.com/stockcast/stockcast/shared/platform"
)

func main() {
	fn := platform.NewFunction("refit")
	h := refit.New(fn.DataBucket(), fn.Logger)
	h.Options = trendconfig.FromEnv(fn.Env)
	h.StopMargin = fn.Env.Duration("REFIT_STOP_MARGIN", h.StopMargin)
	fn.Start(h.Handle, h.Options.Validate())
}
