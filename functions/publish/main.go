// Command publish is the PublishFunction Lambda, the last state of the training state machine:
// it writes models/manifest.json from the training results, or records the failure that
// stopped training and leaves the served model alone.
//
// Configuration: DATA_BUCKET (required), LOG_LEVEL.
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
	logger := platform.SetupLambdaLogging("publish")
	env := platform.NewEnv()
	bucket := env.Required("DATA_BUCKET")
	cfg, err := platform.LoadAWSConfig(context.Background())
	if err = errors.Join(env.Err(), err); err != nil {
		logger.Error("cannot start", "error", err)
		os.Exit(1)
	}
	publish := handlers.NewPublish(store.NewS3(platform.NewS3Client(cfg), bucket), logger)
	lambda.Start(publish.Handle)
}
