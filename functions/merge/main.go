// Command merge is the MergeFunction Lambda: S3 ObjectCreated events on uploads/*.csv are merged
// into data/large_dataset.csv and start the training state machine.
//
// Configuration: DATA_BUCKET (required), STATE_MACHINE_ARN (training is not started without
// it), MAX_UPLOAD_BYTES (default 67108864), LOG_LEVEL.
package main

import (
	"context"
	"errors"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/stockcast/stockcast/shared/handlers"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/platform"
	"github.com/stockcast/stockcast/shared/store"
)

func main() {
	logger := platform.SetupLambdaLogging("merge")
	env := platform.NewEnv()
	bucket := env.Required("DATA_BUCKET")
	stateMachine := env.String("STATE_MACHINE_ARN", "")
	config := handlers.DefaultMergeConfig()
	config.MaxUploadBytes = env.Int64("MAX_UPLOAD_BYTES", config.MaxUploadBytes)
	cfg, err := platform.LoadAWSConfig(context.Background())
	if err = errors.Join(env.Err(), err); err != nil {
		logger.Error("cannot start", "error", err)
		os.Exit(1)
	}

	s3 := store.NewS3(platform.NewS3Client(cfg), bucket)
	var starter pipeline.Starter = pipeline.NotWired{Logger: logger}
	if stateMachine != "" {
		starter = &pipeline.StepFunctions{Client: platform.NewStepFunctionsClient(cfg), StateMachineARN: stateMachine, Logger: logger}
	}
	merge := handlers.NewMerge(s3, starter, logger)
	merge.Config = config
	lambda.Start(merge.Handle)
}
