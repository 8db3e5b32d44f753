package sfn

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stockcast/stockcast/infra/local/lambdaerr"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"
)

// instantClock is a Clock whose Sleep returns at once and records the delay.
type instantClock struct {
	mu    sync.Mutex
	slept []time.Duration
}

func (c *instantClock) Now() time.Time { return time.Now() }

func (c *instantClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.slept = append(c.slept, d)
	c.mu.Unlock()
	return ctx.Err()
}

func (c *instantClock) sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.slept)
}

// testService is a Service behind an httptest server and an SDK client for it.
type testService struct {
	svc    *Service
	client *awssfn.Client
	clock  *instantClock
}

// startService starts a service on dir; it is closed when the test ends
// unless the test closes it first.
func startService(t *testing.T, dir string, inv Invoker) *testService {
	t.Helper()
	clock := &instantClock{}
	svc, err := New(Options{Dir: dir, Invoker: inv, Clock: clock, Logger: discardLogger()})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(svc)
	t.Cleanup(func() {
		srv.Close()
		svc.Close()
	})
	client := awssfn.New(awssfn.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  aws.AnonymousCredentials{},
	})
	return &testService{svc: svc, client: client, clock: clock}
}

func (ts *testService) register(t *testing.T, name, definition string) string {
	t.Helper()
	arn, err := ts.svc.RegisterStateMachine(name, []byte(definition))
	if err != nil {
		t.Fatalf("RegisterStateMachine: %v", err)
	}
	return arn
}

func (ts *testService) start(t *testing.T, machine, name, input string) *awssfn.StartExecutionOutput {
	t.Helper()
	in := &awssfn.StartExecutionInput{StateMachineArn: aws.String(machine), Input: aws.String(input)}
	if name != "" {
		in.Name = aws.String(name)
	}
	out, err := ts.client.StartExecution(context.Background(), in)
	if err != nil {
		t.Fatalf("StartExecution: %v", err)
	}
	return out
}

func (ts *testService) wait(t *testing.T, arn string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := ts.svc.Wait(ctx, arn); err != nil {
		t.Fatal(err)
	}
}

