// Command finetune is the FineTuneFunction Lambda (a container image), a task of the training
// state machine: it continues training the global LSTM from models/lstm/checkpoint.bin on the
// newly merged days and saves the new checkpoint before the invocation's deadline.
//
// Configuration: DATA_BUCKET (required); LSTM_ACTIVATION (tanh or relu, default tanh),
// LSTM_FULL_EPOCHS (default 50), LSTM_FINETUNE_EPOCHS (default 10), LSTM_MAX_WINDOWS (default
// 100000), LSTM_SAVE_MARGIN (time kept to save before the deadline, default 20s); LOG_LEVEL.
package main

import (
	"context"
	"errors"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/stockcast/stockcast/shared/handlers"
	"github.com/stockcast/stockcast/shared/lstm"
	"github.com/stockcast/stockcast/shared/platform"
	"github.com/stockcast/stockcast/shared/store"
)

func main() {
	logger := platform.SetupLambdaLogging("finetune")
	env := platform.NewEnv()
	bucket := env.Required("DATA_BUCKET")
	cfg, err := platform.LoadAWSConfig(context.Background())
	finetune := handlers.NewFineTune(store.NewS3(platform.NewS3Client(cfg), bucket), logger)
	finetune.Config.Activation = lstm.Activation(env.String("LSTM_ACTIVATION", string(finetune.Config.Activation)))
	finetune.Policy.FullEpochs = int(env.Int64("LSTM_FULL_EPOCHS", int64(finetune.Policy.FullEpochs)))
	finetune.Policy.FineTuneEpochs = int(env.Int64("LSTM_FINETUNE_EPOCHS", int64(finetune.Policy.FineTuneEpochs)))
	finetune.Policy.MaxWindows = int(env.Int64("LSTM_MAX_WINDOWS", int64(finetune.Policy.MaxWindows)))
	finetune.SaveMargin = env.Duration("LSTM_SAVE_MARGIN", finetune.SaveMargin)
	if err = errors.Join(env.Err(), finetune.Config.Validate(), err); err != nil {
		logger.Error("cannot start", "error", err)
		os.Exit(1)
	}
	lambda.Start(finetune.Handle)
}
