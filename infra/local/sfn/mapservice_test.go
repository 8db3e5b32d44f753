package sfn

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// TestServiceMapHistory checks the Map events GetExecutionHistory gives an
// SDK: an inline Map's MapStateStarted length and its iterations' indexes, a
// Distributed Map's run ARN and its failure's error.
func TestServiceMapHistory(t *testing.T) {
	inv := workOn(newFakeInvoker(), func(_ context.Context, i int) ([]byte, error) {
		if i == 11 {
			return nil, boom
		}
		return json.Marshal(i)
	})
	ts := startService(t, t.TempDir(), inv)
	machine := ts.register(t, "maps", `{"StartAt":"Inline","States":{
		"Inline":{"Type":"Map","ItemsPath":"$.a","ItemSelector":{"i.$":"$$.Map.Item.Value"},"ResultPath":null,
			"ItemProcessor":{"StartAt":"W1","States":{"W1":{"Type":"Task","Resource":"`+workARN+`","End":true}}},"Next":"Distributed"},
		"Distributed":{"Type":"Map","ItemsPath":"$.b","ItemSelector":{"i.$":"$$.Map.Item.Value"},"Label":"b",
			"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},
				"StartAt":"W2","States":{"W2":{"Type":"Task","Resource":"`+workARN+`","End":true}}},
			"Catch":[{"ErrorEquals":["States.ALL"],"Next":"Done"}],"End":true},
		"Done":{"Type":"Succeed"}}}`)
	started := ts.start(t, machine, "", `{"a":[0,1],"b":[10,11,12]}`)
	ts.wait(t, aws.ToString(started.ExecutionArn))
	if d := ts.describe(t, aws.ToString(started.ExecutionArn)); d.Status != types.ExecutionStatusSucceeded {
		t.Fatalf("execution %s: %s", d.Status, aws.ToString(d.Cause))
	}
	hist, err := ts.client.GetExecutionHistory(context.Background(), &awssfn.GetExecutionHistoryInput{ExecutionArn: started.ExecutionArn})
	if err != nil {
		t.Fatal(err)
	}
	var lengths, indexes []int32
	var runARN, runError string
	for _, e := range hist.Events {
		switch e.Type {
		case types.HistoryEventTypeMapStateStarted:
			lengths = append(lengths, e.MapStateStartedEventDetails.Length)
		case types.HistoryEventTypeMapIterationStarted:
			if aws.ToString(e.MapIterationStartedEventDetails.Name) != "Inline" {
				t.Errorf("iteration of %q", aws.ToString(e.MapIterationStartedEventDetails.Name))
			}
			indexes = append(indexes, e.MapIterationStartedEventDetails.Index)
		case types.HistoryEventTypeMapRunStarted:
			runARN = aws.ToString(e.MapRunStartedEventDetails.MapRunArn)
		case types.HistoryEventTypeMapRunFailed:
			runError = aws.ToString(e.MapRunFailedEventDetails.Error)
		}
	}
	slices.Sort(indexes)
	if !slices.Equal(lengths, []int32{2, 3}) || !slices.Equal(indexes, []int32{0, 1}) {
		t.Errorf("MapStateStarted lengths %v, MapIterationStarted indexes %v; want [2 3] and [0 1]", lengths, indexes)
	}
	if !strings.HasPrefix(runARN, "arn:aws:states:us-east-1:000000000000:mapRun:maps/b:") || runError != ErrorExceedToleratedFailureThreshold {
		t.Errorf("map run %q failed with %q", runARN, runError)
	}
}

// TestServiceRedriveMap checks that redriving an execution that failed in a
// Map runs the Map again on its input.
func TestServiceRedriveMap(t *testing.T) {
	var calls atomic.Int32
	inv := workOn(newFakeInvoker(), func(_ context.Context, i int) ([]byte, error) {
		if calls.Add(1) == 2 {
			return nil, boom
		}
		return json.Marshal(i)
	})
	ts := startService(t, t.TempDir(), inv)
	machine := ts.register(t, "redrive-map", `{"StartAt":"Before","States":{
		"Before":{"Type":"Pass","Result":[0,1,2],"Next":"M"},
		"M":{"Type":"Map","MaxConcurrency":1,"ItemSelector":{"i.$":"$$.Map.Item.Value"},
			"ItemProcessor":{"StartAt":"W","States":{"W":{"Type":"Task","Resource":"`+workARN+`","End":true}}},"End":true}}}`)
	started := ts.start(t, machine, "", `{}`)
	arn := aws.ToString(started.ExecutionArn)
	ts.wait(t, arn)
	if d := ts.describe(t, arn); d.Status != types.ExecutionStatusFailed || aws.ToString(d.Error) != "Boom" {
		t.Fatalf("execution %s %s, want FAILED with Boom", d.Status, aws.ToString(d.Error))
	}
	if _, err := ts.client.RedriveExecution(context.Background(), &awssfn.RedriveExecutionInput{ExecutionArn: started.ExecutionArn}); err != nil {
		t.Fatal(err)
	}
	ts.wait(t, arn)
	d := ts.describe(t, arn)
	if d.Status != types.ExecutionStatusSucceeded || !jsonEqual(t, aws.ToString(d.Output), `[0,1,2]`) {
		t.Fatalf("redriven execution %s, output %s", d.Status, aws.ToString(d.Output))
	}
	if n := calls.Load(); n != 5 {
		t.Errorf("%d calls, want 5: 2 before the failure, the Map's 3 items again", n)
	}
}
