package sfn

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stockcast/stockcast/infra/local/lambdaerr"
)

// TestDataFlow checks input and output processing state by state: InputPath,
// Parameters (paths, the context object, nested values, intrinsics),
// ResultSelector, ResultPath and OutputPath.
func TestDataFlow(t *testing.T) {
	tests := []struct {
		name       string
		definition string
		input      string
		want       string
	}{
		{
			name:       "pass without fields returns its input",
			definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`,
			input:      `{"a":1}`,
			want:       `{"a":1}`,
		},
		{
			name:       "pass result replaces the input",
			definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"x":[1,2]},"End":true}}}`,
			input:      `{"a":1}`,
			want:       `{"x":[1,2]}`,
		},
		{
			name:       "result path creates nested objects",
			definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":"r","ResultPath":"$.b.c.d","End":true}}}`,
			input:      `{"a":1,"b":{"e":2}}`,
			want:       `{"a":1,"b":{"e":2,"c":{"d":"r"}}}`,
		},
		{
			name:       "result path into an array element",
			definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":"r","ResultPath":"$.list[1]","End":true}}}`,
			input:      `{"list":[1,2,3]}`,
			want:       `{"list":[1,"r",3]}`,
		},
		{
			name:       "null result path discards the result",
			definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":"r","ResultPath":null,"End":true}}}`,
			input:      `{"a":1}`,
			want:       `{"a":1}`,
		},
		{
			name:       "result path combines with the raw input, not the InputPath selection",
			definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","InputPath":"$.a","ResultPath":"$.copy","End":true}}}`,
			input:      `{"a":{"x":1},"b":2}`,
			want:       `{"a":{"x":1},"b":2,"copy":{"x":1}}`,
		},
		{
			name:       "input and output paths with brackets and indexes",
			definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","InputPath":"$['odd key'].list[0]","OutputPath":"$.v","End":true}}}`,
			input:      `{"odd key":{"list":[{"v":"first"},{"v":"second"}]}}`,
			want:       `"first"`,
		},
		{
			name:       "null input path gives an empty object",
			definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","InputPath":null,"End":true}}}`,
			input:      `{"a":1}`,
			want:       `{}`,
		},
		{
			name:       "null output path gives an empty object",
			definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","OutputPath":null,"End":true}}}`,
			input:      `{"a":1}`,
			want:       `{}`,
		},
		{
			name: "parameters with paths, nested objects, arrays and wildcards",
			definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{
				"fixed":"f","n.$":"$.items[0].n","all.$":"$.items[*].n",
				"nested":{"deep.$":"$.items[1]","list":[{"x.$":"$.items[0].n"},3]}},"End":true}}}`,
			input: `{"items":[{"n":1},{"n":2},{"m":3}]}`,
			want:  `{"fixed":"f","n":1,"all":[1,2],"nested":{"deep":{"n":2},"list":[{"x":1},3]}}`,
		},
		{
			name: "parameters read the context object",
			definition: `{"StartAt":"First","States":{"First":{"Type":"Pass","Parameters":{
				"id.$":"$$.Execution.Id","name.$":"$$.Execution.Name","machine.$":"$$.StateMachine.Id",
				"state.$":"$$.State.Name","retries.$":"$$.State.RetryCount","input.$":"$$.Execution.Input.k"},"End":true}}}`,
			input: `{"k":"v"}`,
			want: `{"id":"arn:aws:states:us-east-1:123456789012:execution:test:run-1","name":"run-1",
				"machine":"` + testMachineARN + `","state":"First","retries":0,"input":"v"}`,
		},
		{
			name: "pass with parameters and result path",
			definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"x.$":"$.a"},
				"ResultPath":"$.out","OutputPath":"$.out","End":true}}}`,
			input: `{"a":5}`,
			want:  `{"x":5}`,
		},
		{
			name: "states run in order through Next",
			definition: `{"StartAt":"A","States":{
				"A":{"Type":"Pass","Result":1,"ResultPath":"$.a","Next":"B"},
				"B":{"Type":"Pass","Result":2,"ResultPath":"$.b","Next":"C"},
				"C":{"Type":"Succeed","OutputPath":"$.b"}}}`,
			input: `{}`,
			want:  `2`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _ := runDefinition(t, &Interpreter{Invoker: newFakeInvoker()}, tt.definition, tt.input)
			if out.Status != StatusSucceeded {
				t.Fatalf("status %s (%s: %s), want SUCCEEDED", out.Status, out.Error, out.Cause)
			}
			if !jsonEqual(t, out.Output, tt.want) {
				t.Errorf("output %s, want %s", out.Output, tt.want)
			}
		})
	}
}

