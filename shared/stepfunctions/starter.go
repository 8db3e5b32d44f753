// Package stepfunctions is the adapter that starts the training state machine on AWS Step
// Functions (or any endpoint that speaks its protocol, such as the local stack's).
package stepfunctions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

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

// Start starts the execution named in.JobID. An execution of that name still running means a
// duplicate event, and is success; one that has ended (the job trains again: a retry, or a
// repair after a crash) gets a new execution named after the job and the time.
func (s *Starter) Start(ctx context.Context, in pipeline.TaskInput) (string, error) {
	input, err := json.Marshal(in)
	if err != nil {
		return "", fmt.Errorf("encode execution input: %w", err)
	}
	arn, err := s.start(ctx, in.JobID, input)
	var exists *types.ExecutionAlreadyExists
	if !errors.As(err, &exists) {
		return arn, err
	}
	existing := s.executionARN(in.JobID)
	described, err := s.Client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(existing)})
	if err != nil {
		return "", fmt.Errorf("describe training %s: %w", existing, err)
	}
	if described.Status == types.ExecutionStatusRunning {
		s.Logger.InfoContext(ctx, "training already started for this upload", "job_id", in.JobID)
		return existing, nil
	}
	name := fmt.Sprintf("%s-r%s", in.JobID, strconv.FormatInt(time.Now().UnixMilli(), 36))
	s.Logger.InfoContext(ctx, "the job's execution has ended; training it again", "job_id", in.JobID, "ended", described.Status, "execution", name)
	return s.start(ctx, name, input)
}

func (s *Starter) start(ctx context.Context, name string, input []byte) (string, error) {
	out, err := s.Client.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(s.StateMachineARN),
		Name:            aws.String(name),
		Input:           aws.String(string(input)),
	})
	if err != nil {
		return "", fmt.Errorf("start training %s: %w", name, err)
	}
	return aws.ToString(out.ExecutionArn), nil
}

// executionARN is the ARN of the state machine's execution called name.
func (s *Starter) executionARN(name string) string {
	arn := strings.Replace(s.StateMachineARN, ":stateMachine:", ":execution:", 1)
	return arn + ":" + name
}

// Running reports whether the execution is still running.
func (s *Starter) Running(ctx context.Context, execution string) (bool, error) {
	out, err := s.Client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(execution)})
	if err != nil {
		return false, fmt.Errorf("describe training %s: %w", execution, err)
	}
	return out.Status == types.ExecutionStatusRunning, nil
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
