package sfn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"
)

// Invoker runs a Lambda function by name with a JSON payload and returns its
// JSON result. A function that returns an error is reported as a
// *lambdaerr.Error; any other error is an infrastructure failure, reported to
// the state machine as Lambda.ServiceException. Invoke should return when ctx
// is done; the interpreter stops waiting for it then in any case.
type Invoker interface {
	Invoke(ctx context.Context, function string, payload []byte) ([]byte, error)
}

// Interpreter runs state machines. Its fields are read-only once it runs; it
// is safe for concurrent use.
type Interpreter struct {
	// Invoker runs the functions of Task states.
	Invoker Invoker
	// Clock is used for Retry intervals, Wait states and timestamps; nil
	// means SystemClock.
	Clock Clock
	// Logger gets one line per state entered and exited, and per retry; nil
	// means slog.Default().
	Logger *slog.Logger
	// Random returns a number in [0, 1) for JitterStrategy FULL; it must be
	// safe for concurrent use. Nil means math/rand/v2's Float64.
	Random func() float64
	// Region is reported in TaskScheduled events.
	Region string
	// Objects reads the S3 objects of Distributed Maps' ItemReaders; nil
	// fails them with States.ItemReaderFailed.
	Objects ObjectReader
	// MapConcurrency bounds how many iterations one Map state runs at once,
	// below its own MaxConcurrency (which AWS alone may leave unbounded);
	// zero means DefaultMapConcurrency.
	MapConcurrency int
}

// ExecutionInfo identifies an execution to the context object ($$) and the
// history.
type ExecutionInfo struct {
	ARN              string
	Name             string
	StartTime        time.Time
	RoleARN          string
	StateMachineARN  string
	StateMachineName string
}

// Status is an execution's status as Step Functions reports it.
type Status string

// Execution statuses.
const (
	StatusRunning   Status = "RUNNING"
	StatusSucceeded Status = "SUCCEEDED"
	StatusFailed    Status = "FAILED"
	StatusTimedOut  Status = "TIMED_OUT"
	StatusAborted   Status = "ABORTED"
)

// Outcome is how an execution ended: its output (JSON) when it succeeded,
// its error and cause otherwise.
type Outcome struct {
	Status Status
	Output string
	Error  string
	Cause  string
}

// errExecutionTimedOut is the cancellation cause of an execution that ran
// past its TimeoutSeconds.
var errExecutionTimedOut = errors.New("execution timed out")

// errTaskTimedOut is the cancellation cause of a task past its TimeoutSeconds.
var errTaskTimedOut = errors.New("task timed out")

// Run runs an execution of def on input (a JSON text) and reports every
// history event to record, which is called from one goroutine at a time.
// Cancelling ctx aborts the execution; if the cancellation cause
// (context.Cause) is a *Failure, its Name and Cause are the abort's error and
// cause, as StopExecution gives them.
func (it *Interpreter) Run(ctx context.Context, def *Definition, exec ExecutionInfo, input string, record func(Event)) Outcome {
	r := it.newRun(exec, record)
	th := &thread{}
	r.emit(th, Event{Type: EventExecutionStarted, Input: input, RoleARN: exec.RoleARN})
	value, err := decodeJSON([]byte(input))
	if err != nil {
		return r.finish(th, Outcome{Status: StatusFailed, Error: ErrorRuntime, Cause: fmt.Sprintf("the execution input is not JSON: %v", err)})
	}
	r.execInput = value
	return r.runFrom(ctx, def, def.machine.startAt, value, th)
}

