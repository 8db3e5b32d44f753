// Package trendconfig reads the trend model's options from a function's environment, the same
// way for the refit (which fits the standard series) and the forecast API (which fits ad-hoc
// series).
package trendconfig

import (
	"github.com/stockcast/stockcast/shared/platform"
	"github.com/stockcast/stockcast/shared/trend"
)

// FromEnv reads TREND_SEASONALITY_MODE (additive or multiplicative), TREND_INTERVAL_WIDTH,
// TREND_CHANGEPOINT_PRIOR_SCALE and TREND_UNCERTAINTY_SAMPLES, Prophet's defaults otherwise.
func FromEnv(env *platform.Env) trend.Options {
	options := trend.DefaultOptions()
	options.SeasonalityMode = trend.Mode(env.String("TREND_SEASONALITY_MODE", string(options.SeasonalityMode)))
	options.IntervalWidth = env.Float("TREND_INTERVAL_WIDTH", options.IntervalWidth)
	options.ChangepointPriorScale = env.Float("TREND_CHANGEPOINT_PRIOR_SCALE", options.ChangepointPriorScale)
	options.UncertaintySamples = int(env.Int64("TREND_UNCERTAINTY_SAMPLES", int64(options.UncertaintySamples)))
	return options
}