// TestRuntimeErrors checks the States errors raised by data processing.
func TestRuntimeErrors(t *testing.T) {
	tests := []struct {
		name       string
		definition string
		input      string
		wantError  string
	}{
		{"missing input path", `{"StartAt":"P","States":{"P":{"Type":"Pass","InputPath":"$.nope","End":true}}}`, `{}`, ErrorRuntime},
		{"missing parameter path", `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"a.$":"$.nope"},"End":true}}}`, `{}`, ErrorParameterPathFailure},
		{"result path through a string", `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":1,"ResultPath":"$.a.b","End":true}}}`, `{"a":"s"}`, ErrorResultPathMatchFailure},
		{"input that is not JSON", `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`, `{`, ErrorRuntime},
		{"fail state", `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Custom","Cause":"because"}}}`, `{}`, "Custom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _ := runDefinition(t, &Interpreter{Invoker: newFakeInvoker()}, tt.definition, tt.input)
			if out.Status != StatusFailed || out.Error != tt.wantError {
				t.Errorf("outcome %+v, want FAILED with %s", out, tt.wantError)
			}
		})
	}
}

func TestFailStatePaths(t *testing.T) {
	def := `{"StartAt":"F","States":{"F":{"Type":"Fail","ErrorPath":"$.e","CausePath":"$.c"}}}`
	out, events := runDefinition(t, &Interpreter{Invoker: newFakeInvoker()}, def, `{"e":"Bad","c":"input said so"}`)
	if out.Status != StatusFailed || out.Error != "Bad" || out.Cause != "input said so" {
		t.Errorf("outcome %+v", out)
	}
	want := []string{EventExecutionStarted, EventFailStateEntered, EventExecutionFailed}
	if got := eventTypes(events); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("events %v, want %v", got, want)
	}
}