// Redrive continues an unsuccessful execution, as RedriveExecution does: from
// its unsuccessful step — the last state it entered and did not leave — on
// the input that state was given, or from the start if it entered none.
// history is the
// execution's events so far; the new events (ExecutionRedriven first) follow
// them. redriveCount is the number of this redrive, from 1.
func (it *Interpreter) Redrive(ctx context.Context, def *Definition, exec ExecutionInfo, history []Event, redriveCount int, record func(Event)) Outcome {
	r := it.newRun(exec, record)
	th := &thread{}
	if n := len(history); n > 0 {
		r.lastID, th.last = history[n-1].ID, history[n-1].ID
	}
	r.emit(th, Event{Type: EventExecutionRedriven, RedriveCount: redriveCount})
	start, input, err := redrivePoint(def, history)
	if err != nil {
		return r.finish(th, Outcome{Status: StatusFailed, Error: ErrorRuntime, Cause: err.Error()})
	}
	for _, e := range history {
		if e.Type == EventExecutionStarted {
			if r.execInput, err = decodeJSON([]byte(e.Input)); err != nil {
				return r.finish(th, Outcome{Status: StatusFailed, Error: ErrorRuntime, Cause: fmt.Sprintf("the execution input is not JSON: %v", err)})
			}
		}
	}
	if input == nil {
		input = r.execInput
	}
	return r.runFrom(ctx, def, start, input, th)
}

// redrivePoint finds where a redrive starts in history: the last state
// entered, with its input; the machine's StartAt (and a nil input, the
// execution's) when none was.
func redrivePoint(def *Definition, history []Event) (string, any, error) {
	for i := len(history) - 1; i >= 0; i-- {
		e := history[i]
		s, ok := def.machine.states[e.State]
		if !ok || e.Type != stateEnteredEvent(s.typ) {
			continue
		}
		input, err := decodeJSON([]byte(e.Input))
		if err != nil {
			return "", nil, fmt.Errorf("redrive: the input of state %s is not JSON: %v", e.State, err)
		}
		return e.State, input, nil
	}
	return def.machine.startAt, nil, nil
}

func (it *Interpreter) newRun(exec ExecutionInfo, record func(Event)) *run {
	r := &run{it: it, exec: exec, record: record, clock: it.Clock, logger: it.Logger, random: it.Random}
	if r.clock == nil {
		r.clock = SystemClock{}
	}
	if r.logger == nil {
		r.logger = slog.Default()
	}
	if r.random == nil {
		r.random = rand.Float64
	}
	r.logger = r.logger.With("execution", exec.Name, "stateMachine", exec.StateMachineName)
	return r
}

// runFrom runs the states from start on input until the execution
// ends, and records how it ended.
func (r *run) runFrom(ctx context.Context, def *Definition, start string, input any, th *thread) Outcome {
	runCtx := ctx
	if def.timeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeoutCause(ctx, def.timeout, errExecutionTimedOut)
		defer cancel()
	}
	out, err := r.runStates(runCtx, def.machine, start, input, th)
	var f *Failure
	switch {
	case ctx.Err() != nil:
		o := Outcome{Status: StatusAborted}
		if errors.As(context.Cause(ctx), &f) {
			o.Error, o.Cause = f.Name, f.Cause
		}
		return r.finish(th, o)
	case runCtx.Err() != nil && context.Cause(runCtx) == errExecutionTimedOut:
		return r.finish(th, Outcome{Status: StatusTimedOut, Error: ErrorTimeout,
			Cause: fmt.Sprintf("The execution ran longer than its TimeoutSeconds of %d.", int(def.timeout.Seconds()))})
	case errors.As(err, &f):
		return r.finish(th, Outcome{Status: StatusFailed, Error: f.Name, Cause: f.Cause})
	case err != nil:
		return r.finish(th, Outcome{Status: StatusFailed, Error: ErrorRuntime, Cause: err.Error()})
	}
	return r.finish(th, Outcome{Status: StatusSucceeded, Output: mustEncodeJSON(out)})
}

// run is the state of one execution.
type run struct {
	it        *Interpreter
	exec      ExecutionInfo
	clock     Clock
	logger    *slog.Logger
	random    func() float64
	execInput any

	mu     sync.Mutex // serializes record and guards lastID
	record func(Event)
	lastID int64
}

// thread is the execution's line of events: it links each event to the
// previous one.
type thread struct{ last int64 }

func (r *run) emit(th *thread, e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lastID++
	e.ID, e.PreviousEventID, e.Timestamp = r.lastID, th.last, r.clock.Now()
	th.last = e.ID
	if r.record != nil {
		r.record(e)
	}
}

// eventJSON encodes a value an event carries; a run whose events are not
// recorded (a Distributed Map's item) skips the work.
func (r *run) eventJSON(v any) string {
	if r.record == nil {
		return ""
	}
	return mustEncodeJSON(v)
}

