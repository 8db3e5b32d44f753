// Command merge is the MergeFunction Lambda: S3 ObjectCreated events on uploads/*.csv are merged
// into data/large_dataset.csv and start the training state machine.
//
// Configuration: DATA_BUCKET (required), STATE_MACHINE_ARN (training is not started without
// it), MAX_UPLOAD_BYTES (default 67108864), LOG_LEVEL.
package main

import (
	"github.com/stockcast/stockcast/shared/handlers"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/platform"
)

func main() {
	fn := platform.NewFunction("merge")
	var starter pipeline.Starter = pipeline.NotWired{Logger: fn.Logger}
	if arn := fn.Env.String("STATE_MACHINE_ARN", ""); arn != "" {
		starter = &pipeline.StepFunctions{Client: platform.NewStepFunctionsClient(fn.AWS), StateMachineARN: arn, Logger: fn.Logger}
	}
	merge := handlers.NewMerge(fn.DataBucket(), starter, fn.Logger)
	merge.Config.MaxUploadBytes = fn.Env.Int64("MAX_UPLOAD_BYTES", merge.Config.MaxUploadBytes)
	fn.Start(merge.Handle)
}