// TestChoice checks each kind of Choice rule by which state it picks.
func TestChoice(t *testing.T) {
	tests := []struct {
		name  string
		rule  string
		input string
		want  bool
	}{
		{"string equals", `{"Variable":"$.s","StringEquals":"abc"}`, `{"s":"abc"}`, true},
		{"string equals other type", `{"Variable":"$.s","StringEquals":"1"}`, `{"s":1}`, false},
		{"string less than", `{"Variable":"$.s","StringLessThan":"b"}`, `{"s":"a"}`, true},
		{"string greater than equals", `{"Variable":"$.s","StringGreaterThanEquals":"b"}`, `{"s":"a"}`, false},
		{"string matches", `{"Variable":"$.s","StringMatches":"log-*.csv"}`, `{"s":"log-2024.csv"}`, true},
		{"string matches literal star", `{"Variable":"$.s","StringMatches":"a\\*b"}`, `{"s":"axb"}`, false},
		{"string matches escaped star", `{"Variable":"$.s","StringMatches":"a\\*b*"}`, `{"s":"a*bc"}`, true},
		{"numeric equals across forms", `{"Variable":"$.n","NumericEquals":1}`, `{"n":1.0}`, true},
		{"numeric less than", `{"Variable":"$.n","NumericLessThan":1.5}`, `{"n":1}`, true},
		{"numeric greater than", `{"Variable":"$.n","NumericGreaterThan":1.5}`, `{"n":1}`, false},
		{"numeric on a string", `{"Variable":"$.n","NumericEquals":1}`, `{"n":"1"}`, false},
		{"numeric less than equals path", `{"Variable":"$.n","NumericLessThanEqualsPath":"$.limit"}`, `{"n":3,"limit":3}`, true},
		{"boolean equals", `{"Variable":"$.b","BooleanEquals":false}`, `{"b":false}`, true},
		{"boolean equals path", `{"Variable":"$.b","BooleanEqualsPath":"$.c"}`, `{"b":true,"c":false}`, false},
		{"timestamp greater than", `{"Variable":"$.t","TimestampGreaterThan":"2024-01-01T00:00:00Z"}`, `{"t":"2024-01-01T00:00:01+00:00"}`, true},
		{"timestamp equals across zones", `{"Variable":"$.t","TimestampEquals":"2024-01-01T01:00:00+01:00"}`, `{"t":"2024-01-01T00:00:00Z"}`, true},
		{"timestamp less than path", `{"Variable":"$.t","TimestampLessThanPath":"$.u"}`, `{"t":"2024-01-01T00:00:00Z","u":"2023-01-01T00:00:00Z"}`, false},
		{"string equals path", `{"Variable":"$.a","StringEqualsPath":"$.b"}`, `{"a":"x","b":"x"}`, true},
		{"variable from the context object", `{"Variable":"$$.State.Name","StringEquals":"C"}`, `{}`, true},
		{"is present", `{"Variable":"$.x","IsPresent":true}`, `{"x":null}`, true},
		{"is present false", `{"Variable":"$.x","IsPresent":false}`, `{}`, true},
		{"is null", `{"Variable":"$.x","IsNull":true}`, `{"x":null}`, true},
		{"is string", `{"Variable":"$.x","IsString":true}`, `{"x":1}`, false},
		{"is numeric", `{"Variable":"$.x","IsNumeric":true}`, `{"x":1}`, true},
		{"is boolean", `{"Variable":"$.x","IsBoolean":false}`, `{"x":"true"}`, true},
		{"is timestamp", `{"Variable":"$.x","IsTimestamp":true}`, `{"x":"2024-02-03T04:05:06Z"}`, true},
		{"and", `{"And":[{"Variable":"$.a","NumericGreaterThan":1},{"Variable":"$.a","NumericLessThan":3}]}`, `{"a":2}`, true},
		{"and false", `{"And":[{"Variable":"$.a","NumericGreaterThan":1},{"Variable":"$.a","NumericLessThan":2}]}`, `{"a":2}`, false},
		{"or", `{"Or":[{"Variable":"$.a","StringEquals":"x"},{"Variable":"$.a","StringEquals":"y"}]}`, `{"a":"y"}`, true},
		{"not", `{"Not":{"Variable":"$.a","StringEquals":"x"}}`, `{"a":"y"}`, true},
		{"nested", `{"Not":{"Or":[{"Variable":"$.a","IsPresent":false},{"And":[{"Variable":"$.a","IsNumeric":true},{"Variable":"$.a","NumericEquals":0}]}]}}`, `{"a":4}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rule := strings.TrimSuffix(tt.rule, "}") + `,"Next":"Yes"}`
			def := `{"StartAt":"C","States":{
				"C":{"Type":"Choice","Choices":[` + rule + `],"Default":"No"},
				"Yes":{"Type":"Pass","Result":"yes","End":true},
				"No":{"Type":"Pass","Result":"no","End":true}}}`
			out, _ := runDefinition(t, &Interpreter{Invoker: newFakeInvoker()}, def, tt.input)
			if out.Status != StatusSucceeded {
				t.Fatalf("outcome %+v", out)
			}
			want := `"no"`
			if tt.want {
				want = `"yes"`
			}
			if out.Output != want {
				t.Errorf("chose %s, want %s", out.Output, want)
			}
		})
	}
}

func TestChoiceErrors(t *testing.T) {
	tests := []struct {
		name, choices, input, wantError string
	}{
		{"no match and no default", `"Choices":[{"Variable":"$.a","StringEquals":"x","Next":"Yes"}]`, `{"a":"y"}`, ErrorNoChoiceMatched},
		{"variable missing", `"Choices":[{"Variable":"$.b","StringEquals":"x","Next":"Yes"}],"Default":"Yes"`, `{"a":"y"}`, ErrorRuntime},
		{"compared path missing", `"Choices":[{"Variable":"$.a","StringEqualsPath":"$.b","Next":"Yes"}],"Default":"Yes"`, `{"a":"y"}`, ErrorRuntime},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def := `{"StartAt":"C","States":{"C":{"Type":"Choice",` + tt.choices + `},"Yes":{"Type":"Succeed"}}}`
			out, _ := runDefinition(t, &Interpreter{Invoker: newFakeInvoker()}, def, tt.input)
			if out.Status != StatusFailed || out.Error != tt.wantError {
				t.Errorf("outcome %+v, want %s", out, tt.wantError)
			}
		})
	}
}

func TestChoiceOutputAndFirstMatch(t *testing.T) {
	def := `{"StartAt":"C","States":{
		"C":{"Type":"Choice","InputPath":"$.in","OutputPath":"$.v","Choices":[
			{"Variable":"$.v","NumericGreaterThan":10,"Next":"Big"},
			{"Variable":"$.v","NumericGreaterThan":1,"Next":"Medium"},
			{"Variable":"$.v","NumericGreaterThan":0,"Next":"Small"}]},
		"Big":{"Type":"Fail","Error":"Big"},
		"Medium":{"Type":"Pass","Parameters":{"size":"medium","v.$":"$"},"End":true},
		"Small":{"Type":"Fail","Error":"Small"}}}`
	out, _ := runDefinition(t, &Interpreter{Invoker: newFakeInvoker()}, def, `{"in":{"v":5}}`)
	if out.Status != StatusSucceeded || !jsonEqual(t, out.Output, `{"size":"medium","v":5}`) {
		t.Errorf("outcome %+v", out)
	}
}

// TestTaskLambdaFunction checks the direct Lambda ARN resource: the payload
// is the effective input and the output the function's result.
func TestTaskLambdaFunction(t *testing.T) {
	inv := newFakeInvoker().on("double", func(_ context.Context, p []byte) ([]byte, error) {
		var in struct{ N int }
		if err := json.Unmarshal(p, &in); err != nil {
			return nil, err
		}
		return json.Marshal(map[string]int{"n": in.N * 2})
	})
	def := `{"StartAt":"T","States":{"T":{"Type":"Task",
		"Resource":"arn:aws:lambda:us-east-1:123456789012:function:double:live",
		"Parameters":{"N.$":"$.n"},"ResultSelector":{"doubled.$":"$.n"},"ResultPath":"$.result","End":true}}}`
	out, events := runDefinition(t, &Interpreter{Invoker: inv}, def, `{"n":21}`)
	if out.Status != StatusSucceeded || !jsonEqual(t, out.Output, `{"n":21,"result":{"doubled":42}}`) {
		t.Fatalf("outcome %+v", out)
	}
	if calls := inv.callsTo("double"); len(calls) != 1 || calls[0].payload != `{"N":21}` {
		t.Errorf("calls %+v", calls)
	}
	want := []string{EventExecutionStarted, "TaskStateEntered", EventLambdaScheduled, EventLambdaStarted,
		EventLambdaSucceeded, "TaskStateExited", EventExecutionSucceeded}
	if got := eventTypes(events); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("events %v, want %v", got, want)
	}
	for i, e := range events {
		if e.ID != int64(i+1) || e.PreviousEventID != int64(i) {
			t.Errorf("event %d has id %d previous %d", i, e.ID, e.PreviousEventID)
		}
	}
}

// TestTaskLambdaInvoke checks arn:aws:states:::lambda:invoke: FunctionName
// in any form, Payload, and the integration's output.
func TestTaskLambdaInvoke(t *testing.T) {
	inv := newFakeInvoker().echo("refit")
	def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
		"Parameters":{"FunctionName":"arn:aws:lambda:us-east-1:123456789012:function:refit:$LATEST","Payload":{"job.$":"$.job"}},
		"ResultSelector":{"payload.$":"$.Payload","status.$":"$.StatusCode","version.$":"$.ExecutedVersion",
			"httpStatus.$":"$.SdkHttpMetadata.HttpStatusCode"},"End":true}}}`
	out, events := runDefinition(t, &Interpreter{Invoker: inv, Region: "eu-west-1"}, def, `{"job":"j1"}`)
	if out.Status != StatusSucceeded {
		t.Fatalf("outcome %+v", out)
	}
	if !jsonEqual(t, out.Output, `{"payload":{"job":"j1"},"status":200,"version":"$LATEST","httpStatus":200}`) {
		t.Errorf("output %s", out.Output)
	}
	var scheduled Event
	for _, e := range events {
		if e.Type == EventTaskScheduled {
			scheduled = e
		}
	}
	if scheduled.Resource != "invoke" || scheduled.ResourceType != "lambda" || scheduled.Region != "eu-west-1" ||
		!strings.Contains(scheduled.Parameters, `"FunctionName"`) {
		t.Errorf("TaskScheduled event %+v", scheduled)
	}
	for _, name := range []string{"refit", "refit:prod", "123456789012:function:refit"} {
		if got := functionName(name); got != "refit" {
			t.Errorf("functionName(%q) = %q", name, got)
		}
	}
}

// TestTaskResponses checks how function responses that are not JSON objects
// become results.
func TestTaskResponses(t *testing.T) {
	for _, tt := range []struct{ body, want string }{
		{``, `null`}, {`"s"`, `"s"`}, {`not json`, `"not json"`}, {`[1,2]`, `[1,2]`},
	} {
		inv := newFakeInvoker().returns("f", tt.body)
		def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","End":true}}}`
		out, _ := runDefinition(t, &Interpreter{Invoker: inv}, def, `{}`)
		if out.Status != StatusSucceeded || out.Output != tt.want {
			t.Errorf("response %q: outcome %+v, want output %s", tt.body, out, tt.want)
		}
	}
}

// TestTaskErrors checks how invoker errors become States errors.
func TestTaskErrors(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		wantError string
		wantCause string
	}{
		{"function error", &lambdaerr.Error{Type: "DatasetChanged", Message: "etag moved"}, "DatasetChanged",
			`{"errorMessage":"etag moved","errorType":"DatasetChanged"}`},
		{"function error without a type", &lambdaerr.Error{Message: "boom"}, ErrorLambdaUnknown, `{"errorMessage":"boom","errorType":""}`},
		{"wrapped function error", errors.Join(errors.New("ctx"), &lambdaerr.Error{Type: "E", Message: "m"}), "E", `{"errorMessage":"m","errorType":"E"}`},
		{"infrastructure error", errors.New("connection refused"), ErrorLambdaService, "invoke f: connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := newFakeInvoker().on("f", func(context.Context, []byte) ([]byte, error) { return nil, tt.err })
			def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
				"Parameters":{"FunctionName":"f"},"End":true}}}`
			out, events := runDefinition(t, &Interpreter{Invoker: inv}, def, `{}`)
			if out.Status != StatusFailed || out.Error != tt.wantError || out.Cause != tt.wantCause {
				t.Errorf("outcome %+v, want %s / %s", out, tt.wantError, tt.wantCause)
			}
			want := []string{EventExecutionStarted, "TaskStateEntered", EventTaskScheduled, EventTaskStarted, EventTaskFailed, EventExecutionFailed}
			if got := eventTypes(events); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("events %v, want %v", got, want)
			}
		})
	}
}

// TestRetryBackoff checks retry timing through the test's fake time: the
// delays between attempts follow IntervalSeconds × BackoffRate^n, capped by
// MaxDelaySeconds, and jittered with FULL.
func TestRetryBackoff(t *testing.T) {
	tests := []struct {
		name    string
		retrier string
		random  float64
		fails   int
		want    []time.Duration // gaps between consecutive attempts
		status  Status
	}{
		{"defaults", `{"ErrorEquals":["Lambda.ServiceException"]}`, 0, 3,
			[]time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second}, StatusSucceeded},
		{"interval and rate", `{"ErrorEquals":["States.ALL"],"IntervalSeconds":3,"BackoffRate":1.5,"MaxAttempts":4}`, 0, 4,
			[]time.Duration{3 * time.Second, 4500 * time.Millisecond, 6750 * time.Millisecond, 10125 * time.Millisecond}, StatusSucceeded},
		{"max delay caps", `{"ErrorEquals":["States.TaskFailed"],"IntervalSeconds":2,"BackoffRate":3,"MaxDelaySeconds":10,"MaxAttempts":5}`, 0, 4,
			[]time.Duration{2 * time.Second, 6 * time.Second, 10 * time.Second, 10 * time.Second}, StatusSucceeded},
		{"full jitter", `{"ErrorEquals":["Lambda.ServiceException"],"IntervalSeconds":4,"JitterStrategy":"FULL"}`, 0.25, 2,
			[]time.Duration{1 * time.Second, 2 * time.Second}, StatusSucceeded},
		{"attempts exhausted", `{"ErrorEquals":["Lambda.ServiceException"],"MaxAttempts":2}`, 0, 5,
			[]time.Duration{1 * time.Second, 2 * time.Second}, StatusFailed},
		{"zero attempts never retries", `{"ErrorEquals":["Lambda.ServiceException"],"MaxAttempts":0}`, 0, 1,
			nil, StatusFailed},
		{"other errors are not retried", `{"ErrorEquals":["Other"]}`, 0, 1, nil, StatusFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				inv := newFakeInvoker().failsThen("f", tt.fails, errors.New("throttled"), `{"ok":true}`)
				def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f",
					"Retry":[` + tt.retrier + `],"End":true}}}`
				it := &Interpreter{Invoker: inv, Random: func() float64 { return tt.random }}
				out, _ := runDefinition(t, it, def, `{}`)
				if out.Status != tt.status {
					t.Fatalf("outcome %+v, want %s", out, tt.status)
				}
				calls := inv.callsTo("f")
				var gaps []time.Duration
				for i := 1; i < len(calls); i++ {
					gaps = append(gaps, calls[i].at.Sub(calls[i-1].at))
				}
				if len(gaps) != len(tt.want) {
					t.Fatalf("gaps %v, want %v", gaps, tt.want)
				}
				for i := range gaps {
					if gaps[i] != tt.want[i] {
						t.Errorf("gap %d is %v, want %v", i, gaps[i], tt.want[i])
					}
				}
			})
		})
	}
}