// maxHistoryEvents is Step Functions' limit on an execution's history,
// which also ends executions that loop forever.
const maxHistoryEvents = 25000

func (r *run) historyFull() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastID >= maxHistoryEvents
}

func (r *run) finish(th *thread, o Outcome) Outcome {
	e := Event{Error: o.Error, Cause: o.Cause}
	switch o.Status {
	case StatusSucceeded:
		e.Type, e.Output = EventExecutionSucceeded, o.Output
	case StatusFailed:
		e.Type = EventExecutionFailed
	case StatusTimedOut:
		e.Type = EventExecutionTimedOut
	default:
		e.Type = EventExecutionAborted
	}
	r.emit(th, e)
	r.logger.Info("execution finished", "status", o.Status, "error", o.Error)
	return o
}

// runStates runs b's states from name until one ends the execution.
func (r *run) runStates(ctx context.Context, b *branch, name string, input any, th *thread) (any, error) {
	for {
		s := b.states[name]
		out, next, err := r.runState(ctx, s, input, th)
		if err != nil {
			return nil, err
		}
		if next == "" {
			return out, nil
		}
		name, input = next, out
	}
}

// runState runs one state on its raw input and returns its output and the
// next state ("" when the execution ends).
func (r *run) runState(ctx context.Context, s *state, input any, th *thread) (any, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	if r.historyFull() {
		return nil, "", failf(ErrorRuntime, "The execution reached the limit of %d history events.", maxHistoryEvents)
	}
	entered := r.clock.Now()
	enteredType := stateEnteredEvent(s.typ)
	r.emit(th, Event{Type: enteredType, State: s.name, Input: r.eventJSON(input)})
	r.logger.Info("state entered", "state", s.name, "type", s.typ)

	var out any
	var next string
	var err error
	switch s.typ {
	case "Task", "Pass", "Map":
		out, next, err = r.runWithRetry(ctx, s, input, th, entered)
	case "Choice":
		out, next, err = r.runChoice(s, input, entered)
	case "Wait":
		out, next, err = r.runWait(ctx, s, input, entered)
	case "Succeed":
		out, err = r.filter(s, input)
	case "Fail":
		return nil, "", r.fail(s, input)
	}
	if err != nil {
		if ctx.Err() != nil {
			r.logger.Info("state cancelled", "state", s.name, "type", s.typ, "reason", context.Cause(ctx))
		} else {
			r.logger.Warn("state failed", "state", s.name, "type", s.typ, "error", err)
		}
		return nil, "", err
	}
	encoded, err := checkPayload(out, s.name, "output")
	if err != nil {
		r.logger.Warn("state failed", "state", s.name, "type", s.typ, "error", err)
		return nil, "", err
	}
	r.emit(th, Event{Type: stateExitedEvent(s.typ), State: s.name, Output: encoded})
	r.logger.Info("state exited", "state", s.name, "type", s.typ, "duration", r.clock.Now().Sub(entered))
	return out, next, nil
}

// contextObject builds $$ for a state.
func (r *run) contextObject(s *state, entered time.Time, retryCount int) map[string]any {
	return map[string]any{
		"Execution": map[string]any{
			"Id":        r.exec.ARN,
			"Name":      r.exec.Name,
			"StartTime": formatTime(r.exec.StartTime),
			"Input":     r.execInput,
			"RoleArn":   r.exec.RoleARN,
		},
		"State": map[string]any{
			"Name":        s.name,
			"EnteredTime": formatTime(entered),
			"RetryCount":  json.Number(strconv.Itoa(retryCount)),
		},
		"StateMachine": map[string]any{
			"Id":   r.exec.StateMachineARN,
			"Name": r.exec.StateMachineName,
		},
	}
}

// formatTime formats a time as Step Functions does in the context object.
func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// applyInputPath selects the effective input; a null InputPath gives {}.
func applyInputPath(p optionalPath, input any, field string) (any, error) {
	switch {
	case p.null:
		return map[string]any{}, nil
	case p.path == nil:
		return input, nil
	}
	v, ok := p.path.get(input)
	if !ok {
		return nil, failf(ErrorRuntime, "Invalid path '%s' : No results for path: %s in the %s", p.path, p.path, field)
	}
	return v, nil
}

