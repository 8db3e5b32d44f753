// Command finetune is the FineTuneFunction Lambda (a container image), a task of the training
// state machine: it continues training the global LSTM from models/lstm/checkpoint.bin on the
// newly merged days and saves the new checkpoint before the invocation's deadline.
//
// Configuration: DATA_BUCKET (required); LSTM_ACTIVATION (tanh or relu, default tanh),
// LSTM_FULL_EPOCHS (default 50), LSTM_FINETUNE_EPOCHS (default 10), LSTM_MAX_WINDOWS (default
// 100000), LSTM_SAVE_MARGIN (time kept to save before the deadline, default 20s); LOG_LEVEL.
package main

import (
	"github.com/stockcast/stockcast/shared/handlers"
	"github.com/stockcast/stockcast/shared/lstm"
	"github.com/stockcast/stockcast/shared/platform"
)

func main() {
	fn := platform.NewFunction("finetune")
	finetune := handlers.NewFineTune(fn.DataBucket(), fn.Logger)
	finetune.Config.Activation = lstm.Activation(fn.Env.String("LSTM_ACTIVATION", string(finetune.Config.Activation)))
	finetune.Policy.FullEpochs = int(fn.Env.Int64("LSTM_FULL_EPOCHS", int64(finetune.Policy.FullEpochs)))
	finetune.Policy.FineTuneEpochs = int(fn.Env.Int64("LSTM_FINETUNE_EPOCHS", int64(finetune.Policy.FineTuneEpochs)))
	finetune.Policy.MaxWindows = int(fn.Env.Int64("LSTM_MAX_WINDOWS", int64(finetune.Policy.MaxWindows)))
	finetune.SaveMargin = fn.Env.Duration("LSTM_SAVE_MARGIN", finetune.SaveMargin)
	fn.Start(finetune.Handle, finetune.Config.Validate())
}
