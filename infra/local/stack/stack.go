// Package stack is the embedded local stack: one process that speaks AWS's wire protocols on
// loopback — S3 (with object-created notifications to the merge function) and, as the pipeline
// grows, Step Functions and an API Gateway front for the forecast function — and runs the real
// handlers, in process or as their bootstrap binaries under the Lambda Runtime Interface
// Emulator.
package stack

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/stockcast/stockcast/infra/local/apigw"
	"github.com/stockcast/stockcast/infra/local/rie"
	"github.com/stockcast/stockcast/infra/local/sfn"
	"github.com/stockcast/stockcast/infra/statemachine"
	"github.com/stockcast/stockcast/shared/fakes3"
	"github.com/stockcast/stockcast/shared/handlers/api"
	"github.com/stockcast/stockcast/shared/handlers/finetune"
	"github.com/stockcast/stockcast/shared/handlers/merge"
	"github.com/stockcast/stockcast/shared/handlers/publish"
	"github.com/stockcast/stockcast/shared/handlers/refit"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/platform"
	"github.com/stockcast/stockcast/shared/stepfunctions"
	"github.com/stockcast/stockcast/shared/store"
)

// Config configures a local stack.
type Config struct {
	// Addr is where the AWS endpoint listens (S3 and Step Functions), e.g. 127.0.0.1:4566.
	Addr string
	// APIAddr is where the forecast API listens, e.g. 127.0.0.1:3000.
	APIAddr string
	// APIKey, when set, is required in x-api-key on every route but the page's, as on AWS.
	APIKey string
	// StateDir keeps the stack's state across restarts.
	StateDir string
	// Bucket is the data bucket.
	Bucket string
	// Seed is a dataset CSV uploaded on first start; empty seeds nothing.
	Seed string
	// Emulator, if set, is the Lambda Runtime Interface Emulator binary: functions then run as
	// their bootstrap binaries from BuildDir/<name>/bootstrap under it.
	Emulator string
	BuildDir string
	// Logger receives the stack's and the in-process functions' logs.
	Logger *slog.Logger
	// LSTMFullEpochs and LSTMMaxWindows, if not zero, shorten the LSTM's full training (the
	// first run, with no checkpoint) so that a first model is served soon after start;
	// LSTMMaxWindows also caps the new windows of a fine-tune's epoch (a large upload's).
	LSTMFullEpochs, LSTMMaxWindows int
	// SweepInterval is how often the merge function is invoked with its sweep event, as
	// template.yaml's schedule does every 5 minutes (DefaultSweepInterval when zero).
	SweepInterval time.Duration
	// ShardMaxRows, if not zero, is the merge's MERGE_SHARD_MAX_ROWS: the rows a dataset shard
	// holds before the shard count doubles (a small value shards a small dataset).
	ShardMaxRows int
	// Tune adjusts the in-process handlers after they are built (tests use it for small
	// networks); nil leaves the functions' defaults.
	Tune func(*Handlers)
}

// Handlers are the in-process functions.
type Handlers struct {
	Merge    *merge.Handler
	Refit    *refit.Handler
	FineTune *finetune.Handler
	Publish  *publish.Handler
	Forecast *api.Handler
}

// Stack is a running local stack.
type Stack struct {
	cfg       Config
	log       *slog.Logger
	s3        *fakes3.Server
	states    *sfn.Service
	machine   string
	listener  net.Listener
	server    *http.Server
	api       net.Listener
	functions Functions
	faults    *faultyFunctions
	closers   []func() error
	store     store.Store

	events  chan fakes3.Notification
	workers sync.WaitGroup
	cancel  context.CancelFunc
}

// Endpoint is the URL AWS clients use for the stack.
func (s *Stack) Endpoint() string { return "http://" + s.listener.Addr().String() }

// APIEndpoint is the forecast API's URL.
func (s *Stack) APIEndpoint() string { return "http://" + s.api.Addr().String() }

// StateMachineARN is the training state machine's ARN.
func (s *Stack) StateMachineARN() string { return s.machine }

// StepFunctions is the stack's Step Functions service.
func (s *Stack) StepFunctions() *sfn.Service { return s.states }

// functionARN is the ARN the local stack gives a function.
func functionARN(name string) string { return "arn:aws:lambda:us-east-1:000000000000:function:" + name }

// functionNames are the stack's functions, by their names in the state machine's substitutions.
var functionNames = map[string]string{"RefitFunctionArn": "refit", "FineTuneFunctionArn": "finetune", "PublishFunctionArn": "publish"}

