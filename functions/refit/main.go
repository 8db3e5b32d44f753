// Command refit is the RefitFunction Lambda, a task of the training state machine (after the
// fine-tune): it fits Prophet's model to every standard series of the dataset version it is given
// and stores them as models/trend/<version>.json, then backtests every candidate on each — the
// LSTM of daily data from the fine-tune's models of the backtest origins — and stores the
// selections model=auto serves as models/selection/<version>.json.
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
