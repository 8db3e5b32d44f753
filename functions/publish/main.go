// Command publish is the PublishFunction Lambda, the last state of the training state machine:
// it writes models/manifest.json from the training results, or records the failure that
// stopped training and leaves the served model alone.
//
// Configuration: DATA_BUCKET (required), LOG_LEVEL.
package main

import (
	"github.com/stockcast/stockcast/shared/handlers/publish"
	"github.com/stockcast/stockcast/shared/platform"
)

func main() {
	fn := platform.NewFunction("publish")
	fn.Start(publish.New(fn.DataBucket(), fn.Logger).Handle)
}