// Start starts the stack and returns once it accepts requests.
func Start(ctx context.Context, cfg Config) (*Stack, error) {
	if cfg.SweepInterval < 0 {
		return nil, fmt.Errorf("sweep interval %s: must not be negative (zero: %s)", cfg.SweepInterval, DefaultSweepInterval)
	}
	if err := os.MkdirAll(cfg.StateDir, 0o755); err != nil {
		return nil, fmt.Errorf("create state directory: %w", err)
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &Stack{cfg: cfg, log: cfg.Logger, events: make(chan fakes3.Notification, 1024), cancel: cancel}
	if err := s.start(ctx); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	return s, nil
}

func (s *Stack) start(ctx context.Context) error {
	var err error
	s.s3, err = fakes3.New(fakes3.Options{
		Dir:             filepath.Join(s.cfg.StateDir, "s3"),
		Buckets:         []string{s.cfg.Bucket},
		OnObjectCreated: s.notify,
		Logger:          s.log.With("service", "s3"),
	})
	if err != nil {
		return err
	}
	s.listener, err = net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	if err := s.startStepFunctions(); err != nil {
		return errors.Join(err, s.listener.Close())
	}
	s.faults = &faultyFunctions{left: map[string]Fault{}}
	mux := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case sfn.IsRequest(r):
			s.states.ServeHTTP(w, r)
		case r.URL.Path == FaultsPath:
			s.faults.ServeHTTP(w, r)
		default:
			s.s3.ServeHTTP(w, r)
		}
	})
	s.server = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := s.server.Serve(s.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("AWS endpoint stopped", "error", err)
		}
	}()
	s.closers = append(s.closers, func() error { return s.server.Shutdown(context.Background()) })

	aws := platform.LocalAWSConfig(s.Endpoint())
	s.store = store.NewS3(platform.NewS3Client(aws), s.cfg.Bucket)
	if err := s.startFunctions(ctx); err != nil {
		return err
	}
	s.faults.next, s.functions = s.functions, s.faults
	if err := s.startAPI(); err != nil {
		return err
	}
	if err := s.repair(ctx); err != nil {
		return err
	}
	s.workers.Go(func() { s.deliver(ctx) })
	if err := s.redeliverPending(ctx); err != nil {
		return err
	}
	return s.seed(ctx)
}

// startStepFunctions starts the Step Functions service with the training state machine, whose
// tasks invoke the stack's functions and whose Distributed Maps read the stack's S3.
func (s *Stack) startStepFunctions() error {
	var err error
	s.states, err = sfn.New(sfn.Options{
		Dir:     filepath.Join(s.cfg.StateDir, "stepfunctions"),
		Invoker: invoker{s},
		// Distributed Maps read their ItemReader objects from the stack's own S3, as AWS's do.
		Objects: sfn.S3Objects{Client: platform.NewS3Client(platform.LocalAWSConfig(s.Endpoint()))},
		Logger:  s.log.With("service", "stepfunctions"),
	})
	if err != nil {
		return fmt.Errorf("start Step Functions: %w", err)
	}
	s.closers = append(s.closers, s.states.Close)
	arns := map[string]string{}
	for variable, name := range functionNames {
		arns[variable] = functionARN(name)
	}
	definition, err := sfn.Substitute(statemachine.Training, arns)
	if err != nil {
		return fmt.Errorf("training state machine: %w", err)
	}
	s.machine, err = s.states.RegisterStateMachine("TrainingStateMachine", definition)
	if err != nil {
		return fmt.Errorf("training state machine: %w", err)
	}
	return nil
}

// invoker lets Step Functions' tasks invoke the stack's functions.
type invoker struct{ s *Stack }

func (i invoker) Invoke(ctx context.Context, function string, payload []byte) ([]byte, error) {
	return i.s.functions.Invoke(ctx, function, payload)
}

