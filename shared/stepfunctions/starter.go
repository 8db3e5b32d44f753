// Package stepfunctions is the adapter that starts the training state machine on AWS Step
// Functions (or any endpoint that speaks its protocol, such as the local stack's).
package stepfunctions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/stockcast/stockcast/shared/pipeline"
)

// Starter starts executions of one state machine, named by the job id.
type Starter struct {
	Client          *sfn.Client
	StateMachineARN string
	Logger          *slog.Logger
}

// Start starts the execution named in.JobID; ExecutionAlreadyExists means a duplicate event, and
// is success.
func (s *Starter) Start(ctx context.Context, in pipeline.TaskInput) (string, error) {
	input, err := json.Marshal(in)
	if err != nil {
		return "", fmt.Errorf("encode execution input: %w", err)
	}
	out, err := s.Client.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(s.StateMachineARN),
		Name:            aws.String(in.JobID),
		Input:           aws.String(string(input)),
	})
	var exists *types.ExecutionAlreadyExists
	if errors.As(err, &exists) {
		s.Logger.InfoContext(ctx, "training already started for this upload", "job_id", in.JobID)
		return in.JobID, nil
	}
	if err != nil {
		return "", fmt.Errorf("start training %s: %w", in.JobID, err)
	}
	return aws.ToString(out.ExecutionArn), nil
}

// NotWired stands in while no state machine is configured: it logs that training is not wired
// and starts nothing.
type NotWired struct {
	Logger *slog.Logger
}

// Start logs the job that would have been started.
func (n NotWired) Start(ctx context.Context, in pipeline.TaskInput) (string, error) {
	n.Logger.WarnContext(ctx, "training is not wired: STATE_MACHINE_ARN is not set; the dataset was merged but no model will be trained", "job_id", in.JobID)
	return "", nil
}
