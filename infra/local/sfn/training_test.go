package sfn

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stockcast/stockcast/infra/statemachine"

	"github.com/stockcast/stockcast/infra/local/lambdaerr"
)

// The training pipeline's functions as the definition names them.
var trainingFunctions = map[string]string{
	"RefitFunctionArn":    "arn:aws:lambda:us-east-1:000000000000:function:stockcast-refit",
	"FineTuneFunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:stockcast-finetune",
	"PublishFunctionArn":  "arn:aws:lambda:us-east-1:000000000000:function:stockcast-publish",
}

// trainingDefinition is the deployed training state machine (the file template.yaml names), with
// the function ARNs substituted.
func trainingDefinition(t *testing.T) []byte {
	t.Helper()
	def, err := Substitute(statemachine.Training, trainingFunctions)
	if err != nil {
		t.Fatal(err)
	}
	return def
}

// publishRecorder is a fake publish function that keeps what it was sent.
type publishRecorder struct {
	payloads atomic.Value // []map[string]any
}

func (p *publishRecorder) fn(_ context.Context, payload []byte) ([]byte, error) {
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		return nil, err
	}
	prev, _ := p.payloads.Load().([]map[string]any)
	p.payloads.Store(append(prev, m))
	return []byte(`{"version":"v2"}`), nil
}

func (p *publishRecorder) sent() []map[string]any {
	v, _ := p.payloads.Load().([]map[string]any)
	return v
}

// indexObjects is the bucket of the training tests: the dataset index of shards shards at
// version v1 (what the Map's ItemReader reads).
type indexObjects struct{ shards int }

func (o indexObjects) GetObject(_ context.Context, bucket, key, versionID string) ([]byte, error) {
	if bucket != "data" || key != "data/index.json" || versionID != "v1" {
		return nil, fmt.Errorf("no object s3://%s/%s version %s", bucket, key, versionID)
	}
	items := make([]string, o.shards)
	for k := range items {
		items[k] = fmt.Sprintf(`{"shard":%d,"of":%d}`, k, o.shards)
	}
	return []byte("[" + strings.Join(items, ",") + "]"), nil
}

// trainingInput is the execution input of the training tests: the dataset index at version v1.
const trainingInput = `{"job":"job-1","bucket":"data","dataset_key":"data/index.json","dataset_version_id":"v1"}`

// refitSteps is a fake refit function: the shard step answers {"shard":k} after failing with
// shardErrs(k)'s errors in turn, the group step, after groupErrs, the training results: the
// refit's {"groups":n} with the n results it was given, beside the fine-tune's output it received.
func refitSteps(shardErrs func(k int) []error, groupErrs ...error) func(context.Context, []byte) ([]byte, error) {
	var mu sync.Mutex
	failed := map[int]int{}
	return func(_ context.Context, payload []byte) ([]byte, error) {
		var in struct {
			Step  string
			Shard struct{ Shard int }
			Input struct {
				Results struct {
					Shards   []json.RawMessage
					FineTune json.RawMessage
				}
			}
		}
		if err := json.Unmarshal(payload, &in); err != nil {
			return nil, err
		}
		mu.Lock()
		defer mu.Unlock()
		switch in.Step {
		case "shard":
			k := in.Shard.Shard
			if errs := shardErrs(k); failed[k] < len(errs) {
				failed[k]++
				return nil, errs[failed[k]-1]
			}
			return fmt.Appendf(nil, `{"shard":%d}`, k), nil
		case "groups":
			if failed[-1] < len(groupErrs) {
				failed[-1]++
				return nil, groupErrs[failed[-1]-1]
			}
			return fmt.Appendf(nil, `{"refit":{"groups":%d},"finetune":%s}`, len(in.Input.Results.Shards), in.Input.Results.FineTune), nil
		}
		return nil, fmt.Errorf("step %q", in.Step)
	}
}

// steps counts the refit's calls of each step.
func steps(inv *fakeInvoker) (shard, groups int) {
	for _, c := range inv.callsTo("stockcast-refit") {
		if strings.Contains(c.payload, `"step":"groups"`) {
			groups++
		} else {
			shard++
		}
	}
	return shard, groups
}