// startFunctions runs the handlers in process, or their binaries under the emulator.
func (s *Stack) startFunctions(ctx context.Context) error {
	if s.cfg.Emulator == "" {
		aws := platform.LocalAWSConfig(s.Endpoint())
		logger := func(name string) *slog.Logger { return s.log.With("function", name) }
		starter := &stepfunctions.Starter{Client: platform.NewStepFunctionsClient(aws), StateMachineARN: s.machine, Logger: logger("merge")}
		h := Handlers{
			Merge:    merge.New(s.store, starter, logger("merge")),
			Refit:    refit.New(s.store, logger("refit")),
			FineTune: finetune.New(s.store, logger("finetune")),
			Publish:  publish.New(s.store, logger("publish")),
			Forecast: api.New(s.store, logger("forecast")),
		}
		if s.cfg.LSTMFullEpochs > 0 {
			h.FineTune.Policy.FullEpochs = s.cfg.LSTMFullEpochs
		}
		if s.cfg.LSTMMaxWindows > 0 {
			h.FineTune.Policy.MaxWindows = s.cfg.LSTMMaxWindows
		}
		if s.cfg.ShardMaxRows != 0 {
			h.Merge.Config.ShardMaxRows = s.cfg.ShardMaxRows
		}
		if s.cfg.Tune != nil {
			s.cfg.Tune(&h)
		}
		s.functions = &inProcess{handlers: map[string]lambda.Handler{
			"merge":    lambda.NewHandler(h.Merge.HandleEvent),
			"refit":    lambda.NewHandler(h.Refit.Handle),
			"finetune": lambda.NewHandler(h.FineTune.Handle),
			"publish":  lambda.NewHandler(h.Publish.Handle),
			"forecast": lambda.NewHandler(h.Forecast.Handle),
		}}
		return nil
	}
	env := map[string]string{
		"DATA_BUCKET":           s.cfg.Bucket,
		"STATE_MACHINE_ARN":     s.machine,
		"AWS_ENDPOINT_URL":      s.Endpoint(),
		"AWS_ACCESS_KEY_ID":     "test",
		"AWS_SECRET_ACCESS_KEY": "test",
		"AWS_REGION":            "us-east-1",
		"AWS_XRAY_SDK_DISABLED": "true",
	}
	if s.cfg.LSTMFullEpochs > 0 {
		env["LSTM_FULL_EPOCHS"] = strconv.Itoa(s.cfg.LSTMFullEpochs)
	}
	if s.cfg.LSTMMaxWindows > 0 {
		env["LSTM_MAX_WINDOWS"] = strconv.Itoa(s.cfg.LSTMMaxWindows)
	}
	if s.cfg.ShardMaxRows != 0 {
		env["MERGE_SHARD_MAX_ROWS"] = strconv.Itoa(s.cfg.ShardMaxRows)
	}
	functions := map[string]rie.Function{}
	for _, name := range []string{"merge", "refit", "finetune", "publish", "forecast"} {
		functions[name] = rie.Function{
			Name: name, Bootstrap: filepath.Join(s.cfg.BuildDir, name, "bootstrap"), Env: env, Output: os.Stderr,
			Timeout: functionTimeouts[name],
		}
	}
	emulated, err := startEmulated(ctx, s.cfg.Emulator, functions)
	if err != nil {
		return err
	}
	s.functions = emulated
	s.closers = append(s.closers, emulated.Close)
	return nil
}

// functionTimeouts are the functions' timeouts in template.yaml.
var functionTimeouts = map[string]time.Duration{
	"merge": 300 * time.Second, "refit": 600 * time.Second, "finetune": 900 * time.Second, "publish": 60 * time.Second,
	"forecast": 29 * time.Second,
}

// apiRoutes are the forecast API's routes in template.yaml.
var apiRoutes = []apigw.Route{
	{Method: http.MethodGet, Resource: "/forecast"},
	{Method: http.MethodPost, Resource: "/forecast"},
	{Method: http.MethodGet, Resource: "/forecast/plot"},
	{Method: http.MethodGet, Resource: "/jobs/{id}"},
	{Method: http.MethodGet, Resource: "/health"},
	{Method: http.MethodGet, Resource: "/", NoAPIKey: true}, // a browser opening the page sends no key
	{Method: http.MethodGet, Resource: "/series"},
	{Method: http.MethodGet, Resource: "/series/history"},
	{Method: http.MethodGet, Resource: "/jobs"},
	{Method: http.MethodPost, Resource: "/uploads"},
	{Method: apigw.AnyMethod, Resource: "/{proxy+}"}, // the function answers unknown routes itself
}

// startAPI serves the forecast API as API Gateway would, as `sam local start-api` does.
func (s *Stack) startAPI() error {
	var err error
	s.api, err = net.Listen("tcp", s.cfg.APIAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.APIAddr, err)
	}
	server := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: &apigw.Gateway{
		Routes: apiRoutes,
		Invoke: func(ctx context.Context, payload []byte) ([]byte, error) {
			return s.functions.Invoke(ctx, "forecast", payload)
		},
		Stage:            "v1",
		BinaryMediaTypes: []string{"image/png"},
		APIKey:           s.cfg.APIKey,
		Logger:           s.log.With("service", "api"),
	}}
	go func() {
		if err := server.Serve(apigw.JSONErrors(s.api)); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("API stopped", "error", err)
		}
	}()
	s.closers = append(s.closers, func() error { return server.Shutdown(context.Background()) })
	return nil
}

// notify takes S3's object-created notifications, filtered as the template's S3 event is: on
// the prefix uploads/ only (S3's suffix rules are case-sensitive; the merge function itself takes
// .csv in any case and skips the rest).
func (s *Stack) notify(n fakes3.Notification) {
	if !strings.HasPrefix(n.Key, pipeline.UploadsPrefix) {
		return
	}
	select {
	case s.events <- n:
	default:
		s.log.Error("event queue full: the upload stays in uploads/ and is merged at the next start", "key", n.Key)
	}
}

