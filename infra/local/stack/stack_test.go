package stack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/stockcast/stockcast/infra/local/stack"
	"github.com/stockcast/stockcast/shared/lstm"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/platform"
	"github.com/stockcast/stockcast/shared/store"
	"github.com/stockcast/stockcast/shared/training"
)

// small keeps the in-process LSTM small so the pipeline runs in seconds.
func small(h *stack.Handlers) {
	h.FineTune.Config.Layers = []int{8, 8}
	h.FineTune.Policy = lstm.Policy{FullEpochs: 3, FineTuneEpochs: 2}
}

func start(t *testing.T, dir string) *stack.Stack {
	t.Helper()
	s, err := stack.Start(context.Background(), stack.Config{
		Addr: "127.0.0.1:0", APIAddr: "127.0.0.1:0", StateDir: dir, Bucket: "stockcast-local", Seed: "../../../testdata/small_dataset.csv",
		Logger: slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), Tune: small,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// startBare starts a stack with no seed dataset and no logs, closed when t ends.
func startBare(t *testing.T) *stack.Stack {
	t.Helper()
	s, err := stack.Start(context.Background(), stack.Config{
		Addr: "127.0.0.1:0", APIAddr: "127.0.0.1:0", StateDir: t.TempDir(), Bucket: "stockcast-local",
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// waitForExecutions waits until n executions exist and none is running.
func waitForExecutions(t *testing.T, client *awssfn.Client, machine string, n int) []types.ExecutionListItem {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		out, err := client.ListExecutions(context.Background(), &awssfn.ListExecutionsInput{StateMachineArn: aws.String(machine)})
		if err != nil {
			t.Fatal(err)
		}
		running := 0
		for _, e := range out.Executions {
			if e.Status == types.ExecutionStatusRunning {
				running++
			}
		}
		if len(out.Executions) >= n && running == 0 {
			return out.Executions
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 2 minutes: %d executions, %d running; want %d finished", len(out.Executions), running, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestUploadTrainsAndPublishesThroughTheStack(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir)
	aws3 := platform.LocalAWSConfig(s.Endpoint())
	client := platform.NewStepFunctionsClient(aws3)
	objects := store.NewS3(platform.NewS3Client(aws3), "stockcast-local")
	ctx := context.Background()

	// First start: the sample is uploaded, merged, trained and published.
	executions := waitForExecutions(t, client, s.StateMachineARN(), 1)
	if executions[0].Status != types.ExecutionStatusSucceeded {
		t.Fatalf("seed execution %s", executions[0].Status)
	}
	first, _, err := pipeline.ReadManifest(ctx, objects)
	if err != nil {
		t.Fatalf("no model after the first run: %v", err)
	}
	if version := forecastVersion(t, s, "P0001"); version != first.Version {
		t.Errorf("API serves %q, want %q", version, first.Version)
	}

	// A user's upload trains a new version.
	upload, err := os.ReadFile("../../../testdata/uploads/ok_next_days.csv")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := platform.NewS3Client(aws3).PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("stockcast-local"), Key: aws.String("uploads/next days.csv"), Body: bytes.NewReader(upload),
	}); err != nil {
		t.Fatal(err)
	}
	executions = waitForExecutions(t, client, s.StateMachineARN(), 2)
	for _, e := range executions {
		if e.Status != types.ExecutionStatusSucceeded {
			t.Errorf("execution %s: %s", aws.ToString(e.Name), e.Status)
		}
	}
	second, _, err := pipeline.ReadManifest(ctx, objects)
	if err != nil {
		t.Fatal(err)
	}
	if second.Version == first.Version || second.Previous != first.Version || second.Metrics.Mode != training.FineTune {
		t.Errorf("second manifest %+v after %s", second, first.Version)
	}
	if second.Dataset.LastDate != "2024-03-02" {
		t.Errorf("second model trained through %s", second.Dataset.LastDate)
	}
	if version := forecastVersion(t, s, "P0003"); version != second.Version {
		t.Errorf("API serves %q after the upload, want %q (no restart)", version, second.Version)
	}
	job, err := pipeline.NewJobs(objects).Get(ctx, second.JobID)
	if err != nil || job.Status != pipeline.StatusSucceeded || job.Refit.Status != pipeline.StatusSucceeded || job.FineTune.Status != pipeline.StatusSucceeded {
		t.Errorf("job %+v (%v)", job, err)
	}

	// A failing fine-tune: the job fails, the execution fails, the served model stays.
	fault, _ := json.Marshal(stack.Fault{Function: "finetune", Error: "InjectedFault", Message: "the test broke it"})
	resp, err := http.Post(s.Endpoint()+stack.FaultsPath, "application/json", bytes.NewReader(fault))
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("inject fault: %v %v", resp, err)
	}
	resp.Body.Close()
	if _, err := platform.NewS3Client(aws3).PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("stockcast-local"), Key: aws.String("uploads/more.csv"),
		Body: strings.NewReader("date,product_id,sales\n2024-03-03,P0001,12\n"),
	}); err != nil {
		t.Fatal(err)
	}
	executions = waitForExecutions(t, client, s.StateMachineARN(), 3)
	if executions[0].Status != types.ExecutionStatusFailed {
		t.Errorf("execution with a failing fine-tune: %s", executions[0].Status)
	}
	if failed, err := pipeline.NewJobs(objects).Get(ctx, aws.ToString(executions[0].Name)); err != nil || failed.Status != pipeline.StatusFailed ||
		!strings.Contains(failed.Error, "the test broke it") {
		t.Errorf("failed job %+v (%v)", failed, err)
	}
	if version := forecastVersion(t, s, "P0001"); version != second.Version {
		t.Errorf("after a failed run the API serves %q, want the previous %q", version, second.Version)
	}

	// A restart keeps everything; its start-up check finds the dataset whose training failed
	// and trains it again, for that job.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = start(t, dir)
	defer s.Close()
	client = platform.NewStepFunctionsClient(platform.LocalAWSConfig(s.Endpoint()))
	objects = store.NewS3(platform.NewS3Client(platform.LocalAWSConfig(s.Endpoint())), "stockcast-local")
	got := waitForExecutions(t, client, s.StateMachineARN(), 4)
	if len(got) != 4 || got[0].Status != types.ExecutionStatusSucceeded {
		t.Errorf("%d executions after a restart (the newest %s), want 4: the failed training again", len(got), got[0].Status)
	}
	retried, err := pipeline.NewJobs(objects).Get(ctx, aws.ToString(executions[0].Name))
	third, _, merr := pipeline.ReadManifest(ctx, objects)
	if err != nil || merr != nil || retried.Status != pipeline.StatusSucceeded || third.JobID != retried.ID || third.Dataset.LastDate != "2024-03-03" {
		t.Errorf("after the restart: job %+v (%v), manifest %+v (%v)", retried, err, third, merr)
	}
	// A second restart finds everything trained: nothing new.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = start(t, dir)
	defer s.Close()
	client = platform.NewStepFunctionsClient(platform.LocalAWSConfig(s.Endpoint()))
	if got := waitForExecutions(t, client, s.StateMachineARN(), 4); len(got) != 4 {
		t.Errorf("%d executions after a second restart, want the same 4", len(got))
	}
}

// forecastVersion asks the stack's API for a product's forecast and returns the model version
// that answered.
func forecastVersion(t *testing.T, s *stack.Stack, product string) string {
	t.Helper()
	resp, err := http.Get(s.APIEndpoint() + "/forecast?product_id=" + product)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Version string `json:"model_version"`
		Days    []any  `json:"days"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK || len(body.Days) != 7 {
		t.Fatalf("GET /forecast?product_id=%s: %d, %+v (%v)", product, resp.StatusCode, body, err)
	}
	return body.Version
}