func (ts *testService) describe(t *testing.T, arn string) *awssfn.DescribeExecutionOutput {
	t.Helper()
	out, err := ts.client.DescribeExecution(context.Background(), &awssfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	if err != nil {
		t.Fatalf("DescribeExecution: %v", err)
	}
	return out
}

const echoMachine = `{"StartAt":"Echo","States":{"Echo":{"Type":"Task",
	"Resource":"arn:aws:lambda:us-east-1:000000000000:function:echo","End":true}}}`

// blocker is a function that runs until released.
type blocker struct {
	started chan struct{}
	release chan struct{}
}

func newBlocker() *blocker {
	return &blocker{started: make(chan struct{}, 16), release: make(chan struct{})}
}

func (b *blocker) fn(ctx context.Context, p []byte) ([]byte, error) {
	b.started <- struct{}{}
	select {
	case <-b.release:
		return p, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

const blockingMachine = `{"StartAt":"Block","States":{"Block":{"Type":"Task",
	"Resource":"arn:aws:lambda:us-east-1:000000000000:function:block","End":true}}}`

func TestServiceStartDescribeList(t *testing.T) {
	ts := startService(t, t.TempDir(), newFakeInvoker().echo("echo"))
	machine := ts.register(t, "echo-machine", echoMachine)
	ctx := context.Background()

	var arns []string
	for i, name := range []string{"first", "second", "third"} {
		started := ts.start(t, machine, name, `{"n":`+string(rune('1'+i))+`}`)
		ts.wait(t, *started.ExecutionArn)
		arns = append(arns, *started.ExecutionArn)
		if want := "arn:aws:states:us-east-1:000000000000:execution:echo-machine:" + name; *started.ExecutionArn != want {
			t.Errorf("execution ARN %s, want %s", *started.ExecutionArn, want)
		}
	}
	d := ts.describe(t, arns[1])
	if d.Status != types.ExecutionStatusSucceeded || *d.Output != `{"n":2}` || *d.Input != `{"n":2}` ||
		*d.Name != "second" || *d.StateMachineArn != machine || d.StartDate == nil || d.StopDate == nil ||
		d.StopDate.Before(*d.StartDate) {
		t.Errorf("DescribeExecution: %+v", d)
	}

	// Newest first, one page at a time.
	var listed []string
	var token *string
	for {
		page, err := ts.client.ListExecutions(ctx, &awssfn.ListExecutionsInput{StateMachineArn: aws.String(machine), MaxResults: 2, NextToken: token})
		if err != nil {
			t.Fatalf("ListExecutions: %v", err)
		}
		for _, e := range page.Executions {
			listed = append(listed, *e.Name)
			if e.Status != types.ExecutionStatusSucceeded || e.StopDate == nil {
				t.Errorf("listed %+v", e)
			}
		}
		if token = page.NextToken; token == nil {
			break
		}
	}
	if strings.Join(listed, ",") != "third,second,first" {
		t.Errorf("listed %v, want newest first", listed)
	}
	running, err := ts.client.ListExecutions(ctx, &awssfn.ListExecutionsInput{StateMachineArn: aws.String(machine), StatusFilter: types.ExecutionStatusRunning})
	if err != nil || len(running.Executions) != 0 {
		t.Errorf("running executions %v, %v", running, err)
	}

	machines, err := ts.client.ListStateMachines(ctx, &awssfn.ListStateMachinesInput{})
	if err != nil || len(machines.StateMachines) != 1 || *machines.StateMachines[0].StateMachineArn != machine {
		t.Errorf("ListStateMachines: %+v, %v", machines, err)
	}
	sm, err := ts.client.DescribeStateMachine(ctx, &awssfn.DescribeStateMachineInput{StateMachineArn: aws.String(machine)})
	if err != nil || *sm.Definition != echoMachine || *sm.Name != "echo-machine" || sm.Type != types.StateMachineTypeStandard {
		t.Errorf("DescribeStateMachine: %+v, %v", sm, err)
	}
}

func TestServiceGeneratedName(t *testing.T) {
	ts := startService(t, t.TempDir(), newFakeInvoker().echo("echo"))
	machine := ts.register(t, "m", echoMachine)
	out, err := ts.client.StartExecution(context.Background(), &awssfn.StartExecutionInput{StateMachineArn: aws.String(machine)})
	if err != nil {
		t.Fatal(err)
	}
	ts.wait(t, *out.ExecutionArn)
	d := ts.describe(t, *out.ExecutionArn)
	if len(*d.Name) != 36 || *d.Input != "{}" || d.Status != types.ExecutionStatusSucceeded {
		t.Errorf("execution without a name or input: %+v", d)
	}
}

// TestServiceDuplicateNames checks StartExecution's idempotency for standard
// workflows.
func TestServiceDuplicateNames(t *testing.T) {
	b := newBlocker()
	ts := startService(t, t.TempDir(), newFakeInvoker().on("block", b.fn))
	machine := ts.register(t, "m", blockingMachine)
	ctx := context.Background()

	first := ts.start(t, machine, "upload-a", `{"key":"uploads/a.csv"}`)
	<-b.started
	again := ts.start(t, machine, "upload-a", `{"key":"uploads/a.csv"}`)
	if *again.ExecutionArn != *first.ExecutionArn || !again.StartDate.Equal(*first.StartDate) {
		t.Errorf("same name and input while running: %v %v, want %v %v", *again.ExecutionArn, again.StartDate, *first.ExecutionArn, first.StartDate)
	}
	_, err := ts.client.StartExecution(ctx, &awssfn.StartExecutionInput{StateMachineArn: aws.String(machine), Name: aws.String("upload-a"), Input: aws.String(`{"key":"other"}`)})
	var exists *types.ExecutionAlreadyExists
	if !errors.As(err, &exists) {
		t.Errorf("different input while running: %v, want ExecutionAlreadyExists", err)
	}
	close(b.release)
	ts.wait(t, *first.ExecutionArn)
	_, err = ts.client.StartExecution(ctx, &awssfn.StartExecutionInput{StateMachineArn: aws.String(machine), Name: aws.String("upload-a"), Input: aws.String(`{"key":"uploads/a.csv"}`)})
	if !errors.As(err, &exists) {
		t.Errorf("same input after it finished: %v, want ExecutionAlreadyExists", err)
	}
	list, err := ts.client.ListExecutions(ctx, &awssfn.ListExecutionsInput{StateMachineArn: aws.String(machine)})
	if err != nil || len(list.Executions) != 1 {
		t.Errorf("executions %+v, %v; want exactly one", list, err)
	}
}

// TestServiceErrors checks that errors reach the SDK as its typed errors.
func TestServiceErrors(t *testing.T) {
	ts := startService(t, t.TempDir(), newFakeInvoker().echo("echo"))
	machine := ts.register(t, "m", echoMachine)
	ctx := context.Background()
	start := func(machine, name, input string) error {
		_, err := ts.client.StartExecution(ctx, &awssfn.StartExecutionInput{StateMachineArn: aws.String(machine), Name: aws.String(name), Input: aws.String(input)})
		return err
	}
	check := func(what string, err error, target any) {
		t.Helper()
		if !errors.As(err, target) {
			t.Errorf("%s: got %v (%T), want %T", what, err, err, target)
		}
	}
	check("bad name", start(machine, "has space", `{}`), new(*types.InvalidName))
	check("long name", start(machine, strings.Repeat("a", 81), `{}`), new(*types.InvalidName))
	check("bad input", start(machine, "x", `{nope`), new(*types.InvalidExecutionInput))
	check("unknown machine", start(machine+"-missing", "x", `{}`), new(*types.StateMachineDoesNotExist))
	_, err := ts.client.DescribeExecution(ctx, &awssfn.DescribeExecutionInput{ExecutionArn: aws.String(machine + ":nope")})
	check("unknown execution", err, new(*types.ExecutionDoesNotExist))
	_, err = ts.client.DescribeExecution(ctx, &awssfn.DescribeExecutionInput{ExecutionArn: aws.String("nope")})
	check("not an ARN", err, new(*types.InvalidArn))
	_, err = ts.client.ListExecutions(ctx, &awssfn.ListExecutionsInput{StateMachineArn: aws.String(machine), NextToken: aws.String("garbage!")})
	check("bad token", err, new(*types.InvalidToken))
	_, err = ts.client.DescribeStateMachine(ctx, &awssfn.DescribeStateMachineInput{StateMachineArn: aws.String(machine + "x")})
	check("unknown state machine", err, new(*types.StateMachineDoesNotExist))
	_, err = ts.client.ListExecutions(ctx, &awssfn.ListExecutionsInput{StateMachineArn: aws.String(machine + "x")})
	check("executions of an unknown state machine", err, new(*types.StateMachineDoesNotExist))
	_, err = ts.client.ListExecutions(ctx, &awssfn.ListExecutionsInput{StateMachineArn: aws.String(machine), StatusFilter: "DONE"})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != CodeValidation {
		t.Errorf("bad status filter: %v, want %s", err, CodeValidation)
	}
	_, err = ts.client.GetExecutionHistory(ctx, &awssfn.GetExecutionHistoryInput{ExecutionArn: aws.String(machine + ":nope")})
	check("history of an unknown execution", err, new(*types.ExecutionDoesNotExist))
}

func TestRegisterStateMachineErrors(t *testing.T) {
	svc, err := New(Options{Dir: t.TempDir(), Invoker: newFakeInvoker(), Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	var apiErr *APIError
	if _, err := svc.RegisterStateMachine("bad name", []byte(echoMachine)); !errors.As(err, &apiErr) || apiErr.Code != CodeInvalidName {
		t.Errorf("bad name: %v", err)
	}
	_, err = svc.RegisterStateMachine("m", []byte(`{"StartAt":"A","States":{"A":{"Type":"Pass"}}}`))
	if !errors.As(err, &apiErr) || apiErr.Code != CodeInvalidDefinition || !strings.Contains(err.Error(), `state "A": field Next`) {
		t.Errorf("bad definition: %v", err)
	}
}

func TestNewNeedsDirAndInvoker(t *testing.T) {
	if _, err := New(Options{Invoker: newFakeInvoker()}); err == nil {
		t.Error("New without a directory succeeded")
	}
	if _, err := New(Options{Dir: t.TempDir()}); err == nil {
		t.Error("New without an invoker succeeded")
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{Dir: file, Invoker: newFakeInvoker()}); err == nil {
		t.Error("New on a file succeeded")
	}
}

// TestServiceWireErrors checks the raw protocol for what the SDK hides.
func TestServiceWireErrors(t *testing.T) {
	svc, err := New(Options{Dir: t.TempDir(), Invoker: newFakeInvoker(), Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{}`))
	req.Header.Set("X-Amz-Target", "AWSStepFunctions.CreateActivity")
	req.Header.Set("Content-Type", contentType)
	if !IsRequest(req) {
		t.Error("IsRequest is false for a Step Functions request")
	}
	rec := httptest.NewRecorder()
	svc.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"__type":"UnknownOperationException"`) ||
		rec.Header().Get("Content-Type") != contentType {
		t.Errorf("unsupported operation: %d %s", rec.Code, rec.Body)
	}
	s3 := httptest.NewRequest(http.MethodPut, "/bucket/key", nil)
	if IsRequest(s3) {
		t.Error("IsRequest is true for an S3 request")
	}
}

func TestServiceHistory(t *testing.T) {
	ts := startService(t, t.TempDir(), newFakeInvoker().echo("echo"))
	def := `{"StartAt":"Prepare","States":{
		"Prepare":{"Type":"Pass","Result":{"x":1},"Next":"Invoke"},
		"Invoke":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"echo","Payload.$":"$"},
			"TimeoutSeconds":60,"OutputPath":"$.Payload","End":true}}}`
	machine := ts.register(t, "m", def)
	started := ts.start(t, machine, "h", `{"in":true}`)
	ts.wait(t, *started.ExecutionArn)
	ctx := context.Background()

	hist, err := ts.client.GetExecutionHistory(ctx, &awssfn.GetExecutionHistoryInput{ExecutionArn: started.ExecutionArn})
	if err != nil {
		t.Fatalf("GetExecutionHistory: %v", err)
	}
	var got []string
	for _, e := range hist.Events {
		got = append(got, string(e.Type))
	}
	want := []string{"ExecutionStarted", "PassStateEntered", "PassStateExited", "TaskStateEntered", "TaskScheduled",
		"TaskStarted", "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("events %v, want %v", got, want)
	}
	e := hist.Events
	if *e[0].ExecutionStartedEventDetails.Input != `{"in":true}` || *e[1].StateEnteredEventDetails.Name != "Prepare" ||
		*e[2].StateExitedEventDetails.Output != `{"x":1}` {
		t.Errorf("state details: %+v %+v %+v", e[0].ExecutionStartedEventDetails, e[1].StateEnteredEventDetails, e[2].StateExitedEventDetails)
	}
	sched := e[4].TaskScheduledEventDetails
	if sched == nil || *sched.Resource != "invoke" || *sched.ResourceType != "lambda" || *sched.Region != "us-east-1" ||
		*sched.TimeoutInSeconds != 60 || !strings.Contains(*sched.Parameters, `"FunctionName":"echo"`) {
		t.Errorf("TaskScheduled details: %+v", sched)
	}
	if out := *e[8].ExecutionSucceededEventDetails.Output; out != `{"x":1}` {
		t.Errorf("execution output %s", out)
	}
	for i, ev := range e {
		if ev.Id != int64(i+1) || ev.Timestamp == nil {
			t.Errorf("event %d: id %d timestamp %v", i, ev.Id, ev.Timestamp)
		}
	}

	// Reverse order, in pages, without data.
	var ids []int64
	var token *string
	for {
		page, err := ts.client.GetExecutionHistory(ctx, &awssfn.GetExecutionHistoryInput{
			ExecutionArn: started.ExecutionArn, ReverseOrder: true, MaxResults: 4, NextToken: token, IncludeExecutionData: aws.Bool(false),
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range page.Events {
			ids = append(ids, ev.Id)
			if d := ev.ExecutionStartedEventDetails; d != nil && d.Input != nil {
				t.Errorf("input included without execution data: %s", *d.Input)
			}
		}
		if token = page.NextToken; token == nil {
			break
		}
	}
	if !slices.Equal(ids, []int64{9, 8, 7, 6, 5, 4, 3, 2, 1}) {
		t.Errorf("reverse ids %v", ids)
	}
}

func TestServiceStopExecution(t *testing.T) {
	b := newBlocker()
	ts := startService(t, t.TempDir(), newFakeInvoker().on("block", b.fn))
	machine := ts.register(t, "m", blockingMachine)
	started := ts.start(t, machine, "to-stop", `{}`)
	<-b.started
	stopped, err := ts.client.StopExecution(context.Background(), &awssfn.StopExecutionInput{
		ExecutionArn: started.ExecutionArn, Error: aws.String("Operator"), Cause: aws.String("not needed"),
	})
	if err != nil || stopped.StopDate == nil {
		t.Fatalf("StopExecution: %+v, %v", stopped, err)
	}
	d := ts.describe(t, *started.ExecutionArn)
	if d.Status != types.ExecutionStatusAborted || *d.Error != "Operator" || *d.Cause != "not needed" {
		t.Errorf("stopped execution: %+v", d)
	}
}

// TestServicePersistence checks that executions survive a restart: finished
// ones as they were, running ones ABORTED, whether the process stopped
// cleanly (Close) or not.
func TestServicePersistence(t *testing.T) {
	dir := t.TempDir()
	b := newBlocker()
	inv := newFakeInvoker().echo("echo").on("block", b.fn)
	first := startService(t, dir, inv)
	echoARN := first.register(t, "echo", echoMachine)
	blockARN := first.register(t, "block", blockingMachine)
	done := first.start(t, echoARN, "done", `{"v":1}`)
	first.wait(t, *done.ExecutionArn)
	running := first.start(t, blockARN, "running", `{}`)
	<-b.started

	// A crash: the files as they are while the execution runs.
	crashed := t.TempDir()
	if err := os.CopyFS(crashed, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	if err := first.svc.Close(); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct{ name, dir string }{{"after Close", dir}, {"after a crash", crashed}} {
		t.Run(tc.name, func(t *testing.T) {
			again := startService(t, tc.dir, inv)
			again.register(t, "echo", echoMachine)
			d := again.describe(t, *done.ExecutionArn)
			if d.Status != types.ExecutionStatusSucceeded || *d.Output != `{"v":1}` || !d.StartDate.Equal(*done.StartDate) {
				t.Errorf("finished execution after restart: %+v", d)
			}
			r := again.describe(t, *running.ExecutionArn)
			if r.Status != types.ExecutionStatusAborted || *r.Cause != CauseStopped || r.StopDate == nil {
				t.Errorf("running execution after restart: %+v", r)
			}
			// Listing works for a state machine that was not registered again.
			list, err := again.client.ListExecutions(context.Background(), &awssfn.ListExecutionsInput{StateMachineArn: aws.String(blockARN)})
			if err != nil || len(list.Executions) != 1 || list.Executions[0].Status != types.ExecutionStatusAborted {
				t.Errorf("ListExecutions after restart: %+v, %v", list, err)
			}
			hist, err := again.client.GetExecutionHistory(context.Background(), &awssfn.GetExecutionHistoryInput{ExecutionArn: running.ExecutionArn})
			if err != nil {
				t.Fatal(err)
			}
			last := hist.Events[len(hist.Events)-1]
			if last.Type != types.HistoryEventTypeExecutionAborted || *last.ExecutionAbortedEventDetails.Cause != CauseStopped ||
				last.Id != int64(len(hist.Events)) || last.PreviousEventId != last.Id-1 {
				t.Errorf("last event after restart: %+v", last)
			}
			// The name stays taken.
			_, err = again.client.StartExecution(context.Background(), &awssfn.StartExecutionInput{StateMachineArn: aws.String(echoARN), Name: aws.String("done"), Input: aws.String(`{"v":1}`)})
			if !errors.As(err, new(*types.ExecutionAlreadyExists)) {
				t.Errorf("restarting a finished name: %v", err)
			}
		})
	}
	files, _ := filepath.Glob(filepath.Join(dir, "executions", "*", "*"))
	if len(files) != 4 {
		t.Errorf("persisted files %v, want a record and a history for each of 2 executions", files)
	}
}

// TestServiceTrainingPipeline runs the training pipeline's shape through the
// SDK, with retries that do not really wait.
func TestServiceTrainingPipeline(t *testing.T) {
	publish := &publishRecorder{}
	inv := newFakeInvoker().
		failsWith("stockcast-refit", `{"trend":"v2"}`,
			&lambdaerr.Error{Type: "Lambda.ServiceException"}, &lambdaerr.Error{Type: "DatasetChanged"}).
		failsWith("stockcast-finetune", `{}`,
			&lambdaerr.Error{Type: "Lambda.AWSLambdaException"}, &lambdaerr.Error{Type: "OutOfMemory", Message: "killed"}).
		on("stockcast-publish", publish.fn)
	ts := startService(t, t.TempDir(), inv)
	machine := ts.register(t, "TrainingStateMachine", string(trainingDefinition(t)))
	started := ts.start(t, machine, "upload-sales-2024-06-01", `{"job":"job-7"}`)
	ts.wait(t, *started.ExecutionArn)
	d := ts.describe(t, *started.ExecutionArn)
	if d.Status != types.ExecutionStatusFailed || *d.Error != "OutOfMemory" ||
		*d.Cause != `{"errorMessage":"killed","errorType":"OutOfMemory"}` {
		t.Errorf("execution: status %s error %v cause %v", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
	sent := publish.sent()
	if len(sent) != 1 {
		t.Fatalf("publish called %d times, want once", len(sent))
	}
	if caught, _ := sent[0]["error"].(map[string]any); caught["Error"] != "OutOfMemory" {
		t.Errorf("publish got %v", sent)
	}
	// The fine-tune's transient error waited before its retry; the refit's
	// waits depend on how far it got before the fine-tune failed.
	if slept := ts.clock.sleeps(); len(slept) == 0 {
		t.Error("no retry waited")
	}
}

// TestServiceRedriveExecution redrives a failed execution through the SDK: it continues from the
// state that failed, on that state's input, without running the states before it again.
func TestServiceRedriveExecution(t *testing.T) {
	inv := newFakeInvoker().echo("first").failsWith("flaky", `{"trained":true}`, &lambdaerr.Error{Type: "OutOfMemory", Message: "killed"})
	ts := startService(t, t.TempDir(), inv)
	machine := ts.register(t, "redrive", `{"StartAt":"Prepare","States":{
		"Prepare":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:first","ResultPath":"$.prepared","Next":"Train"},
		"Train":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:flaky","ResultPath":"$.result","Next":"Done"},
		"Done":{"Type":"Pass","End":true}}}`)
	started := ts.start(t, machine, "job-1", `{"job":"job-1"}`)
	ts.wait(t, *started.ExecutionArn)
	if d := ts.describe(t, *started.ExecutionArn); d.Status != types.ExecutionStatusFailed || d.RedriveStatus != types.ExecutionRedriveStatusRedrivable {
		t.Fatalf("before the redrive: %+v", d)
	}

	out, err := ts.client.RedriveExecution(context.Background(), &awssfn.RedriveExecutionInput{ExecutionArn: started.ExecutionArn})
	if err != nil || out.RedriveDate == nil {
		t.Fatalf("RedriveExecution: %+v, %v", out, err)
	}
	ts.wait(t, *started.ExecutionArn)
	d := ts.describe(t, *started.ExecutionArn)
	if d.Status != types.ExecutionStatusSucceeded || d.RedriveCount == nil || *d.RedriveCount != 1 ||
		d.RedriveStatus != types.ExecutionRedriveStatusNotRedrivable || d.Error != nil ||
		*d.Output != `{"job":"job-1","prepared":{"job":"job-1"},"result":{"trained":true}}` {
		t.Errorf("after the redrive: %+v (output %s)", d, aws.ToString(d.Output))
	}
	if n := len(inv.callsTo("first")); n != 1 {
		t.Errorf("the state before the failure ran %d times, want once", n)
	}
	if n := len(inv.callsTo("flaky")); n != 2 {
		t.Errorf("the failed state ran %d times, want twice", n)
	}
	hist, err := ts.client.GetExecutionHistory(context.Background(), &awssfn.GetExecutionHistoryInput{ExecutionArn: started.ExecutionArn})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for i, e := range hist.Events {
		if e.Id != int64(i+1) {
			t.Errorf("event %d has id %d", i, e.Id)
		}
		kinds = append(kinds, string(e.Type))
	}
	joined := strings.Join(kinds, ",")
	if !strings.Contains(joined, "ExecutionFailed,ExecutionRedriven,TaskStateEntered,") || !strings.HasSuffix(joined, "ExecutionSucceeded") {
		t.Errorf("history %s", joined)
	}

	_, err = ts.client.RedriveExecution(context.Background(), &awssfn.RedriveExecutionInput{ExecutionArn: started.ExecutionArn})
	if !errors.As(err, new(*types.ExecutionNotRedrivable)) {
		t.Errorf("redriving a succeeded execution: %v", err)
	}
}

// TestServiceRedriveAfterRestart redrives an execution that a restart of the service aborted.
func TestServiceRedriveAfterRestart(t *testing.T) {
	dir := t.TempDir()
	b := newBlocker()
	first := startService(t, dir, newFakeInvoker().on("block", b.fn))
	machine := first.register(t, "block", blockingMachine)
	running := first.start(t, machine, "running", `{"v":2}`)
	<-b.started
	if err := first.svc.Close(); err != nil {
		t.Fatal(err)
	}
	again := startService(t, dir, newFakeInvoker().echo("block"))
	again.register(t, "block", blockingMachine)
	if _, err := again.client.RedriveExecution(context.Background(), &awssfn.RedriveExecutionInput{ExecutionArn: running.ExecutionArn}); err != nil {
		t.Fatal(err)
	}
	again.wait(t, *running.ExecutionArn)
	if d := again.describe(t, *running.ExecutionArn); d.Status != types.ExecutionStatusSucceeded || *d.Output != `{"v":2}` {
		t.Errorf("after the redrive: %+v", d)
	}
}