// TestRetriersCountSeparately checks that each retrier has its own count and
// that $$.State.RetryCount counts all retries of the state.
func TestRetriersCountSeparately(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errs := []error{
			&lambdaerr.Error{Type: "A"}, &lambdaerr.Error{Type: "B"}, &lambdaerr.Error{Type: "A"}, &lambdaerr.Error{Type: "B"},
		}
		var retryCounts []string
		inv := newFakeInvoker().on("f", func(_ context.Context, p []byte) ([]byte, error) {
			retryCounts = append(retryCounts, string(p))
			if len(errs) == 0 {
				return []byte(`"done"`), nil
			}
			err := errs[0]
			errs = errs[1:]
			return nil, err
		})
		def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f",
			"Parameters":{"retry.$":"$$.State.RetryCount"},
			"Retry":[{"ErrorEquals":["A"],"MaxAttempts":2,"BackoffRate":1},{"ErrorEquals":["B"],"MaxAttempts":2,"IntervalSeconds":5}],"End":true}}}`
		out, _ := runDefinition(t, &Interpreter{Invoker: inv}, def, `{}`)
		if out.Status != StatusSucceeded {
			t.Fatalf("outcome %+v", out)
		}
		want := `{"retry":0} {"retry":1} {"retry":2} {"retry":3} {"retry":4}`
		if got := strings.Join(retryCounts, " "); got != want {
			t.Errorf("payloads %s, want %s", got, want)
		}
		calls := inv.callsTo("f")
		// A after 1s, B after 5s, A again after 1s (rate 1), B after 10s.
		wantGaps := []time.Duration{time.Second, 5 * time.Second, time.Second, 10 * time.Second}
		for i, g := range wantGaps {
			if got := calls[i+1].at.Sub(calls[i].at); got != g {
				t.Errorf("gap %d is %v, want %v", i, got, g)
			}
		}
	})
}

// TestCatch checks Catch matching and the error output placed by ResultPath.
func TestCatch(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		catch     string
		wantState string // the state the catch went to, "" if uncaught
		want      string
	}{
		{"catch all with result path", &lambdaerr.Error{Type: "Boom", Message: "m"},
			`[{"ErrorEquals":["States.ALL"],"ResultPath":"$.error","Next":"Recover"}]`, "Recover",
			`{"in":1,"error":{"Error":"Boom","Cause":"{\"errorMessage\":\"m\",\"errorType\":\"Boom\"}"}}`},
		{"first matching catcher wins", &lambdaerr.Error{Type: "B"},
			`[{"ErrorEquals":["A"],"Next":"Other"},{"ErrorEquals":["B","C"],"Next":"Recover"},{"ErrorEquals":["States.ALL"],"Next":"Other"}]`, "Recover",
			`{"Error":"B","Cause":"{\"errorMessage\":\"\",\"errorType\":\"B\"}"}`},
		{"task failed matches function errors", &lambdaerr.Error{Type: "X"},
			`[{"ErrorEquals":["States.TaskFailed"],"ResultPath":null,"Next":"Recover"}]`, "Recover", `{"in":1}`},
		{"unmatched error fails the execution", &lambdaerr.Error{Type: "X"},
			`[{"ErrorEquals":["Y"],"Next":"Recover"}]`, "", ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := newFakeInvoker().on("f", func(context.Context, []byte) ([]byte, error) { return nil, tt.err })
			def := `{"StartAt":"T","States":{
				"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","Catch":` + tt.catch + `,"Next":"Other"},
				"Recover":{"Type":"Pass","Parameters":{"from":"Recover","got.$":"$"},"End":true},
				"Other":{"Type":"Pass","Parameters":{"from":"Other","got.$":"$"},"End":true}}}`
			out, _ := runDefinition(t, &Interpreter{Invoker: inv}, def, `{"in":1}`)
			if tt.wantState == "" {
				if out.Status != StatusFailed || out.Error != "X" {
					t.Errorf("outcome %+v, want FAILED with X", out)
				}
				return
			}
			want := `{"from":"` + tt.wantState + `","got":` + tt.want + `}`
			if out.Status != StatusSucceeded || !jsonEqual(t, out.Output, want) {
				t.Errorf("outcome %+v, want output %s", out, want)
			}
		})
	}
}

// TestTaskTimeout checks TimeoutSeconds: a task still running after it fails
// with States.Timeout, which States.TaskFailed does not match but a retrier
// naming it does.
func TestTaskTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var cancelled atomic.Int32
		inv := newFakeInvoker().on("slow", func(ctx context.Context, _ []byte) ([]byte, error) {
			<-ctx.Done()
			cancelled.Add(1)
			return nil, ctx.Err()
		})
		def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:slow",
			"TimeoutSeconds":5,
			"Retry":[{"ErrorEquals":["States.TaskFailed"]},{"ErrorEquals":["States.Timeout"],"MaxAttempts":1,"IntervalSeconds":2}],
			"Catch":[{"ErrorEquals":["States.TaskFailed"],"Next":"Wrong"}],"End":true},
			"Wrong":{"Type":"Succeed"}}}`
		start := time.Now()
		out, events := runDefinition(t, &Interpreter{Invoker: inv}, def, `{}`)
		if out.Status != StatusFailed || out.Error != ErrorTimeout {
			t.Fatalf("outcome %+v, want FAILED with States.Timeout", out)
		}
		if elapsed := time.Since(start); elapsed != 12*time.Second {
			t.Errorf("took %v, want 5s + 2s + 5s", elapsed)
		}
		synctest.Wait()
		if n := cancelled.Load(); n != 2 {
			t.Errorf("the function saw %d cancellations, want 2", n)
		}
		var timedOut int
		for _, e := range events {
			if e.Type == EventLambdaTimedOut {
				timedOut++
			}
		}
		if timedOut != 2 {
			t.Errorf("%d LambdaFunctionTimedOut events, want 2", timedOut)
		}
	})
}

