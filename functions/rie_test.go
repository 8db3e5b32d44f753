// Tests of the built function binaries, run under the AWS Lambda Runtime Interface Emulator
// against a real S3 protocol server, with the sample events of events/.
package functions_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stockcast/stockcast/infra/local/lambdaerr"
	"github.com/stockcast/stockcast/infra/local/rie"
	"github.com/stockcast/stockcast/shared/fakes3"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/platform"
	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/store"
	"github.com/stockcast/stockcast/shared/training"
)

const bucket = "stockcast-local"

var (
	buildOnce sync.Once
	buildDir  string
	emulator  string
	buildErr  error
)

// binaries builds the emulator and every function once per test run.
func binaries(t *testing.T) (emulatorPath, dir string) {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "stockcast-functions-")
		if buildErr != nil {
			return
		}
		ctx := context.Background()
		if emulator, buildErr = rie.BuildEmulator(ctx, "..", buildDir); buildErr != nil {
			return
		}
		for _, name := range []string{"merge", "refit", "finetune", "publish", "forecast"} {
			if _, buildErr = rie.BuildFunction(ctx, "..", buildDir, name); buildErr != nil {
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return emulator, buildDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// s3Server serves the bucket over HTTP on loopback, where the emulated function reaches it.
func s3Server(t *testing.T) (*store.S3, string) {
	t.Helper()
	server, err := fakes3.New(fakes3.Options{Buckets: []string{bucket}})
	if err != nil {
		t.Fatal(err)
	}
	http := httptest.NewServer(server)
	t.Cleanup(http.Close)
	return store.NewS3(platform.NewS3Client(platform.LocalAWSConfig(http.URL)), bucket), http.URL
}

// startFunction runs functions/<name> under the emulator, configured for the local S3 server.
func startFunction(t *testing.T, name, endpoint string, env map[string]string) *rie.Process {
	t.Helper()
	emulatorPath, dir := binaries(t)
	fnEnv := map[string]string{
		"DATA_BUCKET":           bucket,
		"AWS_ENDPOINT_URL":      endpoint,
		"AWS_ACCESS_KEY_ID":     "test",
		"AWS_SECRET_ACCESS_KEY": "test",
		"AWS_REGION":            "us-east-1",
		"AWS_XRAY_SDK_DISABLED": "true",
	}
	for k, v := range env {
		fnEnv[k] = v
	}
	var output bytes.Buffer
	process, err := rie.Start(context.Background(), emulatorPath, rie.Function{
		Name: name, Bootstrap: filepath.Join(dir, name, "bootstrap"), Env: fnEnv, Output: &lockedBuffer{b: &output},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		process.Close()
		if t.Failed() {
			t.Logf("%s output:\n%s", name, output.String())
		}
	})
	return process
}

type lockedBuffer struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func put(t *testing.T, s store.Store, key string, data []byte) {
	t.Helper()
	if _, err := s.Put(context.Background(), key, bytes.NewReader(data), store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
}

func lines(t *testing.T, s store.Store, key string) int {
	t.Helper()
	data, _, err := store.ReadAll(context.Background(), s, key)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(data, []byte("\n"))
}

func TestSampleEventsMatchTheirFiles(t *testing.T) {
	var event events.S3Event
	if err := json.Unmarshal(readFile(t, "../events/s3-put-new-data.json"), &event); err != nil {
		t.Fatal(err)
	}
	object := event.Records[0].S3.Object
	data := readFile(t, "../testdata/new_data.csv")
	sum := md5.Sum(data)
	if object.ETag != hex.EncodeToString(sum[:]) || object.Size != int64(len(data)) {
		t.Errorf("events/s3-put-new-data.json names eTag %s size %d; testdata/new_data.csv has %x, %d", object.ETag, object.Size, sum, len(data))
	}
}

func TestMergeBinaryUnderEmulator(t *testing.T) {
	s3, endpoint := s3Server(t)
	put(t, s3, shards.SingleKey, readFile(t, "../testdata/sample_dataset.csv"))
	upload := readFile(t, "../testdata/new_data.csv")
	put(t, s3, "uploads/new_data.csv", upload)
	put(t, s3, "uploads/store 12 sales (week 48).csv", upload)
	before := lines(t, s3, shards.SingleKey)
	merge := startFunction(t, "merge", endpoint, nil)

	for _, file := range []string{"s3-put-new-data.json", "s3-put-key-with-spaces.json"} {
		response, err := merge.Invoke(context.Background(), readFile(t, "../events/"+file))
		if err != nil {
			t.Fatalf("invoke with events/%s: %v", file, err)
		}
		if strings.TrimSpace(string(response)) != "null" {
			t.Errorf("response %s, want null", response)
		}
	}
	after := lines(t, s3, shards.SingleKey)
	if added := after - before; added != bytes.Count(upload, []byte("\n"))-1 {
		t.Errorf("dataset grew by %d rows, want the upload's %d", added, bytes.Count(upload, []byte("\n"))-1)
	}
	processed, err := s3.List(context.Background(), pipeline.ProcessedPrefix)
	if err != nil || len(processed) != 2 {
		t.Fatalf("processed/ holds %v (%v), want both uploads", processed, err)
	}
	if !strings.HasSuffix(processed[1].Key, "/store 12 sales (week 48).csv") {
		t.Errorf("the key with spaces was not decoded: %s", processed[1].Key)
	}

	// The schedule's sweep event (events/sweep.json): a merge killed an hour ago, its upload still
	// in uploads/, is closed as failed.
	killed := time.Now().Add(-time.Hour).UTC()
	put(t, s3, "uploads/killed.csv", upload)
	dead := pipeline.Job{ID: pipeline.JobID(bucket, "uploads/killed.csv", "0123456789abcdef0123456789abcdef", "0001"), Status: pipeline.StatusRunning,
		Stage: "merge", Upload: pipeline.Upload{Bucket: bucket, Key: "uploads/killed.csv"}, Created: killed, Updated: killed}
	record, err := json.Marshal(dead)
	if err != nil {
		t.Fatal(err)
	}
	put(t, s3, pipeline.JobKey(dead.ID), record)
	if _, err := merge.Invoke(context.Background(), readFile(t, "../events/sweep.json")); err != nil {
		t.Fatalf("invoke with events/sweep.json: %v", err)
	}
	job, err := pipeline.NewJobs(s3).Get(context.Background(), dead.ID)
	if err != nil || job.Status != pipeline.StatusFailed {
		t.Errorf("the dead job after the sweep: %+v (%v), want failed", job, err)
	}
}

func TestRefitBinaryUnderEmulator(t *testing.T) {
	s3, endpoint := s3Server(t)
	put(t, s3, shards.SingleKey, readFile(t, "../testdata/sample_dataset.csv"))
	refit := startFunction(t, "refit", endpoint, nil)

	var shard pipeline.ShardRefitOutput
	invokeJSON(t, refit, readFile(t, "../events/refit-shard.json"), &shard)
	if shard.Series != 24 || shard.Trend.Key != "models/trend/new_data-0123456789abcdef/0000.json" || shard.Rows != 19920 || shard.Partials.Key == "" {
		t.Errorf("shard output = %+v", shard)
	}
	if _, err := s3.Head(context.Background(), shard.Trend.Key); err != nil {
		t.Errorf("trend models not stored: %v", err)
	}
	// The group step of events/refit-groups.json has the shard's refit failed: it adds up the
	// partial sums computed from the shard's data.
	var results pipeline.TrainResults
	invokeJSON(t, refit, readFile(t, "../events/refit-groups.json"), &results)
	out := results.Refit
	if out.Groups == nil || out.Groups.Key != "models/groups/new_data-0123456789abcdef.json" || out.Rows != 19920 || len(out.Shards) != 1 || out.Shards[0].Trend.Key != "" {
		t.Errorf("groups output = %+v", out)
	}

	// A dataset that changed since the execution started is the error the state machine retries.
	put(t, s3, shards.SingleKey, readFile(t, "../testdata/small_dataset.csv"))
	_, err := refit.Invoke(context.Background(), readFile(t, "../events/refit-shard.json"))
	var fnErr *lambdaerr.Error
	if !errors.As(err, &fnErr) || fnErr.Type != "DatasetChanged" || !strings.Contains(fnErr.Message, "changed") {
		t.Errorf("stale dataset: %v, want a DatasetChanged function error", err)
	}
}

// invokeJSON invokes a function and decodes its JSON result into out.
func invokeJSON(t *testing.T, p *rie.Process, payload []byte, out any) {
	t.Helper()
	response, err := p.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("invoke with %s: %v", payload, err)
	}
	if err := json.Unmarshal(response, out); err != nil {
		t.Fatalf("response %s: %v", response, err)
	}
}

// TestPipelineAndAPIBinariesUnderEmulator runs the training tasks and the API as their built
// binaries with the sample events: fine-tune and refit (events/finetune.json,
// events/refit-shard.json and events/refit-groups.json), publish in failure mode (events/publish-failure.json) and then with the real results, and the
// API requests of events/api-*.json against the published model.
func TestPipelineAndAPIBinariesUnderEmulator(t *testing.T) {
	s3, endpoint := s3Server(t)
	put(t, s3, shards.SingleKey, readFile(t, "../testdata/sample_dataset.csv"))
	refit := startFunction(t, "refit", endpoint, nil)
	finetune := startFunction(t, "finetune", endpoint, map[string]string{"LSTM_FULL_EPOCHS": "2", "LSTM_MAX_WINDOWS": "3000"})
	publish := startFunction(t, "publish", endpoint, nil)
	api := startFunction(t, "forecast", endpoint, nil)

	var finetuneOut pipeline.FineTuneOutput
	invokeJSON(t, finetune, readFile(t, "../events/finetune.json"), &finetuneOut)
	if finetuneOut.Mode != training.Full || finetuneOut.CheckpointETag == "" || finetuneOut.Epochs == 0 {
		t.Errorf("fine-tune without a checkpoint: %+v", finetuneOut)
	}
	// The refit as the state machine runs it: the Map's one item, then the group step on its
	// result.
	var shardOut json.RawMessage
	invokeJSON(t, refit, readFile(t, "../events/refit-shard.json"), &shardOut)
	var groups map[string]any
	if err := json.Unmarshal(readFile(t, "../events/refit-groups.json"), &groups); err != nil {
		t.Fatal(err)
	}
	results := groups["input"].(map[string]any)["results"].(map[string]any)
	results["shards"] = []json.RawMessage{shardOut}
	results["finetune"] = finetuneOut // the Map state's input holds the fine-tune's output
	payload, _ := json.Marshal(groups)
	var trained pipeline.TrainResults
	invokeJSON(t, refit, payload, &trained)

	var failed pipeline.PublishOutput
	invokeJSON(t, publish, readFile(t, "../events/publish-failure.json"), &failed)
	if failed.Status != pipeline.StatusFailed {
		t.Errorf("publish in failure mode: %+v", failed)
	}
	if _, err := s3.Head(context.Background(), pipeline.ManifestKey); err == nil {
		t.Fatal("failure mode wrote a manifest")
	}
	var in pipeline.PublishInput
	if err := json.Unmarshal(readFile(t, "../events/finetune.json"), &in.TaskInput); err != nil {
		t.Fatal(err)
	}
	if trained.FineTune.CheckpointKey != finetuneOut.CheckpointKey {
		t.Errorf("the group step handed on fine-tune output %+v, want %+v", trained.FineTune, finetuneOut)
	}
	in.Results = &trained
	payload, _ = json.Marshal(in)
	var published pipeline.PublishOutput
	invokeJSON(t, publish, payload, &published)
	if published.Status != pipeline.StatusSucceeded || published.Version != in.JobID {
		t.Fatalf("publish: %+v", published)
	}

	for _, tc := range []struct {
		event  string
		status int
		want   string
	}{
		{"api-health.json", 200, `"status":"ok"`},
		{"api-forecast-get.json", 200, `"order_quantity"`},
		{"api-forecast-post.json", 200, `"key":"filter?category=Electronics`},
		{"api-forecast-bad.json", 400, "colour: unknown parameter"},
		{"api-plot.json", 200, ""},
		{"api-job.json", 200, `"status":"succeeded"`},
	} {
		var resp events.APIGatewayProxyResponse
		invokeJSON(t, api, readFile(t, "../events/"+tc.event), &resp)
		if resp.StatusCode != tc.status || !strings.Contains(resp.Body, tc.want) || resp.Headers["X-Stockcast-Model-Version"] == "" && tc.status == 200 && tc.event != "api-job.json" && tc.event != "api-health.json" {
			t.Errorf("%s: %d %v %.300s", tc.event, resp.StatusCode, resp.Headers, resp.Body)
		}
		if tc.event == "api-plot.json" && (!resp.IsBase64Encoded || resp.Headers["Content-Type"] != "image/png") {
			t.Errorf("plot: base64 %v, headers %v", resp.IsBase64Encoded, resp.Headers)
		}
	}
}
