// Package handlertest is the handlers' test bench: a real S3 protocol server over HTTP with the
// SDK-backed store on it, a recording stand-in for Step Functions, and the repository's test
// data. Only tests import it.
package handlertest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stockcast/stockcast/shared/datagen"
	"github.com/stockcast/stockcast/shared/fakes3"
	"github.com/stockcast/stockcast/shared/handlers/finetune"
	"github.com/stockcast/stockcast/shared/handlers/publish"
	"github.com/stockcast/stockcast/shared/handlers/refit"
	"github.com/stockcast/stockcast/shared/lstm"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/platform"
	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/store"
	"github.com/stockcast/stockcast/shared/training"
)

// Bucket is the test bench's bucket.
const Bucket = "stockcast-test"

// Env is a real S3 protocol server over HTTP with the SDK-backed store on it, recording the
// object-created notifications it sends.
type Env struct {
	t      testing.TB
	Server *fakes3.Server
	// Endpoint is the server's URL.
	Endpoint string
	Client   *s3.Client
	Store    *store.S3

	mu     sync.Mutex
	events []events.S3Event
}

// NewEnv starts a test bench that lives as long as the test.
func NewEnv(t testing.TB) *Env {
	t.Helper()
	e := &Env{t: t}
	server, err := fakes3.New(fakes3.Options{
		Buckets: []string{Bucket},
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
	e.Server, e.Endpoint = server, http.URL
	e.Client = platform.NewS3Client(platform.LocalAWSConfig(http.URL))
	e.Store = store.NewS3(e.Client, Bucket)
	return e
}

// Upload puts a file the way a user does and returns the S3 event it caused.
func (e *Env) Upload(key string, content []byte) events.S3Event {
	e.t.Helper()
	e.mu.Lock()
	before := len(e.events)
	e.mu.Unlock()
	_, err := e.Client.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(Bucket), Key: aws.String(key), Body: bytes.NewReader(content),
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

// LastEvent is the S3 event of the latest object created, by any client.
func (e *Env) LastEvent() events.S3Event {
	e.t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.events) == 0 {
		e.t.Fatal("no object was created")
	}
	return e.events[len(e.events)-1]
}

// Put writes an object without caring about its event.
func (e *Env) Put(key string, content []byte) store.Object {
	e.t.Helper()
	obj, err := e.Store.Put(context.Background(), key, bytes.NewReader(content), store.PutOptions{})
	if err != nil {
		e.t.Fatalf("put %s: %v", key, err)
	}
	return obj
}

// Read reads a whole object.
func (e *Env) Read(key string) []byte {
	e.t.Helper()
	data, _, err := store.ReadAll(context.Background(), e.Store, key)
	if err != nil {
		e.t.Fatalf("read %s: %v", key, err)
	}
	return data
}

// Exists tells whether key exists.
func (e *Env) Exists(key string) bool {
	e.t.Helper()
	_, err := e.Store.Head(context.Background(), key)
	return err == nil
}

// Keys lists the keys under prefix.
func (e *Env) Keys(prefix string) []string {
	e.t.Helper()
	objects, err := e.Store.List(context.Background(), prefix)
	if err != nil {
		e.t.Fatal(err)
	}
	var keys []string
	for _, o := range objects {
		keys = append(keys, o.Key)
	}
	return keys
}

// Job reads a job record.
func (e *Env) Job(id string) *pipeline.Job {
	e.t.Helper()
	job, err := pipeline.NewJobs(e.Store).Get(context.Background(), id)
	if err != nil {
		e.t.Fatalf("job %s: %v", id, err)
	}
	return job
}

var generatedOnce sync.Map // datagen.Config -> []byte

// Generated returns a datagen dataset, generated once per process.
func Generated(t testing.TB, cfg datagen.Config) []byte {
	t.Helper()
	if data, ok := generatedOnce.Load(cfg); ok {
		return data.([]byte)
	}
	var buf bytes.Buffer
	if err := datagen.Write(context.Background(), &buf, cfg); err != nil {
		t.Fatal(err)
	}
	generatedOnce.Store(cfg, buf.Bytes())
	return buf.Bytes()
}

// Testdata reads a file of the repository's testdata folder.
func Testdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// RecordingStarter stands in for Step Functions in handler tests: it records each start and,
// like Step Functions, starts a given execution name only once.
type RecordingStarter struct {
	mu      sync.Mutex
	inputs  []pipeline.TaskInput
	started map[string]bool
}

// Start records in unless its job was started before.
func (r *RecordingStarter) Start(_ context.Context, in pipeline.TaskInput) (string, error) {
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

// Executions lists the inputs of the executions started.
func (r *RecordingStarter) Executions() []pipeline.TaskInput {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]pipeline.TaskInput(nil), r.inputs...)
}

// Logger writes the handlers' JSON logs to the test's log, shown on failure.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewJSONHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// Day is the fixed time at which the tests' handlers merge and publish.
var Day = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

// TaskInput is a training task's input for the version etag of a dataset of the single-file
// layout (shards.SingleKey), as tasks were given before sharding.
func TaskInput(job string, etag string) pipeline.TaskInput {
	return pipeline.TaskInput{Bucket: Bucket, DatasetKey: shards.SingleKey, DatasetETag: etag, JobID: job, Mode: training.FineTune}
}

// PutDataset writes data as a dataset of the single-file layout (shards.SingleKey: one shard,
// which a merge indexes) and returns how a training task names it: by that one object.
func (e *Env) PutDataset(data []byte) pipeline.DatasetRef {
	e.t.Helper()
	obj := e.Put(shards.SingleKey, data)
	return pipeline.DatasetRef{Key: shards.SingleKey, ETag: obj.ETag, VersionID: obj.VersionID, Written: obj.LastModified}
}

// SmallFineTune is the fine-tune handler with a small network trained for a few epochs, so tests
// stay fast; the schedule and the checkpoint handling are the real ones.
func SmallFineTune(t testing.TB, s store.Store) *finetune.Handler {
	h := finetune.New(s, Logger(t))
	h.Config.Layers = []int{8, 8}
	h.Config.Window = 5
	h.Policy = lstm.Policy{FullEpochs: 3, FineTuneEpochs: 2, ValidationDays: 7}
	h.SaveMargin = 0
	return h
}

// Train runs fine-tune (a small network), refit and publish on data, written as a dataset of
// one shard, as a job would, and returns the published version.
func Train(t testing.TB, e *Env, job string, data []byte, written time.Time) pipeline.PublishOutput {
	t.Helper()
	ctx := context.Background()
	index, _ := e.PutShards(data, 1)
	in := ShardedTaskInput(job, index)
	in.DatasetWritten = written
	tuned, err := SmallFineTune(t, e.Store).Handle(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	refitted := Refit(t, refit.New(e.Store, Logger(t)), in, tuned)
	out, err := publish.New(e.Store, Logger(t)).Handle(ctx, pipeline.PublishInput{
		TaskInput: in, Results: &pipeline.TrainResults{Refit: refitted, FineTune: tuned},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// PublishUntrained publishes refitted for in as a job's publish step would, with the checkpoint
// of an untrained LSTM of the default network (its size is a trained one's, whatever its
// weights), and returns the published version.
func PublishUntrained(t testing.TB, s store.Store, in pipeline.TaskInput, refitted pipeline.RefitOutput) pipeline.PublishOutput {
	t.Helper()
	ctx := context.Background()
	net, err := lstm.New(lstm.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	var checkpoint bytes.Buffer
	if _, err := net.WriteTo(&checkpoint); err != nil {
		t.Fatal(err)
	}
	saved, err := s.Put(ctx, pipeline.CheckpointKey, &checkpoint, store.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := publish.New(s, slog.New(slog.DiscardHandler)).Handle(ctx, pipeline.PublishInput{TaskInput: in, Results: &pipeline.TrainResults{
		Refit:    refitted,
		FineTune: pipeline.FineTuneOutput{CheckpointKey: pipeline.CheckpointKey, CheckpointETag: saved.ETag, VersionID: saved.VersionID, Mode: training.Full},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Refit runs the refit as the training state machine does: h's shard step on every shard of the
// dataset index in names (the Map, one shard at a time, in shard order), then its group step on
// their results.
func Refit(t testing.TB, h *refit.Handler, in pipeline.TaskInput, tuned pipeline.FineTuneOutput) pipeline.RefitOutput {
	t.Helper()
	ctx := context.Background()
	index, err := pipeline.DatasetIndex(ctx, h.Store, in)
	if err != nil {
		t.Fatal(err)
	}
	var groups refit.GroupsTask
	groups.Input.TaskInput, groups.Input.Results.FineTune = in, tuned
	for _, sh := range index {
		var task pipeline.ShardTask
		task.Input.TaskInput, task.Input.Results.FineTune, task.Shard = in, tuned, sh
		out, err := h.HandleShard(ctx, task)
		if err != nil {
			t.Fatalf("refit of shard %d of %d: %v", sh.Shard, sh.Of, err)
		}
		raw, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		groups.Input.Results.Shards = append(groups.Input.Results.Shards, raw)
	}
	out, err := h.HandleGroups(ctx, groups)
	if err != nil {
		t.Fatalf("refit of the groups: %v", err)
	}
	return out
}

// CountingStore counts the writes of each key and can run a hook before one, to stage a race.
type CountingStore struct {
	store.Store
	mu     sync.Mutex
	writes map[string]int
	// BeforeWrite, if set, runs once before the first write of the key it names.
	BeforeWrite map[string]func()
}

// Put counts the write and runs its hook, then writes.
func (c *CountingStore) Put(ctx context.Context, key string, body io.Reader, opts store.PutOptions) (store.Object, error) {
	c.mu.Lock()
	if c.writes == nil {
		c.writes = map[string]int{}
	}
	c.writes[key]++
	hook := c.BeforeWrite[key]
	delete(c.BeforeWrite, key)
	c.mu.Unlock()
	if hook != nil {
		hook()
	}
	return c.Store.Put(ctx, key, body, opts)
}

// Count is how often key was written.
func (c *CountingStore) Count(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writes[key]
}

// PutShards writes a dataset CSV (sorted by date, product_id) as a dataset of count shards —
// each product's rows in shard shards.Of(product, count), each shard in quarterly parts (one
// part at shards.SingleKey for count 1) — and its index, in place of the current one, and
// returns the index object and the index.
func (e *Env) PutShards(data []byte, count int) (store.Object, shards.Index) {
	e.t.Helper()
	lines := strings.SplitAfter(string(data), "\n")
	header := lines[0]
	columns := strings.Split(strings.TrimSpace(header), ",")
	productCol := slices.Index(columns, "product_id")
	type part struct {
		period string
		rows   []string
	}
	parts := make([][]*part, count)
	products := make([]map[string]bool, count)
	index := make(shards.Index, count)
	for k := range index {
		products[k] = map[string]bool{}
		index[k] = shards.Shard{Shard: k, Of: count, Columns: columns, Parts: []shards.Part{}}
	}
	for _, line := range lines[1:] {
		if strings.TrimSpace(line) == "" {
			continue
		}
		fields := strings.Split(strings.TrimSpace(line), ",")
		k := shards.Of(fields[productCol], count)
		day, err := time.Parse(time.DateOnly, fields[0][:10])
		if err != nil {
			e.t.Fatalf("row %q: %v", line, err)
		}
		period := shards.PeriodOf(day)
		if count == 1 {
			period = ""
		}
		if n := len(parts[k]); n == 0 || parts[k][n-1].period != period {
			parts[k] = append(parts[k], &part{period: period})
		}
		p := parts[k][len(parts[k])-1]
		p.rows = append(p.rows, line)
		products[k][fields[productCol]] = true
		sh := &index[k]
		if sh.FirstDate == "" {
			sh.FirstDate = fields[0][:10]
		}
		sh.LastDate = fields[0][:10]
	}
	for k := range index {
		sh := &index[k]
		sh.Products = len(products[k])
		if count > 1 && len(products[k]) > 0 {
			list, err := pipeline.WriteShardProducts(context.Background(), e.Store, k, count, slices.Sorted(maps.Keys(products[k])))
			if err != nil {
				e.t.Fatal(err)
			}
			sh.ProductList = &list
		}
		for _, p := range parts[k] {
			body := header + strings.Join(p.rows, "")
			key := shards.PartKey(k, count, p.period)
			obj := e.Put(key, []byte(body))
			sh.Parts = append(sh.Parts, shards.Part{Period: p.period, Key: key, ETag: obj.ETag, VersionID: obj.VersionID, Rows: len(p.rows), Bytes: int64(len(body))})
			sh.Rows += len(p.rows)
			sh.Bytes += int64(len(body))
		}
	}
	previous := ""
	if current, err := e.Store.Head(context.Background(), shards.IndexKey); err == nil {
		previous = current.ETag
	}
	obj, err := pipeline.WriteIndex(context.Background(), e.Store, index, previous)
	if err != nil {
		e.t.Fatal(err)
	}
	return obj, index
}

// ShardedTaskInput is a training task's input for the dataset index version obj.
func ShardedTaskInput(job string, obj store.Object) pipeline.TaskInput {
	return pipeline.TaskInput{Bucket: Bucket, DatasetKey: shards.IndexKey, DatasetETag: obj.ETag, DatasetVersionID: obj.VersionID, JobID: job, Mode: training.FineTune}
}
