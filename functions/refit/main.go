// Command refit is the RefitFunction Lambda, a task of the training state machine: it fits
// Prophet's model to every standard series of the dataset version it is given and stores them
// as models/trend/<version>.json.
//
// Configuration: DATA_BUCKET (required); TREND_SEASONALITY_MODE (additive or multiplicative,
// default additive), TREND_INTERVAL_WIDTH (default 0.8), TREND_CHANGEPOINT_PRIOR_SCALE (default
// 0.05), TREND_UNCERTAINTY_SAMPLES (default 1000); LOG_LEVEL.
package main

import (
	"context"
	"errors"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/stockcast/stockcast/shared/handlers"
	"github.com/stockcast/stockcast/shared/platform"
	"github.com/stockcast/stockcast/shared/store"
)

func main() {
	logger := platform.SetupLambdaLogging("refit")
	env := platform.NewEnv()
	bucket := env.Required("DATA_BUCKET")
	options := handlers.TrendOptionsFromEnv(env)
	cfg, err := platform.LoadAWSConfig(context.Background())
	if err = errors.Join(env.Err(), options.Validate(), err); err != nil {
		logger.Error("cannot start", "error", err)
		os.Exit(1)
	}
	refit := handlers.NewRefit(store.NewS3(platform.NewS3Client(cfg), bucket), logger)
	refit.Options = options
	lambda.Start(refit.Handle)
}
