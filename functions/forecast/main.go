// Command forecast is the ForecastFunction Lambda behind API Gateway: the page at GET /, GET and
// POST /forecast, GET /forecast/plot, GET /series, GET /series/history, GET /jobs, GET /jobs/{id},
// POST /uploads, GET /health, and a JSON 404 for anything else. It serves the model that
// models/manifest.json names, checking the manifest's ETag on every invocation.
//
// Configuration: DATA_BUCKET (required); BLEND_TREND_WEIGHT (the trend's share of the blend,
// default 0.6; the LSTM gets the rest); the TREND_* options of the refit, for series fitted on
// demand; MAX_UPLOAD_BYTES (the largest upload POST /uploads grants, default 67108864, as the
// merge's); FORECAST_SHARD_CACHE (how many shards of a sharded model are kept loaded, default
// 4); LOG_LEVEL.
package main

import (
	"fmt"

	"github.com/stockcast/stockcast/shared/handlers/api"
	"github.com/stockcast/stockcast/shared/handlers/trendconfig"
	"github.com/stockcast/stockcast/shared/platform"
)

func main() {
	fn := platform.NewFunction("forecast")
	h := api.New(fn.DataBucket(), fn.Logger)
	h.Config.TrendWeight = fn.Env.Float("BLEND_TREND_WEIGHT", h.Config.TrendWeight)
	h.Config.LSTMWeight = 1 - h.Config.TrendWeight
	h.Config.TrendOptions = trendconfig.FromEnv(fn.Env)
	h.Uploads.MaxBytes = fn.Env.Int64("MAX_UPLOAD_BYTES", h.Uploads.MaxBytes)
	h.ShardCache = int(fn.Env.Int64("FORECAST_SHARD_CACHE", int64(h.ShardCache)))
	var weight, cache error
	if w := h.Config.TrendWeight; w < 0 || w > 1 {
		weight = fmt.Errorf("BLEND_TREND_WEIGHT=%v must be between 0 and 1", w)
	}
	if h.ShardCache < 1 {
		cache = fmt.Errorf("FORECAST_SHARD_CACHE=%d must be at least 1", h.ShardCache)
	}
	fn.Start(h.Handle, weight, cache, h.Config.TrendOptions.Validate())
}