// TestTrainingPipeline runs the training state machine's shape through its paths: the
// fine-tune, then the refit of every shard of the dataset index in a Distributed Map, then the
// group step; transient Lambda errors and DatasetChanged are retried, a shard that fails within
// the tolerated 5% leaves its error object in its place, any other error (or exhausted retries,
// too many failed shards, or a timeout) is caught, published in failure mode, and fails the
// execution with the original error.
func TestTrainingPipeline(t *testing.T) {
	transient := &lambdaerr.Error{Type: "Lambda.TooManyRequestsException", Message: "Rate exceeded"}
	changed := &lambdaerr.Error{Type: "DatasetChanged", Message: "the dataset's ETag moved during the refit"}
	corrupt := &lambdaerr.Error{Type: "CheckpointCorrupt", Message: "bad magic"}
	hang := func(ctx context.Context, _ []byte) ([]byte, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	none := func(int) []error { return nil }
	tests := []struct {
		name         string
		shards       int
		refit        func(context.Context, []byte) ([]byte, error)
		finetune     func(*fakeInvoker)
		wantStatus   Status
		wantError    string
		wantShard    int // refit calls of the shard step
		wantGroups   int
		wantFineTune int
		wantFailed   []int // shards whose error object the group step was given
	}{
		{
			name: "succeeds through transient errors and dataset changes", shards: 3,
			refit: refitSteps(func(k int) []error {
				if k == 1 {
					return []error{transient, changed, changed}
				}
				return nil
			}, transient),
			finetune: func(f *fakeInvoker) {
				f.failsThen("stockcast-finetune", 1, &lambdaerr.Error{Type: "Lambda.ServiceException"}, `{"lstm":"models/lstm/checkpoint.bin"}`)
			},
			wantStatus: StatusSucceeded, wantShard: 6, wantGroups: 2, wantFineTune: 2,
		},
		{
			name: "a shard failing within the tolerated failures leaves its error", shards: 40,
			refit: refitSteps(func(k int) []error {
				if k == 7 {
					return []error{&lambdaerr.Error{Type: "ShardBroken", Message: "no"}}
				}
				return nil
			}),
			finetune:   func(f *fakeInvoker) { f.returns("stockcast-finetune", `{"lstm":"models/lstm/checkpoint.bin"}`) },
			wantStatus: StatusSucceeded, wantShard: 40, wantGroups: 1, wantFineTune: 1, wantFailed: []int{7},
		},
		{
			name: "a fine-tune error is caught and published", shards: 2, refit: refitSteps(none),
			finetune: func(f *fakeInvoker) {
				f.on("stockcast-finetune", func(context.Context, []byte) ([]byte, error) {
					time.Sleep(time.Minute) // training, until the checkpoint turns out bad
					return nil, corrupt
				})
			},
			wantStatus: StatusFailed, wantError: "CheckpointCorrupt", wantFineTune: 1,
		},
		{
			name: "dataset changes past the retries fail the shard, past the tolerated failures, and the job", shards: 1,
			refit:      refitSteps(func(int) []error { return []error{changed, changed, changed, changed} }),
			finetune:   func(f *fakeInvoker) { f.returns("stockcast-finetune", `{"lstm":"c"}`) },
			wantStatus: StatusFailed, wantError: "States.ExceedToleratedFailureThreshold", wantShard: 4, wantFineTune: 1,
		},
		{
			name: "the group step's error fails the job", shards: 2,
			refit:      refitSteps(none, changed, changed, changed, changed),
			finetune:   func(f *fakeInvoker) { f.returns("stockcast-finetune", `{"lstm":"c"}`) },
			wantStatus: StatusFailed, wantError: "DatasetChanged", wantShard: 2, wantGroups: 4, wantFineTune: 1,
		},
		{
			name: "a hung fine-tune times out", shards: 2, refit: refitSteps(none),
			finetune:   func(f *fakeInvoker) { f.on("stockcast-finetune", hang) },
			wantStatus: StatusFailed, wantError: ErrorTimeout, wantFineTune: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				inv := newFakeInvoker().on("stockcast-refit", tt.refit)
				tt.finetune(inv)
				publish := &publishRecorder{}
				inv.on("stockcast-publish", publish.fn)
				it := &Interpreter{Invoker: inv, Objects: indexObjects{tt.shards}, Random: func() float64 { return 0.5 }}
				out, _ := runDefinition(t, it, string(trainingDefinition(t)), trainingInput)
				if out.Status != tt.wantStatus || out.Error != tt.wantError {
					t.Fatalf("outcome %+v, want %s %s", out, tt.wantStatus, tt.wantError)
				}
				if shard, groups := steps(inv); shard != tt.wantShard || groups != tt.wantGroups {
					t.Errorf("%d shard and %d group refit calls, want %d and %d", shard, groups, tt.wantShard, tt.wantGroups)
				}
				if n := len(inv.callsTo("stockcast-finetune")); n != tt.wantFineTune {
					t.Errorf("%d fine-tune calls, want %d", n, tt.wantFineTune)
				}
				sent := publish.sent()
				if len(sent) != 1 {
					t.Fatalf("publish called %d times, want once", len(sent))
				}
				if tt.wantStatus == StatusSucceeded {
					checkPublishedSuccess(t, sent[0], out.Output, tt.shards)
					checkRefitPayloads(t, inv, tt.shards, tt.wantFailed)
					return
				}
				caught, _ := sent[0]["error"].(map[string]any)
				results, _ := sent[0]["results"].(map[string]any)
				if results["refit"] != nil || caught["Error"] != tt.wantError || caught["Cause"] != out.Cause || sent[0]["job"] != "job-1" {
					t.Errorf("publish got %v for failure %s / %s", sent[0], out.Error, out.Cause)
				}
			})
		})
	}
}

