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

	"github.com/aws/aws-lambda-go/events"
	"github.com/stockcast/stockcast/infra/local/rie"
	"github.com/stockcast/stockcast/shared/fakes3"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/platform"
	"github.com/stockcast/stockcast/shared/store"
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
		for _, name := range []string{"merge", "refit", "publish"} {
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
	put(t, s3, pipeline.DatasetKey, readFile(t, "../testdata/sample_dataset.csv"))
	upload := readFile(t, "../testdata/new_data.csv")
	put(t, s3, "uploads/new_data.csv", upload)
	put(t, s3, "uploads/store 12 sales (week 48).csv", upload)
	before := lines(t, s3, pipeline.DatasetKey)
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
	after := lines(t, s3, pipeline.DatasetKey)
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
}

func TestRefitBinaryUnderEmulator(t *testing.T) {
	s3, endpoint := s3Server(t)
	put(t, s3, pipeline.DatasetKey, readFile(t, "../testdata/sample_dataset.csv"))
	refit := startFunction(t, "refit", endpoint, nil)
	event := readFile(t, "../events/refit.json")

	response, err := refit.Invoke(context.Background(), event)
	if err != nil {
		t.Fatalf("invoke with events/refit.json: %v", err)
	}
	var out pipeline.RefitOutput
	if err := json.Unmarshal(response, &out); err != nil {
		t.Fatalf("response %s: %v", response, err)
	}
	// total + 24 products + categories + regions
	if out.Series < 25 || out.TrendKey != "models/trend/new_data-0123456789abcdef.json" || out.Rows != 19920 {
		t.Errorf("output = %+v", out)
	}
	if _, err := s3.Head(context.Background(), out.TrendKey); err != nil {
		t.Errorf("trend models not stored: %v", err)
	}

	// A dataset that changed since the execution started is the error the state machine retries.
	put(t, s3, pipeline.DatasetKey, readFile(t, "../testdata/small_dataset.csv"))
	_, err = refit.Invoke(context.Background(), event)
	var fnErr *rie.FunctionError
	if !errors.As(err, &fnErr) || fnErr.Type != "DatasetChanged" || !strings.Contains(fnErr.Message, "changed") {
		t.Errorf("stale dataset: %v, want a DatasetChanged function error", err)
	}
}