// TestTaskTimeoutPath checks TimeoutSecondsPath and that a function that
// ignores its context cannot hold the execution past the timeout.
func TestTaskTimeoutPath(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		inv := newFakeInvoker().on("stuck", func(context.Context, []byte) ([]byte, error) {
			<-release
			return nil, nil
		})
		def := `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:stuck",
			"TimeoutSecondsPath":"$.timeout","End":true}}}`
		start := time.Now()
		out, _ := runDefinition(t, &Interpreter{Invoker: inv}, def, `{"timeout":30}`)
		if out.Status != StatusFailed || out.Error != ErrorTimeout || time.Since(start) != 30*time.Second {
			t.Errorf("outcome %+v after %v", out, time.Since(start))
		}
		close(release)
	})
}

// TestExecutionTimeout checks the machine's TimeoutSeconds.
func TestExecutionTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		inv := newFakeInvoker().on("f", func(ctx context.Context, _ []byte) ([]byte, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		})
		def := `{"StartAt":"T","TimeoutSeconds":10,"States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","End":true}}}`
		out, events := runDefinition(t, &Interpreter{Invoker: inv}, def, `{}`)
		if out.Status != StatusTimedOut || out.Error != ErrorTimeout {
			t.Errorf("outcome %+v", out)
		}
		if last := events[len(events)-1]; last.Type != EventExecutionTimedOut {
			t.Errorf("last event %s", last.Type)
		}
	})
}