// applyResultPath places result into the raw input: "$" (the default)
// replaces it, null discards the result.
func applyResultPath(p optionalPath, input, result any) (any, error) {
	switch {
	case p.null:
		return input, nil
	case p.path == nil:
		return result, nil
	}
	out, err := p.path.set(input, result)
	if err != nil {
		return nil, failf(ErrorResultPathMatchFailure, "Unable to apply ResultPath '%s' to the input: %v", p.path, err)
	}
	return out, nil
}

// filter applies InputPath then OutputPath, for states without a result.
func (r *run) filter(s *state, input any) (any, error) {
	v, err := applyInputPath(s.inputPath, input, "InputPath")
	if err != nil {
		return nil, err
	}
	return applyInputPath(s.outputPath, v, "OutputPath")
}

// runWithRetry runs a Task, Pass or Map state: input processing, the
// work, result processing, and Retry and Catch around all of it.
func (r *run) runWithRetry(ctx context.Context, s *state, input any, th *thread, entered time.Time) (any, string, error) {
	attempts := make([]int, len(s.retry))
	for retryCount := 0; ; retryCount++ {
		out, err := r.attempt(ctx, s, input, th, entered, retryCount)
		if err == nil {
			return out, s.next, nil
		}
		var f *Failure
		if ctx.Err() != nil || !errors.As(err, &f) {
			return nil, "", err
		}
		if i := matchingRetrier(s.retry, f.Name); i >= 0 && attempts[i] < s.retry[i].maxAttempts {
			delay := s.retry[i].delay(attempts[i], r.random)
			attempts[i]++
			r.logger.Info("retrying state", "state", s.name, "error", f.Name, "cause", f.Cause,
				"attempt", attempts[i], "maxAttempts", s.retry[i].maxAttempts, "delay", delay)
			if err := r.clock.Sleep(ctx, delay); err != nil {
				return nil, "", err
			}
			continue
		}
		for _, c := range s.catch {
			if !errorMatches(c.errorEquals, f.Name) {
				continue
			}
			r.logger.Info("error caught", "state", s.name, "error", f.Name, "next", c.next)
			out, err := applyResultPath(c.resultPath, input, map[string]any{"Error": f.Name, "Cause": f.Cause})
			if err != nil {
				return nil, "", err
			}
			return out, c.next, nil
		}
		return nil, "", f
	}
}

// attempt is one try of a Task, Pass or Map state.
func (r *run) attempt(ctx context.Context, s *state, raw any, th *thread, entered time.Time, retryCount int) (any, error) {
	env := evalEnv{context: r.contextObject(s, entered, retryCount)}
	input, err := applyInputPath(s.inputPath, raw, "InputPath")
	if err != nil {
		return nil, err
	}
	env.input = input
	effective := input
	if s.parameters != nil {
		if effective, err = s.parameters(env); err != nil {
			return nil, err
		}
	}
	if _, err := checkPayload(effective, s.name, "input after Parameters"); err != nil {
		return nil, err
	}
	var result any
	switch s.typ {
	case "Task":
		result, err = r.runTask(ctx, s, env, effective, th)
	case "Map":
		result, err = r.runMap(ctx, s, env, th)
	case "Pass":
		result = effective
		if s.hasResult {
			result = s.result
		}
	}
	if err != nil {
		return nil, err
	}
	if s.resultSelector != nil {
		if result, err = s.resultSelector(evalEnv{input: result, context: env.context}); err != nil {
			return nil, err
		}
	}
	out, err := applyResultPath(s.resultPath, raw, result)
	if err != nil {
		return nil, err
	}
	return applyInputPath(s.outputPath, out, "OutputPath")
}

// matchingRetrier returns the index of the first retrier matching name, or -1.
func matchingRetrier(retry []*retrier, name string) int {
	for i, rt := range retry {
		if errorMatches(rt.errorEquals, name) {
			return i
		}
	}
	return -1
}

