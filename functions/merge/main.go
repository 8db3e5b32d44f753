// Command merge is the MergeFunction Lambda: S3 ObjectCreated events on uploads/*.csv are merged
// into the sharded dataset (the parts they touch, then data/index.json) and start the training
// state machine; its schedule's sweep event closes the jobs of dead merges and trains the dataset
// if nothing covers it.
//
// Configuration: DATA_BUCKET (required), STATE_MACHINE_ARN (training is not started without
// it), MAX_UPLOAD_BYTES (default 67108864), MAX_NEW_COLUMNS (32), MAX_COLUMNS (256),
// MAX_FIELD_BYTES (1024), MIN_DATE (1900-01-01), MAX_DAYS_AHEAD (365), MERGE_SHARD_MAX_ROWS
// (1000000), LOG_LEVEL.
package main

import (
	"github.com/stockcast/stockcast/shared/handlers/merge"
	"github.com/stockcast/stockcast/shared/platform"
	"github.com/stockcast/stockcast/shared/stepfunctions"
)

func main() {
	fn := platform.NewFunction("merge")
	var starter merge.Starter = stepfunctions.NotWired{Logger: fn.Logger}
	if arn := fn.Env.String("STATE_MACHINE_ARN", ""); arn != "" {
		starter = &stepfunctions.Starter{Client: platform.NewStepFunctionsClient(fn.AWS), StateMachineARN: arn, Logger: fn.Logger}
	}
	h := merge.New(fn.DataBucket(), starter, fn.Logger)
	h.Config = merge.ConfigFromEnv(fn.Env)
	fn.Start(h.HandleEvent)
}