// TestAbort checks that cancelling the context aborts the execution with the
// given error and cause, and that catchers do not see it.
func TestAbort(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		inv := newFakeInvoker().on("f", func(ctx context.Context, _ []byte) ([]byte, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		})
		def, err := ParseDefinition([]byte(`{"StartAt":"T","States":{
			"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f",
				"Retry":[{"ErrorEquals":["States.ALL"]}],"Catch":[{"ErrorEquals":["States.ALL"],"Next":"C"}],"End":true},
			"C":{"Type":"Succeed"}}}`))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancelCause(context.Background())
		go func() {
			time.Sleep(time.Minute)
			cancel(&Failure{Name: "Operator", Cause: "stopped by hand"})
		}()
		out, events := runParsed(ctx, &Interpreter{Invoker: inv}, def, `{}`)
		if out.Status != StatusAborted || out.Error != "Operator" || out.Cause != "stopped by hand" {
			t.Errorf("outcome %+v", out)
		}
		if last := events[len(events)-1]; last.Type != EventExecutionAborted || last.Cause != "stopped by hand" {
			t.Errorf("last event %+v", last)
		}
	})
}

// TestRuntimeErrorsAreNotCaughtByAll checks that States.ALL leaves
// States.Runtime alone.
func TestRuntimeErrorsAreNotCaughtByAll(t *testing.T) {
	def := `{"StartAt":"T","States":{
		"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","InputPath":"$.missing",
			"Catch":[{"ErrorEquals":["States.ALL"],"Next":"C"}],"End":true},
		"C":{"Type":"Succeed"}}}`
	out, _ := runDefinition(t, &Interpreter{Invoker: newFakeInvoker().echo("f")}, def, `{}`)
	if out.Status != StatusFailed || out.Error != ErrorRuntime {
		t.Errorf("outcome %+v", out)
	}
}