// errorMatches applies ErrorEquals: names match exactly; States.ALL matches
// every error but the terminal States.Runtime and States.DataLimitExceeded;
// States.TaskFailed every error but those and States.Timeout.
func errorMatches(names []string, name string) bool {
	terminal := name == ErrorRuntime || name == ErrorDataLimitExceeded
	for _, n := range names {
		switch {
		case n == name:
			return true
		case n == ErrorAll && !terminal:
			return true
		case n == ErrorTaskFailed && name != ErrorTimeout && !terminal:
			return true
		}
	}
	return false
}

// delay is the wait before retry number attempt+1: IntervalSeconds ×
// BackoffRate^attempt, capped by MaxDelaySeconds, and scaled by a random
// factor in [0, 1) with FULL jitter.
func (rt *retrier) delay(attempt int, random func() float64) time.Duration {
	d := float64(rt.interval) * math.Pow(rt.backoffRate, float64(attempt))
	if rt.maxDelay > 0 && d > float64(rt.maxDelay) {
		d = float64(rt.maxDelay)
	}
	if d > float64(math.MaxInt64) {
		d = float64(math.MaxInt64)
	}
	if rt.fullJitter {
		d *= random()
	}
	return time.Duration(d)
}

func (r *run) runChoice(s *state, raw any, entered time.Time) (any, string, error) {
	input, err := applyInputPath(s.inputPath, raw, "InputPath")
	if err != nil {
		return nil, "", err
	}
	env := evalEnv{input: input, context: r.contextObject(s, entered, 0)}
	next := s.defaultNext
	for _, rule := range s.choices {
		ok, err := rule.test(env)
		if err != nil {
			return nil, "", err
		}
		if ok {
			next = rule.next
			break
		}
	}
	if next == "" {
		return nil, "", failf(ErrorNoChoiceMatched, "No Choice rule matched and there is no Default in state %q.", s.name)
	}
	out, err := applyInputPath(s.outputPath, input, "OutputPath")
	return out, next, err
}

func (r *run) runWait(ctx context.Context, s *state, raw any, entered time.Time) (any, string, error) {
	input, err := applyInputPath(s.inputPath, raw, "InputPath")
	if err != nil {
		return nil, "", err
	}
	var d time.Duration
	switch {
	case s.secondsPath != nil:
		v, _ := evalEnv{input: input, context: r.contextObject(s, entered, 0)}.lookup(s.secondsPath)
		n, ok := v.(json.Number)
		secs, err := n.Int64()
		if !ok || err != nil || secs < 0 {
			return nil, "", failf(ErrorRuntime, "SecondsPath '%s' must select a non-negative integer, got %s", s.secondsPath, mustEncodeJSON(v))
		}
		d = time.Duration(secs) * time.Second
	case s.timestampPath != nil:
		v, _ := evalEnv{input: input, context: r.contextObject(s, entered, 0)}.lookup(s.timestampPath)
		str, _ := v.(string)
		t, err := parseTimestamp(str)
		if err != nil {
			return nil, "", failf(ErrorRuntime, "TimestampPath '%s' must select an RFC 3339 timestamp, got %s", s.timestampPath, mustEncodeJSON(v))
		}
		d = t.Sub(r.clock.Now())
	case !s.timestamp.IsZero():
		d = s.timestamp.Sub(r.clock.Now())
	default:
		d = s.seconds
	}
	if err := r.clock.Sleep(ctx, d); err != nil {
		return nil, "", err
	}
	out, err := applyInputPath(s.outputPath, input, "OutputPath")
	return out, s.next, err
}

// fail builds the error of a Fail state.
func (r *run) fail(s *state, input any) error {
	f := &Failure{Name: s.errorName, Cause: s.cause}
	for _, p := range []struct {
		path *jsonPath
		dst  *string
		name string
	}{{s.errorPath, &f.Name, "ErrorPath"}, {s.causePath, &f.Cause, "CausePath"}} {
		if p.path == nil {
			continue
		}
		v, _ := evalEnv{input: input, context: r.contextObject(s, r.clock.Now(), 0)}.lookup(p.path)
		str, ok := v.(string)
		if !ok {
			return failf(ErrorRuntime, "%s '%s' must select a string, got %s", p.name, p.path, mustEncodeJSON(v))
		}
		*p.dst = str
	}
	r.logger.Info("fail state", "state", s.name, "error", f.Name, "cause", f.Cause)
	return f
}
