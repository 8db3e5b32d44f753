package stack_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/platform"
	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/stepfunctions"
)

// TestStepFunctionsStarterIsIdempotent drives the merge function's real starter through the AWS
// SDK against the stack's Step Functions: starting the same job twice while it runs starts one
// execution; once it has ended, starting the job again (a retry, a repair) starts a new one.
func TestStepFunctionsStarterIsIdempotent(t *testing.T) {
	s := startBare(t)
	machine, err := s.StepFunctions().RegisterStateMachine("Wait", []byte(`{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"End":true}}}`))
	if err != nil {
		t.Fatal(err)
	}
	client := platform.NewStepFunctionsClient(platform.LocalAWSConfig(s.Endpoint()))
	starter := &stepfunctions.Starter{Client: client, StateMachineARN: machine, Logger: slog.New(slog.DiscardHandler)}
	in := pipeline.TaskInput{Bucket: "stockcast-local", DatasetKey: shards.SingleKey, DatasetETag: `"e"`, JobID: "upload-0123456789abcdef"}

	first, err := starter.Start(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := starter.Start(context.Background(), in); err != nil || again != first {
		t.Errorf("second start while running: %q, %v; want %q", again, err, first)
	}
	if _, err := s.StepFunctions().Wait(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	if running, err := starter.Running(context.Background(), first); err != nil || running {
		t.Errorf("Running after the end: %v, %v", running, err)
	}
	again, err := starter.Start(context.Background(), in)
	if err != nil || again == first || !strings.Contains(again, ":"+in.JobID+"-r") {
		t.Errorf("start after the execution finished: %q, %v; want a new execution named after the job", again, err)
	}
	list, err := client.ListExecutions(context.Background(), &awssfn.ListExecutionsInput{StateMachineArn: aws.String(machine)})
	if err != nil || len(list.Executions) != 2 {
		t.Errorf("executions %+v (%v), want two", list, err)
	}
}
