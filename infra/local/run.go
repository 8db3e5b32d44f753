package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/stockcast/stockcast/infra/local/stack"
	"github.com/stockcast/stockcast/shared/platform"
)

// runStack starts the embedded local stack and serves until interrupted.
func runStack(ctx context.Context, args []string) error {
	flags := flag.NewFlagSet("run", flag.ContinueOnError)
	addr := flags.String("addr", "127.0.0.1:4566", "where the AWS endpoint (S3, Step Functions) listens")
	apiAddr := flags.String("api", "127.0.0.1:3000", "where the forecast API listens")
	apiKey := flags.String("api-key", "", "require this API key in x-api-key on every route but the page's, as the AWS stack does (default: none)")
	state := flags.String("state", ".stockcast", "directory that keeps the stack's state across restarts")
	bucket := flags.String("bucket", "stockcast-local", "the data bucket")
	seed := flags.String("seed", "testdata/sample_dataset.csv", "dataset uploaded on first start (empty: none)")
	useRIE := flags.Bool("rie", false, "run the functions' bootstrap binaries (from --build) under the Lambda Runtime Interface Emulator")
	build := flags.String("build", "build", "directory of the function binaries (make build) and, for --rie, the emulator")
	fullEpochs := flags.Int("lstm-full-epochs", 8, "epochs of the LSTM's first (full) training, so a first model is served soon; 0: the function's default (50)")
	maxWindows := flags.Int("lstm-max-windows", 20000, "windows per epoch of that first training, and new windows per epoch of a fine-tune; 0: the function's default (100000)")
	sweep := flags.Duration("sweep-interval", stack.DefaultSweepInterval, "how often the merge function sweeps dead jobs and untrained datasets, as the template's schedule does")
	shardMaxRows := flags.Int("shard-max-rows", 0, "rows a dataset shard holds before the merge doubles the shard count (MERGE_SHARD_MAX_ROWS); 0: the function's default (1000000)")
	if err := flags.Parse(args); err != nil {
		return exitError{2}
	}
	logger := platform.NewLogger(os.Stderr)
	cfg := stack.Config{Addr: *addr, APIAddr: *apiAddr, APIKey: *apiKey, StateDir: *state, Bucket: *bucket, Seed: *seed, BuildDir: *build, Logger: logger,
		LSTMFullEpochs: *fullEpochs, LSTMMaxWindows: *maxWindows, SweepInterval: *sweep, ShardMaxRows: *shardMaxRows}
	if *useRIE {
		cfg.Emulator = filepath.Join(*build, "aws-lambda-rie")
	}
	s, err := stack.Start(ctx, cfg)
	if err != nil {
		return err
	}
	logger.Info("local stack ready", "endpoint", s.Endpoint(), "api", s.APIEndpoint(), "bucket", *bucket)
	fmt.Fprintf(os.Stderr, "\nstockcast local stack: AWS endpoint %[1]s (S3, Step Functions), API %[3]s, bucket s3://%[2]s\n"+
		"  upload:   aws --endpoint-url %[1]s s3 cp testdata/new_data.csv s3://%[2]s/uploads/\n"+
		"  forecast: curl '%[3]s/forecast?product_id=P0001&days=7'\n"+
		"  progress: bin/stockcast status\n"+
		"  (AWS credentials: any, e.g. AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1)\n\n",
		s.Endpoint(), *bucket, s.APIEndpoint())
	<-ctx.Done()
	logger.Info("stopping the local stack")
	return s.Close()
}
