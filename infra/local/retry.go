package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/stockcast/stockcast/shared/handlers/merge"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/platform"
	"github.com/stockcast/stockcast/shared/stepfunctions"
	"github.com/stockcast/stockcast/shared/store"
)

// localStateMachine is the local stack's training state machine.
const localStateMachine = "arn:aws:states:us-east-1:000000000000:stateMachine:TrainingStateMachine"

// runRetry trains a job's rows again after a failed run: an execution that stopped half-way
// (aborted, timed out) is redriven from where it stopped; otherwise the current dataset, which
// holds the job's rows, is trained for the job, as the merge function does.
func runRetry(ctx context.Context, args []string) error {
	flags := flag.NewFlagSet("retry", flag.ContinueOnError)
	endpoint := flags.String("endpoint", "http://127.0.0.1:4566", "AWS endpoint (empty: AWS itself, from the usual environment)")
	bucket := flags.String("bucket", "stockcast-local", "the data bucket")
	machine := flags.String("state-machine", "", "the training state machine's ARN (default: the job's, or the local stack's)")
	flags.Usage = func() {
		fmt.Fprint(flags.Output(), "usage: stockcast retry [--endpoint URL] [--bucket NAME] [--state-machine ARN] JOB\n\n"+
			"Trains a failed job's rows again: redrives its execution if it stopped half-way (aborted, timed out),\n"+
			"otherwise trains the current dataset for the job. Follow it with `stockcast status JOB`.\n\n")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil || flags.NArg() != 1 {
		flags.Usage()
		return exitError{2}
	}
	cfg, err := awsConfig(ctx, *endpoint)
	if err != nil {
		return err
	}
	objects := store.NewS3(platform.NewS3Client(cfg), *bucket)
	states := platform.NewStepFunctionsClient(cfg)
	id := flags.Arg(0)
	job, err := pipeline.NewJobs(objects).Get(ctx, id)
	if err != nil {
		return err
	}
	switch job.Status {
	case pipeline.StatusSucceeded, pipeline.StatusSuperseded:
		version := ""
		if job.Publish != nil {
			version = " (model " + job.Publish.Version + ")"
		}
		fmt.Printf("job %s is %s%s: nothing to retry\n", id, job.Status, version)
		return nil
	case pipeline.StatusRejected:
		fmt.Fprintf(os.Stderr, "job %s was refused: %s\nfix the file and upload it again (the reasons: %s)\n", id, job.Error, job.Upload.Report)
		return exitError{1}
	}
	arn := *machine
	if arn == "" {
		arn = stateMachineOf(job.Execution)
	}
	if job.Execution != "" {
		described, err := states.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(job.Execution)})
		if err != nil {
			return fmt.Errorf("describe %s: %w", job.Execution, err)
		}
		if described.Status == types.ExecutionStatusAborted || described.Status == types.ExecutionStatusTimedOut {
			if _, err := states.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: aws.String(job.Execution)}); err != nil {
				return fmt.Errorf("redrive %s: %w", job.Execution, err)
			}
			fmt.Printf("job %s: execution %s (%s) redriven from where it stopped\n", id, job.Execution, described.Status)
			return nil
		}
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	starter := &stepfunctions.Starter{Client: states, StateMachineARN: arn, Logger: logger}
	if err := merge.New(objects, starter, logger).Retry(ctx, id); err != nil {
		return err
	}
	job, err = pipeline.NewJobs(objects).Get(ctx, id)
	if err != nil {
		return err
	}
	fmt.Printf("job %s: %s/%s, execution %s\n", id, job.Status, job.Stage, job.Execution)
	return nil
}

// stateMachineOf is the state machine of an execution ARN, or the local stack's.
func stateMachineOf(execution string) string {
	parts := strings.Split(execution, ":")
	if len(parts) != 8 || parts[5] != "execution" {
		return localStateMachine
	}
	parts[5] = "stateMachine"
	return strings.Join(parts[:7], ":")
}
