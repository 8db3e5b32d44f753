package stack

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stockcast/stockcast/infra/local/lambdaerr"
	"github.com/stockcast/stockcast/infra/statemachine"
	"github.com/stockcast/stockcast/shared/handlers/handlertest"
	"github.com/stockcast/stockcast/shared/handlers/refit"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/shards"
)

// errorNames lists every error name in the deployed definition's Retry and Catch rules.
func errorNames(t *testing.T) map[string]bool {
	t.Helper()
	var definition any
	if err := json.Unmarshal(statemachine.Training, &definition); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for key, value := range v {
				if key == "ErrorEquals" {
					for _, name := range value.([]any) {
						names[name.(string)] = true
					}
					continue
				}
				walk(value)
			}
		case []any:
			for _, value := range v {
				walk(value)
			}
		}
	}
	walk(definition)
	return names
}

// TestRetriedErrorsAreTheOnesTheHandlersReturn provokes, through the real handlers, each error
// that the deployed state machine retries or catches by name, and names it as Lambda's runtime
// does: a renamed error type, or a rule naming an error nothing returns, fails here instead of
// silently turning a retry off.
func TestRetriedErrorsAreTheOnesTheHandlersReturn(t *testing.T) {
	provoke := map[string]func(t *testing.T) error{
		"DatasetChanged": func(t *testing.T) error {
			e := handlertest.NewEnv(t)
			old := e.Put(shards.SingleKey, handlertest.Testdata(t, "small_dataset.csv"))
			e.Put(shards.SingleKey, handlertest.Testdata(t, "sample_dataset.csv"))
			_, err := refit.New(e.Store, handlertest.Logger(t)).HandleShard(context.Background(), singleShardTask(t, e, handlertest.TaskInput("job", old.ETag)))
			return err
		},
		"DeadlineNear": func(t *testing.T) error {
			e := handlertest.NewEnv(t)
			dataset := e.Put(shards.SingleKey, handlertest.Testdata(t, "small_dataset.csv"))
			h := refit.New(e.Store, handlertest.Logger(t))
			h.StopMargin = time.Hour
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, err := h.HandleShard(ctx, singleShardTask(t, e, handlertest.TaskInput("job", dataset.ETag)))
			return err
		},
		"CheckpointChanged": func(t *testing.T) error {
			e := handlertest.NewEnv(t)
			dataset := e.Put(shards.SingleKey, handlertest.Testdata(t, "small_dataset.csv"))
			racing := &handlertest.CountingStore{Store: e.Store, BeforeWrite: map[string]func(){pipeline.CheckpointKey: func() {
				e.Put(pipeline.CheckpointKey, []byte("written by another run meanwhile"))
			}}}
			_, err := handlertest.SmallFineTune(t, racing).Handle(context.Background(), handlertest.TaskInput("job", dataset.ETag))
			return err
		},
	}
	for name := range errorNames(t) {
		if strings.HasPrefix(name, "States.") || strings.HasPrefix(name, "Lambda.") {
			continue // raised by Step Functions and Lambda themselves
		}
		t.Run(name, func(t *testing.T) {
			cause, ok := provoke[name]
			if !ok {
				t.Fatalf("the state machine names error %s, which no handler is known to return", name)
			}
			err := cause(t)
			if err == nil {
				t.Fatalf("no error")
			}
			if got := lambdaerr.TypeOf(err); got != name {
				t.Errorf("the handler's error reaches Step Functions as %s (%v), the rule names %s", got, err, name)
			}
		})
	}
}

// singleShardTask is the Map item of the one shard of a task's dataset file.
func singleShardTask(t *testing.T, e *handlertest.Env, in pipeline.TaskInput) pipeline.ShardTask {
	t.Helper()
	index, err := pipeline.DatasetIndex(context.Background(), e.Store, in)
	if err != nil {
		t.Fatal(err)
	}
	var task pipeline.ShardTask
	task.Input.TaskInput, task.Shard = in, index[0]
	return task
}
