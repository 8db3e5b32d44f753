// Command forecast is the ForecastFunction Lambda behind API Gateway: GET and POST /forecast,
// GET /forecast/plot, GET /jobs/{id}, GET /health. It serves the model that
// models/manifest.json names, checking the manifest's ETag on every invocation.
//
// Configuration: DATA_BUCKET (required); BLEND_TREND_WEIGHT (the trend's share of the blend,
// default 0.6; the LSTM gets the rest); the TREND_* options of the refit, for series fitted on
// demand; LOG_LEVEL.
package main

import (
	"fmt"

	"github.com/stockcast/stockcast/shared/handlers"
	"github.com/stockcast/stockcast/shared/platform"
)

func main() {
	fn := platform.NewFunction("forecast")
	api := handlers.NewForecast(fn.DataBucket(), fn.Logger)
	api.Config.TrendWeight = fn.Env.Float("BLEND_TREND_WEIGHT", api.Config.TrendWeight)
	api.Config.LSTMWeight = 1 - api.Config.TrendWeight
	api.Config.TrendOptions = handlers.TrendOptionsFromEnv(fn.Env)
	var weight error
	if w := api.Config.TrendWeight; w < 0 || w > 1 {
		weight = fmt.Errorf("BLEND_TREND_WEIGHT=%v must be between 0 and 1", w)
	}
	fn.Start(api.Handle, weight, api.Config.TrendOptions.Validate())
}
