// Command finetune is the FineTuneFunction Lambda (a container image), the first task of the
// training state machine: it continues training the global LSTM from models/lstm/checkpoint.bin
// on the newly merged days, and the models trained only through each origin of the refit's
// backtest (models/lstm/origins/<k>.bin) up to their new origins, and saves them before the
// invocation's deadline.
//
// Configuration: DATA_BUCKET (required); LSTM_ACTIVATION (tanh or relu, default tanh),
// LSTM_FULL_EPOCHS (default 50), LSTM_FINETUNE_EPOCHS (default 10), LSTM_MAX_WINDOWS (default
// 100000; of a dataset of several shards, the fine-tune reads no more shards and keeps no more
// series than one epoch's windows need: of the shards the upload touched, and a replay sample
// of the others), LSTM_COVARIATES (true: read the dataset's known covariates such as promotion
// and holiday flags; default false), LSTM_SAVE_MARGIN (time kept to save before the deadline,
// default 20s); LOG_LEVEL.
package main

import (
	"github.com/stockcast/stockcast/shared/handlers/finetune"
	"github.com/stockcast/stockcast/shared/lstm"
	"github.com/stockcast/stockcast/shared/platform"
)

func main() {
	fn := platform.NewFunction("finetune")
	h := finetune.New(fn.DataBucket(), fn.Logger)
	h.Config.Activation = lstm.Activation(fn.Env.String("LSTM_ACTIVATION", string(h.Config.Activation)))
	h.Policy.FullEpochs = int(fn.Env.Int64("LSTM_FULL_EPOCHS", int64(h.Policy.FullEpochs)))
	h.Policy.FineTuneEpochs = int(fn.Env.Int64("LSTM_FINETUNE_EPOCHS", int64(h.Policy.FineTuneEpochs)))
	h.Policy.MaxWindows = int(fn.Env.Int64("LSTM_MAX_WINDOWS", int64(h.Policy.MaxWindows)))
	h.Covariates = fn.Env.Bool("LSTM_COVARIATES", h.Covariates)
	h.SaveMargin = fn.Env.Duration("LSTM_SAVE_MARGIN", h.SaveMargin)
	fn.Start(h.Handle, h.Config.Validate())
}