// checkRefitPayloads checks what the refit was given: each shard step the state input (with the
// fine-tune's output) and its item of the index; the group step the state input with every
// shard's result in shard order, the error object in place of each failed one.
func checkRefitPayloads(t *testing.T, inv *fakeInvoker, shards int, failed []int) {
	t.Helper()
	for _, c := range inv.callsTo("stockcast-refit") {
		var in struct {
			Step  string
			Input struct {
				Job     string
				Results struct {
					FineTune map[string]any
					Shards   []map[string]any
				}
			}
			Shard *struct{ Shard, Of int }
		}
		if err := json.Unmarshal([]byte(c.payload), &in); err != nil {
			t.Fatal(err)
		}
		if in.Input.Job != "job-1" || in.Input.Results.FineTune["lstm"] != "models/lstm/checkpoint.bin" {
			t.Errorf("refit payload %s lacks the state input or the fine-tune's output", c.payload)
		}
		switch in.Step {
		case "shard":
			if in.Shard == nil || in.Shard.Of != shards {
				t.Errorf("shard step payload %s lacks its item of the index", c.payload)
			}
		case "groups":
			if len(in.Input.Results.Shards) != shards {
				t.Fatalf("group step given %d results for %d shards", len(in.Input.Results.Shards), shards)
			}
			for k, r := range in.Input.Results.Shards {
				wantError := slices.Contains(failed, k)
				if _, isError := r["Error"]; isError != wantError || !wantError && r["shard"] != float64(k) {
					t.Errorf("group step's result %d: %v (failed shards %v)", k, r, failed)
				}
			}
		default:
			t.Errorf("refit payload of step %q", in.Step)
		}
	}
}

// checkPublishedSuccess checks the publish input of a successful run (the execution input with
// the tasks' results, as pipeline.PublishInput reads it: the group step's output as the refit's,
// the Map's raw results dropped) and the execution's output (what publish answered).
func checkPublishedSuccess(t *testing.T, sent map[string]any, output string, shards int) {
	t.Helper()
	got, err := json.Marshal(sent)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`{"job":"job-1","bucket":"data","dataset_key":"data/index.json","dataset_version_id":"v1",
		"results":{"refit":{"groups":%d},"finetune":{"lstm":"models/lstm/checkpoint.bin"}}}`, shards)
	if !jsonEqual(t, string(got), want) {
		t.Errorf("publish got %s, want %s", got, want)
	}
	if !jsonEqual(t, output, `{"version":"v2"}`) {
		t.Errorf("output %s, want publish's answer", output)
	}
}

// TestTrainingRetryTimings checks the waits of a shard's refit: FULL jitter at 0.5 on 2s for the
// transient error, then 2s and 4s for the dataset changes, each retrier counting on its own.
func TestTrainingRetryTimings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		transient := &lambdaerr.Error{Type: "Lambda.SdkClientException"}
		changed := &lambdaerr.Error{Type: "DatasetChanged"}
		inv := newFakeInvoker().
			on("stockcast-refit", refitSteps(func(int) []error { return []error{transient, changed, changed} })).
			returns("stockcast-finetune", `{}`).
			returns("stockcast-publish", `{}`)
		it := &Interpreter{Invoker: inv, Objects: indexObjects{1}, Random: func() float64 { return 0.5 }}
		out, _ := runDefinition(t, it, string(trainingDefinition(t)), trainingInput)
		if out.Status != StatusSucceeded {
			t.Fatalf("outcome %+v", out)
		}
		calls := inv.callsTo("stockcast-refit")
		want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}
		if len(calls) != len(want)+2 { // and the group step
			t.Fatalf("%d refit calls", len(calls))
		}
		for i, w := range want {
			if got := calls[i+1].at.Sub(calls[i].at); got != w {
				t.Errorf("wait %d: %v, want %v", i, got, w)
			}
		}
	})
}
