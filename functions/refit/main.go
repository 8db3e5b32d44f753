// Command refit is the RefitFunction Lambda, two tasks of the training state machine (after the
// fine-tune), dispatched on the input's "step". "shard", one item of the Distributed Map: it fits
// Prophet's model to each product of one shard of the dataset version it is given and stores them
// as models/trend/<version>/<shard>.json, backtests every candidate on each — the LSTM of daily
// data from the fine-tune's models of the backtest origins — storing the selections model=auto
// serves as models/selection/<version>/<shard>.json, and stores the shard's partial sums of the
// group series (models/partials/<version>/<shard>.json). "groups", after the Map: it adds up the
// shards' partial sums (computing those of a shard whose refit failed from its data) into the
// total, category and region series, fits and backtests them and stores them as
// models/groups/<version>.json.
//
// Configuration: DATA_BUCKET (required); TREND_SEASONALITY_MODE (additive or multiplicative,
// default additive), TREND_INTERVAL_WIDTH (default 0.8), TREND_CHANGEPOINT_PRIOR_SCALE (default
// 0.05), TREND_UNCERTAINTY_SAMPLES (default 1000); REFIT_STOP_MARGIN (default 10s: each step
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
