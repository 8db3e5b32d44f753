package stack_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stockcast/stockcast/infra/local/sfn"
	"github.com/stockcast/stockcast/shared/platform"
)

// TestDistributedMapReadsTheStacksS3 runs a Distributed Map on the stack's Step Functions whose
// ItemReader reads a JSON array from the stack's own bucket, at the version the input pins, as the
// training state machine reads the dataset index.
func TestDistributedMapReadsTheStacksS3(t *testing.T) {
	s := startBare(t)
	client := platform.NewS3Client(platform.LocalAWSConfig(s.Endpoint()))
	put := func(body string) string {
		out, err := client.PutObject(context.Background(), &s3.PutObjectInput{
			Bucket: aws.String("stockcast-local"), Key: aws.String("data/index.json"), Body: bytes.NewReader([]byte(body)),
		})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.VersionId)
	}
	pinned := put(`[{"k":0},{"k":1}]`)
	put(`[{"k":0},{"k":1},{"k":2},{"k":3}]`)

	machine, err := s.StepFunctions().RegisterStateMachine("Shards", []byte(`{"StartAt":"M","States":{"M":{"Type":"Map",
		"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON"},
			"Parameters":{"Bucket.$":"$.bucket","Key.$":"$.dataset_key","VersionId.$":"$.dataset_version_id"}},
		"ItemSelector":{"shard.$":"$$.Map.Item.Value"},
		"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},
			"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},
		"End":true}}}`))
	if err != nil {
		t.Fatal(err)
	}
	input := fmt.Sprintf(`{"bucket":"stockcast-local","dataset_key":"data/index.json","dataset_version_id":%q}`, pinned)
	started, err := s.StepFunctions().StartExecution(context.Background(), machine, "", input)
	if err != nil {
		t.Fatal(err)
	}
	done, err := s.StepFunctions().Wait(context.Background(), started.ARN)
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != sfn.StatusSucceeded || done.Output != `[{"shard":{"k":0}},{"shard":{"k":1}}]` {
		t.Errorf("execution %s %s %s, output %s; want the pinned index's two shards", done.Status, done.Error, done.Cause, done.Output)
	}
}
