// Command forecast is the ForecastFunction Lambda behind API Gateway: GET and POST /forecast,
// GET /forecast/plot, GET /jobs/{id}, GET /health. It serves the model that
// models/manifest.json names, checking the manifest's ETag on every invocation.
//
// Configuration: DATA_BUCKET (required); BLEND_TREND_WEIGHT (the trend's share of the blend,
// default 0.6; the LSTM gets the rest); the TREND_* options of the refit, for series fitted on
// demand; LOG_LEVEL.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/stockcast/stockcast/shared/handlers"
	"github.com/stockcast/stockcast/shared/platform"
	"github.com/stockcast/stockcast/shared/store"
)

func main() {
	logger := platform.SetupLambdaLogging("forecast")
	env := platform.NewEnv()
	bucket := env.Required("DATA_BUCKET")
	cfg, err := platform.LoadAWSConfig(context.Background())
	api := handlers.NewForecast(store.NewS3(platform.NewS3Client(cfg), bucket), logger)
	api.Config.TrendWeight = env.Float("BLEND_TREND_WEIGHT", api.Config.TrendWeight)
	api.Config.LSTMWeight = 1 - api.Config.TrendWeight
	api.Config.TrendOptions = handlers.TrendOptionsFromEnv(env)
	if w := api.Config.TrendWeight; w < 0 || w > 1 {
		err = errors.Join(err, fmt.Errorf("BLEND_TREND_WEIGHT=%v must be between 0 and 1", w))
	}
	if err = errors.Join(env.Err(), api.Config.TrendOptions.Validate(), err); err != nil {
		logger.Error("cannot start", "error", err)
		os.Exit(1)
	}
	lambda.Start(api.Handle)
}
