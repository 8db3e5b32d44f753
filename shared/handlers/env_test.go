package handlers_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stockcast/stockcast/shared/fakes3"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/platform"
	"github.com/stockcast/stockcast/shared/store"
)

const testBucket = "stockcast-test"

// env is a real S3 protocol server over HTTP with the SDK-backed store on it, recording the
// object-created notifications it sends.
type env struct {
	t      *testing.T
	server *fakes3.Server
	client *s3.Client
	store  *store.S3

	mu     sync.Mutex
	events []events.S3Event
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t}
	server, err := fakes3.New(fakes3.Options{
		Buckets: []string{testBucket},
		OnObjectCreated: func(n fakes3.Notification) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.events = append(e.events, n.S3Event("us-east-1"))
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	http := httptest.NewServer(server)
	t.Cleanup(http.Close)
	e.server = server
	e.client = platform.NewS3Client(platform.LocalAWSConfig(http.URL))
	e.store = store.NewS3(e.client, testBucket)
	return e
}

// upload puts a file the way a user does and returns the S3 event it caused.
func (e *env) upload(key string, content []byte) events.S3Event {
	e.t.Helper()
	e.mu.Lock()
	before := len(e.events)
	e.mu.Unlock()
	_, err := e.client.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(testBucket), Key: aws.String(key), Body: bytes.NewReader(content),
	})
	if err != nil {
		e.t.Fatalf("upload %s: %v", key, err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.events) != before+1 {
		e.t.Fatalf("upload %s caused %d events, want 1", key, len(e.events)-before)
	}
	return e.events[before]
}

// put writes an object without caring about its event.
func (e *env) put(key string, content []byte) store.Object {
	e.t.Helper()
	obj, err := e.store.Put(context.Background(), key, bytes.NewReader(content), store.PutOptions{})
	if err != nil {
		e.t.Fatalf("put %s: %v", key, err)
	}
	return obj
}

func (e *env) read(key string) []byte {
	e.t.Helper()
	data, _, err := store.ReadAll(context.Background(), e.store, key)
	if err != nil {
		e.t.Fatalf("read %s: %v", key, err)
	}
	return data
}

func (e *env) exists(key string) bool {
	e.t.Helper()
	_, err := e.store.Head(context.Background(), key)
	return err == nil
}

func (e *env) keys(prefix string) []string {
	e.t.Helper()
	objects, err := e.store.List(context.Background(), prefix)
	if err != nil {
		e.t.Fatal(err)
	}
	var keys []string
	for _, o := range objects {
		keys = append(keys, o.Key)
	}
	return keys
}

func (e *env) job(id string) *pipeline.Job {
	e.t.Helper()
	job, err := pipeline.NewJobs(e.store).Get(context.Background(), id)
	if err != nil {
		e.t.Fatalf("job %s: %v", id, err)
	}
	return job
}

// testdata reads a file of the repository's testdata folder.
func testdata(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// recordingStarter stands in for Step Functions in handler tests: it records each start and,
// like Step Functions, starts a given execution name only once.
type recordingStarter struct {
	mu      sync.Mutex
	inputs  []pipeline.TaskInput
	started map[string]bool
}

func (r *recordingStarter) Start(_ context.Context, in pipeline.TaskInput) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started == nil {
		r.started = map[string]bool{}
	}
	if !r.started[in.JobID] {
		r.started[in.JobID] = true
		r.inputs = append(r.inputs, in)
	}
	return "arn:aws:states:us-east-1:000000000000:execution:training:" + in.JobID, nil
}

func (r *recordingStarter) executions() []pipeline.TaskInput {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]pipeline.TaskInput(nil), r.inputs...)
}

// testLogger writes the handlers' JSON logs to the test's log, shown on failure.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewJSONHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
