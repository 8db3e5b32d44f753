package sfn

import (
	"context"
	"encoding/json"
	"strings"
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

// TestTrainingPipeline runs the training state machine's shape through its
// paths: the fine-tune, then the refit; transient Lambda errors and
// DatasetChanged are retried, any other error (or exhausted retries, or a
// timeout) is caught, published in failure mode, and fails the execution with
// the original error.
func TestTrainingPipeline(t *testing.T) {
	transient := &lambdaerr.Error{Type: "Lambda.TooManyRequestsException", Message: "Rate exceeded"}
	changed := &lambdaerr.Error{Type: "DatasetChanged", Message: "the dataset's ETag moved during the refit"}
	corrupt := &lambdaerr.Error{Type: "CheckpointCorrupt", Message: "bad magic"}
	hang := func(ctx context.Context, _ []byte) ([]byte, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	tests := []struct {
		name         string
		refit        func(*fakeInvoker)
		finetune     func(*fakeInvoker)
		wantStatus   Status
		wantError    string
		wantRefits   int
		wantFineTune int
	}{
		{
			name: "succeeds through transient errors and dataset changes",
			refit: func(f *fakeInvoker) {
				f.failsWith("stockcast-refit", `{"trend":"models/trend/v2.json"}`, transient, changed, changed)
			},
			finetune: func(f *fakeInvoker) {
				f.failsThen("stockcast-finetune", 1, &lambdaerr.Error{Type: "Lambda.ServiceException"}, `{"lstm":"models/lstm/checkpoint.bin"}`)
			},
			wantStatus: StatusSucceeded, wantRefits: 4, wantFineTune: 2,
		},
		{
			name:  "a fine-tune error is caught and published",
			refit: func(f *fakeInvoker) { f.returns("stockcast-refit", `{"trend":"t"}`) },
			finetune: func(f *fakeInvoker) {
				f.on("stockcast-finetune", func(context.Context, []byte) ([]byte, error) {
					time.Sleep(time.Minute) // training, until the checkpoint turns out bad
					return nil, corrupt
				})
			},
			wantStatus: StatusFailed, wantError: "CheckpointCorrupt", wantRefits: 0, wantFineTune: 1,
		},
		{
			name:       "dataset changes past the retries fail the job",
			refit:      func(f *fakeInvoker) { f.failsThen("stockcast-refit", 10, changed, `{}`) },
			finetune:   func(f *fakeInvoker) { f.returns("stockcast-finetune", `{"lstm":"c"}`) },
			wantStatus: StatusFailed, wantError: "DatasetChanged", wantRefits: 4, wantFineTune: 1,
		},
		{
			name:       "a hung fine-tune times out",
			refit:      func(f *fakeInvoker) { f.returns("stockcast-refit", `{"trend":"t"}`) },
			finetune:   func(f *fakeInvoker) { f.on("stockcast-finetune", hang) },
			wantStatus: StatusFailed, wantError: ErrorTimeout, wantRefits: 0, wantFineTune: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				inv := newFakeInvoker()
				tt.refit(inv)
				tt.finetune(inv)
				publish := &publishRecorder{}
				inv.on("stockcast-publish", publish.fn)
				it := &Interpreter{Invoker: inv, Random: func() float64 { return 0.5 }}
				out, _ := runDefinition(t, it, string(trainingDefinition(t)), `{"job":"job-1","dataset":"data/large_dataset.csv"}`)
				if out.Status != tt.wantStatus || out.Error != tt.wantError {
					t.Fatalf("outcome %+v, want %s %s", out, tt.wantStatus, tt.wantError)
				}
				if n := len(inv.callsTo("stockcast-refit")); n != tt.wantRefits {
					t.Errorf("%d refit calls, want %d", n, tt.wantRefits)
				}
				if n := len(inv.callsTo("stockcast-finetune")); n != tt.wantFineTune {
					t.Errorf("%d fine-tune calls, want %d", n, tt.wantFineTune)
				}
				sent := publish.sent()
				if len(sent) != 1 {
					t.Fatalf("publish called %d times, want once", len(sent))
				}
				if tt.wantStatus == StatusSucceeded {
					checkPublishedSuccess(t, sent[0], out.Output)
					// The refit ran after the fine-tune and was given its output.
					for _, c := range inv.callsTo("stockcast-refit") {
						if !strings.Contains(c.payload, `"finetune":{"lstm":"models/lstm/checkpoint.bin"}`) {
							t.Errorf("refit payload %s lacks the fine-tune's output", c.payload)
						}
					}
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

// checkPublishedSuccess checks the publish input of a successful run (the execution input with
// the tasks' results, as pipeline.PublishInput reads it) and the execution's output (what
// publish answered).
func checkPublishedSuccess(t *testing.T, sent map[string]any, output string) {
	t.Helper()
	got, err := json.Marshal(sent)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"job":"job-1","dataset":"data/large_dataset.csv",
		"results":{"refit":{"trend":"models/trend/v2.json"},"finetune":{"lstm":"models/lstm/checkpoint.bin"}}}`
	if !jsonEqual(t, string(got), want) {
		t.Errorf("publish got %s, want %s", got, want)
	}
	if !jsonEqual(t, output, `{"version":"v2"}`) {
		t.Errorf("output %s, want publish's answer", output)
	}
}

// TestTrainingRetryTimings checks the refit's waits: FULL jitter at 0.5 on
// 2s for the transient error, then 2s and 4s for the dataset changes, each
// retrier counting on its own.
func TestTrainingRetryTimings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		transient := &lambdaerr.Error{Type: "Lambda.SdkClientException"}
		changed := &lambdaerr.Error{Type: "DatasetChanged"}
		inv := newFakeInvoker().
			failsWith("stockcast-refit", `{}`, transient, changed, changed).
			returns("stockcast-finetune", `{}`).
			returns("stockcast-publish", `{}`)
		it := &Interpreter{Invoker: inv, Random: func() float64 { return 0.5 }}
		out, _ := runDefinition(t, it, string(trainingDefinition(t)), `{"job":"j"}`)
		if out.Status != StatusSucceeded {
			t.Fatalf("outcome %+v", out)
		}
		calls := inv.callsTo("stockcast-refit")
		want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}
		if len(calls) != len(want)+1 {
			t.Fatalf("%d refit calls", len(calls))
		}
		for i, w := range want {
			if got := calls[i+1].at.Sub(calls[i].at); got != w {
				t.Errorf("wait %d: %v, want %v", i, got, w)
			}
		}
	})
}
