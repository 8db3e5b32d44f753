package sfn

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// fakeInvoker runs functions given as Go funcs and records every call.
type fakeInvoker struct {
	mu        sync.Mutex
	functions map[string]func(ctx context.Context, payload []byte) ([]byte, error)
	calls     []invocation
}

type invocation struct {
	function string
	payload  string
	at       time.Time
}

func newFakeInvoker() *fakeInvoker {
	return &fakeInvoker{functions: map[string]func(context.Context, []byte) ([]byte, error){}}
}

func (f *fakeInvoker) Invoke(ctx context.Context, function string, payload []byte) ([]byte, error) {
	f.mu.Lock()
	fn, ok := f.functions[function]
	f.calls = append(f.calls, invocation{function, string(payload), time.Now()})
	f.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("no function %q", function)
	}
	return fn(ctx, payload)
}

// on registers a function.
func (f *fakeInvoker) on(function string, fn func(ctx context.Context, payload []byte) ([]byte, error)) *fakeInvoker {
	f.functions[function] = fn
	return f
}

// returns registers a function with a fixed result.
func (f *fakeInvoker) returns(function, result string) *fakeInvoker {
	return f.on(function, func(context.Context, []byte) ([]byte, error) { return []byte(result), nil })
}

// echo registers a function that returns its payload.
func (f *fakeInvoker) echo(function string) *fakeInvoker {
	return f.on(function, func(_ context.Context, p []byte) ([]byte, error) { return p, nil })
}

// failsWith registers a function that fails with each of errs in turn, then
// returns result.
func (f *fakeInvoker) failsWith(function, result string, errs ...error) *fakeInvoker {
	var mu sync.Mutex
	return f.on(function, func(context.Context, []byte) ([]byte, error) {
		mu.Lock()
		defer mu.Unlock()
		if len(errs) > 0 {
			err := errs[0]
			errs = errs[1:]
			return nil, err
		}
		return []byte(result), nil
	})
}

// failsThen registers a function that fails n times with err, then returns result.
func (f *fakeInvoker) failsThen(function string, n int, err error, result string) *fakeInvoker {
	errs := make([]error, n)
	for i := range errs {
		errs[i] = err
	}
	return f.failsWith(function, result, errs...)
}

func (f *fakeInvoker) callsTo(function string) []invocation {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []invocation
	for _, c := range f.calls {
		if c.function == function {
			out = append(out, c)
		}
	}
	return out
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

const testMachineARN = "arn:aws:states:us-east-1:123456789012:stateMachine:test"

// runDefinition parses and runs a definition and returns the outcome and
// history.
func runDefinition(t *testing.T, it *Interpreter, definition, input string) (Outcome, []Event) {
	t.Helper()
	def, err := ParseDefinition([]byte(definition))
	if err != nil {
		t.Fatalf("ParseDefinition: %v", err)
	}
	return runParsed(context.Background(), it, def, input)
}

func runParsed(ctx context.Context, it *Interpreter, def *Definition, input string) (Outcome, []Event) {
	if it.Logger == nil {
		it.Logger = discardLogger()
	}
	var events []Event
	exec := ExecutionInfo{
		ARN:              "arn:aws:states:us-east-1:123456789012:execution:test:run-1",
		Name:             "run-1",
		StartTime:        time.Now(),
		StateMachineARN:  testMachineARN,
		StateMachineName: "test",
	}
	out := it.Run(ctx, def, exec, input, func(e Event) { events = append(events, e) })
	return out, events
}

// jsonEqual reports whether two JSON texts hold the same value.
func jsonEqual(t *testing.T, got, want string) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("got is not JSON: %v: %s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want is not JSON: %v: %s", err, want)
	}
	gs, _ := json.Marshal(g)
	ws, _ := json.Marshal(w)
	return string(gs) == string(ws)
}

// eventTypes lists the types of events.
func eventTypes(events []Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Type
	}
	return out
}