// asyncRetries mirrors Lambda's asynchronous invocation: two retries after a failure (AWS waits
// minutes; locally seconds).
var asyncRetries = []time.Duration{time.Second, 2 * time.Second}

// DefaultSweepInterval is the rate of template.yaml's sweep schedule.
const DefaultSweepInterval = 5 * time.Minute

// deliver invokes the merge function with each event, and with the sweep event at every
// SweepInterval, one at a time (the function's reserved concurrency is 1), retrying failures as
// Lambda does for asynchronous invocations.
func (s *Stack) deliver(ctx context.Context) {
	interval := cmp.Or(s.cfg.SweepInterval, DefaultSweepInterval)
	sweeps := time.NewTicker(interval)
	defer sweeps.Stop()
	for {
		var payload []byte
		var what string
		select {
		case <-ctx.Done():
			return
		case <-sweeps.C:
			payload, what = []byte(merge.SweepEvent), "sweep"
		case n := <-s.events:
			var err error
			if payload, err = json.Marshal(n.S3Event("us-east-1")); err != nil {
				s.log.Error("encode S3 event", "error", err)
				continue
			}
			what = n.Key
		}
		s.invokeMerge(ctx, payload, what)
	}
}

// invokeMerge invokes the merge function with an event (what names it in the logs), retrying as
// Lambda does.
func (s *Stack) invokeMerge(ctx context.Context, payload []byte, what string) {
	var err error
	for attempt := 0; ; attempt++ {
		_, err = s.functions.Invoke(ctx, "merge", payload)
		if err == nil || attempt == len(asyncRetries) || ctx.Err() != nil {
			break
		}
		s.log.Warn("merge failed; retrying as Lambda does", "event", what, "error", err, "retry_in", asyncRetries[attempt])
		select {
		case <-ctx.Done():
		case <-time.After(asyncRetries[attempt]):
		}
	}
	if err != nil {
		s.log.Error("merge failed after retries; an upload stays in uploads/ and is merged again at the next start, a sweep runs again at the next tick", "event", what, "error", err)
	}
}

// repair checks at start-up that every merged upload is trained (a run that the last stop
// aborted, an attempt that stopped after moving its upload), with the merge function's code.
func (s *Stack) repair(ctx context.Context) error {
	logger := s.log.With("function", "merge", "phase", "start-up repair")
	starter := &stepfunctions.Starter{Client: platform.NewStepFunctionsClient(platform.LocalAWSConfig(s.Endpoint())), StateMachineARN: s.machine, Logger: logger}
	if err := merge.New(s.store, starter, logger).Repair(ctx); err != nil {
		return fmt.Errorf("start-up repair: %w", err)
	}
	return nil
}

// redeliverPending delivers an event for every upload still waiting in uploads/ (the stack
// stopped before merging it), so that nothing is lost across restarts.
func (s *Stack) redeliverPending(ctx context.Context) error {
	pending, err := s.store.List(ctx, pipeline.UploadsPrefix)
	if err != nil {
		return fmt.Errorf("list pending uploads: %w", err)
	}
	for _, obj := range pending {
		s.log.Info("merging an upload left from the last run", "key", obj.Key)
		s.notify(fakes3.Notification{
			EventName: "ObjectCreated:Put", Bucket: s.cfg.Bucket, Key: obj.Key, Size: obj.Size,
			ETag: strings.Trim(obj.ETag, `"`), Sequencer: obj.LastModified.UTC().Format("20060102150405.000000000"), Time: time.Now().UTC(),
		})
	}
	return nil
}

// seed uploads the sample dataset on first start, through uploads/ like any user's file.
func (s *Stack) seed(ctx context.Context) error {
	marker := filepath.Join(s.cfg.StateDir, "seeded")
	if s.cfg.Seed == "" {
		return nil
	}
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	file, err := os.Open(s.cfg.Seed)
	if err != nil {
		return fmt.Errorf("open sample dataset: %w", err)
	}
	defer file.Close()
	key := pipeline.UploadsPrefix + filepath.Base(s.cfg.Seed)
	s.log.Info("first start: uploading the sample dataset", "file", s.cfg.Seed, "key", key)
	if _, err := s.store.Put(ctx, key, file, store.PutOptions{ContentType: "text/csv"}); err != nil {
		return fmt.Errorf("seed %s: %w", key, err)
	}
	if err := os.WriteFile(marker, []byte(key+"\n"), 0o644); err != nil {
		return fmt.Errorf("record the seeding: %w", err)
	}
	return nil
}

// Close stops the stack; pending uploads stay in uploads/ for the next start.
func (s *Stack) Close() error {
	s.cancel()
	s.workers.Wait()
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	return errors.Join(errs...)
}