// TestHistoryLimit checks that an endless loop ends at Step Functions'
// history limit.
func TestHistoryLimit(t *testing.T) {
	def := `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Next":"A"}}}`
	out, events := runDefinition(t, &Interpreter{Invoker: newFakeInvoker()}, def, `{}`)
	if out.Status != StatusFailed || out.Error != ErrorRuntime || len(events) < maxHistoryEvents || len(events) > maxHistoryEvents+3 {
		t.Errorf("outcome %+v after %d events", out, len(events))
	}
}

// TestWait checks the Wait state's forms against fake time.
func TestWait(t *testing.T) {
	tests := []struct {
		name  string
		wait  string
		input string
		want  time.Duration
	}{
		{"seconds", `"Seconds":7`, `{}`, 7 * time.Second},
		{"seconds path", `"SecondsPath":"$.s"`, `{"s":3}`, 3 * time.Second},
		{"timestamp", `"Timestamp":"2000-01-01T00:01:00Z"`, `{}`, time.Minute},
		{"timestamp path", `"TimestampPath":"$.t"`, `{"t":"2000-01-01T00:00:30Z"}`, 30 * time.Second},
		{"timestamp in the past", `"Timestamp":"1999-01-01T00:00:00Z"`, `{}`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				def := `{"StartAt":"W","States":{"W":{"Type":"Wait",` + tt.wait + `,"End":true}}}`
				start := time.Now()
				out, _ := runDefinition(t, &Interpreter{Invoker: newFakeInvoker()}, def, tt.input)
				if out.Status != StatusSucceeded || !jsonEqual(t, out.Output, tt.input) {
					t.Fatalf("outcome %+v", out)
				}
				if got := time.Since(start); got != tt.want {
					t.Errorf("waited %v, want %v", got, tt.want)
				}
			})
		})
	}
}

func TestWaitBadSecondsPath(t *testing.T) {
	def := `{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","End":true}}}`
	out, _ := runDefinition(t, &Interpreter{Invoker: newFakeInvoker()}, def, `{"s":"soon"}`)
	if out.Status != StatusFailed || out.Error != ErrorRuntime {
		t.Errorf("outcome %+v", out)
	}
}
