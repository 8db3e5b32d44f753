package sfn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stockcast/stockcast/infra/local/lambdaerr"

	"github.com/google/uuid"
)

// taskEvents are the history event types of one kind of task resource.
type taskEvents struct {
	scheduled, started, succeeded, failed, timedOut string
}

var (
	lambdaFunctionEvents = taskEvents{EventLambdaScheduled, EventLambdaStarted, EventLambdaSucceeded, EventLambdaFailed, EventLambdaTimedOut}
	lambdaInvokeEvents   = taskEvents{EventTaskScheduled, EventTaskStarted, EventTaskSucceeded, EventTaskFailed, EventTaskTimedOut}
)

// runTask invokes a Task state's function with the effective input and
// returns the task's result.
func (r *run) runTask(ctx context.Context, s *state, env evalEnv, effective any, th *thread) (any, error) {
	timeout, err := r.taskTimeout(s, env)
	if err != nil {
		return nil, err
	}
	function, payload, err := taskPayload(s, effective)
	if err != nil {
		return nil, err
	}
	events := lambdaFunctionEvents
	event := func(typ string) Event { return Event{Type: typ} }
	if s.resourceKind == resourceLambdaInvoke {
		events = lambdaInvokeEvents
		event = func(typ string) Event { return Event{Type: typ, Resource: "invoke", ResourceType: "lambda"} }
	}
	scheduled := event(events.scheduled)
	scheduled.TimeoutSeconds = int64(timeout.Seconds())
	if s.resourceKind == resourceLambdaInvoke {
		scheduled.Region, scheduled.Parameters = r.it.Region, r.eventJSON(effective)
	} else {
		scheduled.Resource, scheduled.Input = s.resource, payload
	}
	r.emit(th, scheduled)
	r.emit(th, event(events.started))

	response, err := r.invoke(ctx, function, []byte(payload), timeout)
	if err != nil {
		var f *Failure
		if ctx.Err() != nil || !errors.As(err, &f) {
			return nil, err
		}
		failed := event(events.failed)
		if f.Name == ErrorTimeout {
			failed = event(events.timedOut)
		}
		failed.Error, failed.Cause = f.Name, f.Cause
		r.emit(th, failed)
		r.logger.Warn("task failed", "state", s.name, "function", function, "error", f.Name, "cause", f.Cause)
		return nil, f
	}
	result := decodeResponse(response)
	if s.resourceKind == resourceLambdaInvoke {
		result = lambdaInvokeOutput(result)
	}
	encoded, err := checkPayload(result, s.name, "task result")
	if err != nil {
		f := err.(*Failure)
		failed := event(events.failed)
		failed.Error, failed.Cause = f.Name, f.Cause
		r.emit(th, failed)
		return nil, err
	}
	succeeded := event(events.succeeded)
	succeeded.Output = encoded
	r.emit(th, succeeded)
	return result, nil
}

// taskTimeout is the Task's TimeoutSeconds, or the value at its
// TimeoutSecondsPath; zero means none.
func (r *run) taskTimeout(s *state, env evalEnv) (time.Duration, error) {
	if s.timeoutPath == nil {
		return s.timeout, nil
	}
	v, _ := env.lookup(s.timeoutPath)
	n, _ := v.(json.Number)
	secs, err := n.Int64()
	if err != nil || secs <= 0 {
		return 0, failf(ErrorRuntime, "TimeoutSecondsPath '%s' must select a positive integer, got %s", s.timeoutPath, mustEncodeJSON(v))
	}
	return time.Duration(secs) * time.Second, nil
}

// taskPayload resolves the function to call and its payload (JSON text).
func taskPayload(s *state, effective any) (string, string, error) {
	if s.resourceKind == resourceLambdaFunction {
		return s.function, mustEncodeJSON(effective), nil
	}
	params, _ := effective.(map[string]any)
	name, ok := params["FunctionName"].(string)
	if !ok || name == "" {
		return "", "", failf(ErrorRuntime, "%s needs a string FunctionName in its Parameters", lambdaInvokeResource)
	}
	payload, has := params["Payload"]
	if !has {
		payload = map[string]any{}
	}
	return functionName(name), mustEncodeJSON(payload), nil
}

// functionName reduces a Lambda FunctionName (a name, NAME:QUALIFIER, a full
// or partial ARN) to the function's name.
func functionName(name string) string {
	if _, after, ok := strings.Cut(name, ":function:"); ok {
		name = after
	}
	name, _, _ = strings.Cut(name, ":")
	return name
}

// invoke calls the invoker with a timeout, and stops waiting for it when ctx
// is done. Errors are Failures except when ctx is done.
func (r *run) invoke(ctx context.Context, function string, payload []byte, timeout time.Duration) ([]byte, error) {
	callCtx, cancel := context.WithCancel(ctx)
	if timeout > 0 {
		callCtx, cancel = context.WithTimeoutCause(ctx, timeout, errTaskTimedOut)
	}
	defer cancel()
	type reply struct {
		body []byte
		err  error
	}
	done := make(chan reply, 1)
	go func() {
		body, err := r.it.Invoker.Invoke(callCtx, function, payload)
		done <- reply{body, err}
	}()
	var rep reply
	select {
	case rep = <-done:
	case <-callCtx.Done():
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if context.Cause(callCtx) == errTaskTimedOut {
		return nil, failf(ErrorTimeout, "Task timed out after %d seconds.", int(timeout.Seconds()))
	}
	var fe *lambdaerr.Error
	switch {
	case errors.As(rep.err, &fe):
		return nil, functionFailure(fe)
	case rep.err != nil:
		return nil, &Failure{Name: ErrorLambdaService, Cause: fmt.Sprintf("invoke %s: %v", function, rep.err)}
	}
	return rep.body, nil
}

// decodeResponse decodes a function's response: JSON as it is, an empty
// response as null, anything else as a string, as Step Functions does.
func decodeResponse(body []byte) any {
	if len(body) == 0 {
		return nil
	}
	v, err := decodeJSON(body)
	if err != nil {
		return string(body)
	}
	return v
}

// lambdaInvokeOutput wraps a function's result the way the lambda:invoke
// integration returns it.
func lambdaInvokeOutput(payload any) any {
	requestID := uuid.NewString()
	headers := map[string]any{
		"Content-Type":           "application/json",
		"X-Amz-Executed-Version": "$LATEST",
		"x-amzn-RequestId":       requestID,
	}
	return map[string]any{
		"ExecutedVersion": "$LATEST",
		"Payload":         payload,
		"SdkHttpMetadata": map[string]any{
			"AllHttpHeaders": allHeaders(headers),
			"HttpHeaders":    headers,
			"HttpStatusCode": json.Number("200"),
		},
		"SdkResponseMetadata": map[string]any{"RequestId": requestID},
		"StatusCode":          json.Number("200"),
	}
}

// allHeaders is the AllHttpHeaders form of headers: each value in an array.
func allHeaders(headers map[string]any) map[string]any {
	all := make(map[string]any, len(headers))
	for k, v := range headers {
		all[k] = []any{v}
	}
	return all
}
