package sfn

import (
	"errors"
	"strings"
	"testing"
)

// TestParseDefinitionErrors checks that each kind of invalid definition is
// refused with a message naming the state and the field.
func TestParseDefinitionErrors(t *testing.T) {
	task := `"Resource":"arn:aws:lambda:us-east-1:1:function:f"`
	tests := []struct {
		name       string
		definition string
		want       string
	}{
		{"not JSON", `{`, "not valid JSON"},
		{"not an object", `[]`, "must be a JSON object"},
		{"no StartAt", `{"States":{"A":{"Type":"Succeed"}}}`, "field StartAt: is required"},
		{"no States", `{"StartAt":"A"}`, "field States: must be a non-empty object"},
		{"StartAt missing", `{"StartAt":"B","States":{"A":{"Type":"Succeed"}}}`, `field StartAt: state "B" does not exist`},
		{"unknown top-level field", `{"StartAt":"A","Foo":1,"States":{"A":{"Type":"Succeed"}}}`, "field Foo: is not supported"},
		{"JSONata", `{"StartAt":"A","QueryLanguage":"JSONata","States":{"A":{"Type":"Succeed"}}}`, "field QueryLanguage: only JSONPath"},
		{"bad execution timeout", `{"StartAt":"A","TimeoutSeconds":0,"States":{"A":{"Type":"Succeed"}}}`, "field TimeoutSeconds: must be an integer"},
		{"unsupported type", `{"StartAt":"A","States":{"A":{"Type":"Parallel","End":true}}}`, `state "A": field Type: state type "Parallel" is not supported`},
		{"no type", `{"StartAt":"A","States":{"A":{"End":true}}}`, `state "A": field Type: is required`},
		{"field of another type", `{"StartAt":"A","States":{"A":{"Type":"Pass","Resource":"x","End":true}}}`, `state "A": field Resource: is not supported`},
		{"next and end", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"A","End":true}}}`, `state "A": field End: a state cannot have both Next and End`},
		{"neither next nor end", `{"StartAt":"A","States":{"A":{"Type":"Pass"}}}`, `state "A": field Next: a Pass state needs Next`},
		{"next to nowhere", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"}}}`, `state "A": field Next: state "B" does not exist`},
		{"unreachable", `{"StartAt":"A","States":{"A":{"Type":"Succeed"},"B":{"Type":"Succeed"}}}`, `state "B": the state cannot be reached`},
		{"long name", `{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"` + strings.Repeat("n", 81) + `"},"` + strings.Repeat("n", 81) + `":{"Type":"Succeed"}}}`, "a state name must be 1 to 80 characters"},
		{"bad input path", `{"StartAt":"A","States":{"A":{"Type":"Pass","InputPath":"a.b","End":true}}}`, `state "A": field InputPath: path "a.b" does not start with $`},
		{"wildcard result path", `{"StartAt":"A","States":{"A":{"Type":"Pass","ResultPath":"$.a[*]","End":true}}}`, `state "A": field ResultPath: "$.a[*]" is not a reference path`},
		{"context result path", `{"StartAt":"A","States":{"A":{"Type":"Pass","ResultPath":"$$.x","End":true}}}`, `state "A": field ResultPath: cannot refer to the context object`},
		{"bad parameter path", `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"a":{"b.$":"$..x"}},"End":true}}}`, `state "A": field Parameters: field "a.b.$": path "$..x": deep scan`},
		{"parameter path not a string", `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"b.$":1},"End":true}}}`, `field Parameters: field "b.$" must be a string`},
		{"parameter twice", `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"b.$":"$","b":1},"End":true}}}`, `both set "b"`},
		{"intrinsic function", `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"b.$":"States.Format('{}', $.a)"},"End":true}}}`, `intrinsic function "States.Format('{}', $.a)" is not supported`},
		{"wait without duration", `{"StartAt":"A","States":{"A":{"Type":"Wait","End":true}}}`, `state "A": field Seconds: a Wait state needs exactly one`},
		{"wait with two durations", `{"StartAt":"A","States":{"A":{"Type":"Wait","Seconds":1,"SecondsPath":"$.s","End":true}}}`, "needs exactly one of"},
		{"bad wait timestamp", `{"StartAt":"A","States":{"A":{"Type":"Wait","Timestamp":"2024-01-01","End":true}}}`, `state "A": field Timestamp: must be an RFC 3339 timestamp`},
		{"result selector not an object", `{"StartAt":"A","States":{"A":{"Type":"Task",` + task + `,"ResultSelector":"$","End":true}}}`, `state "A": field ResultSelector: must be an object`},
		{"no resource", `{"StartAt":"A","States":{"A":{"Type":"Task","End":true}}}`, `state "A": field Resource: is required`},
		{"unsupported resource", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage","End":true}}}`, `state "A": field Resource: "arn:aws:states:::sqs:sendMessage" is not supported`},
		{"invoke without function", `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}}`, `state "A": field Parameters: arn:aws:states:::lambda:invoke needs FunctionName`},
		{"heartbeat", `{"StartAt":"A","States":{"A":{"Type":"Task",` + task + `,"HeartbeatSeconds":5,"End":true}}}`, `state "A": field HeartbeatSeconds: is not supported`},
		{"timeout zero", `{"StartAt":"A","States":{"A":{"Type":"Task",` + task + `,"TimeoutSeconds":0,"End":true}}}`, `state "A": field TimeoutSeconds: must be an integer from 1`},
		{"two timeouts", `{"StartAt":"A","States":{"A":{"Type":"Task",` + task + `,"TimeoutSeconds":3,"TimeoutSecondsPath":"$.t","End":true}}}`, "field TimeoutSecondsPath: cannot be used together with TimeoutSeconds"},
		{"retry without errors", `{"StartAt":"A","States":{"A":{"Type":"Task",` + task + `,"Retry":[{"MaxAttempts":1}],"End":true}}}`, `state "A": field Retry[0].ErrorEquals: must be a non-empty array`},
		{"all not last", `{"StartAt":"A","States":{"A":{"Type":"Task",` + task + `,"Retry":[{"ErrorEquals":["States.ALL"]},{"ErrorEquals":["X"]}],"End":true}}}`, `field Retry[0].ErrorEquals: States.ALL must appear alone and in the last element`},
		{"all with others", `{"StartAt":"A","States":{"A":{"Type":"Task",` + task + `,"Catch":[{"ErrorEquals":["X","States.ALL"],"Next":"A"}],"End":true}}}`, `field Catch[0].ErrorEquals: States.ALL must appear alone`},
		{"bad backoff", `{"StartAt":"A","States":{"A":{"Type":"Task",` + task + `,"Retry":[{"ErrorEquals":["X"],"BackoffRate":0.5}],"End":true}}}`, `field Retry[0].BackoffRate: must be at least 1.0`},
		{"bad jitter", `{"StartAt":"A","States":{"A":{"Type":"Task",` + task + `,"Retry":[{"ErrorEquals":["X"],"JitterStrategy":"HALF"}],"End":true}}}`, `field Retry[0].JitterStrategy: must be FULL or NONE`},
		{"negative attempts", `{"StartAt":"A","States":{"A":{"Type":"Task",` + task + `,"Retry":[{"ErrorEquals":["X"],"MaxAttempts":-1}],"End":true}}}`, `field Retry[0].MaxAttempts: must be an integer from 0`},
		{"fractional interval", `{"StartAt":"A","States":{"A":{"Type":"Task",` + task + `,"Retry":[{"ErrorEquals":["X"],"IntervalSeconds":1.5}],"End":true}}}`, `field Retry[0].IntervalSeconds: must be an integer`},
		{"unknown retry field", `{"StartAt":"A","States":{"A":{"Type":"Task",` + task + `,"Retry":[{"ErrorEquals":["X"],"Backoff":2}],"End":true}}}`, `field Retry[0].Backoff: is not supported`},
		{"catch without next", `{"StartAt":"A","States":{"A":{"Type":"Task",` + task + `,"Catch":[{"ErrorEquals":["X"]}],"End":true}}}`, `state "A": field Catch[0].Next: is required`},
		{"catch to nowhere", `{"StartAt":"A","States":{"A":{"Type":"Task",` + task + `,"Catch":[{"ErrorEquals":["X"],"Next":"Z"}],"End":true}}}`, `state "A": field Catch[0].Next: state "Z" does not exist`},
		{"choice without choices", `{"StartAt":"A","States":{"A":{"Type":"Choice","Default":"B"},"B":{"Type":"Succeed"}}}`, `state "A": field Choices: must be a non-empty array`},
		{"choice rule without next", `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.a","IsNull":true}]}}}`, `state "A": field Choices[0].Next: is required`},
		{"nested rule with next", `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Not":{"Variable":"$.a","IsNull":true,"Next":"A"},"Next":"A"}]}}}`, `field Choices[0].Not.Next: only top-level choice rules have Next`},
		{"choice rule with two operators", `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.a","IsNull":true,"IsString":true,"Next":"A"}]}}}`, "needs exactly one operator, found 2"},
		{"unknown operator", `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.a","StringIs":"x","Next":"A"}]}}}`, `field Choices[0].StringIs: unknown choice rule operator "StringIs"`},
		{"wrong literal type", `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.a","NumericEquals":"1","Next":"A"}]}}}`, `field Choices[0].NumericEquals: must be a number`},
		{"bad timestamp literal", `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.a","TimestampEquals":"yesterday","Next":"A"}]}}}`, `field Choices[0].TimestampEquals: must be an RFC 3339 timestamp`},
		{"no variable", `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"StringEquals":"x","Next":"A"}]}}}`, `field Choices[0].Variable: is required with StringEquals`},
		{"empty and", `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"And":[],"Next":"A"}]}}}`, `field Choices[0].And: must be a non-empty array`},
		{"choice default to nowhere", `{"StartAt":"A","States":{"A":{"Type":"Choice","Choices":[{"Variable":"$.a","IsNull":true,"Next":"A"}],"Default":"Q"}}}`, `state "A": field Default: state "Q" does not exist`},
		{"fail with error and path", `{"StartAt":"A","States":{"A":{"Type":"Fail","Error":"E","ErrorPath":"$.e"}}}`, `state "A": field ErrorPath: cannot be used together with Error`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseDefinition([]byte(tt.definition))
			if err == nil {
				t.Fatalf("accepted, want an error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
			var de *DefinitionError
			if !errors.As(err, &de) {
				t.Errorf("error %T is not a *DefinitionError", err)
			}
		})
	}
}

// TestParseDefinitionReportsEveryProblem checks that problems are reported
// together.
func TestParseDefinitionReportsEveryProblem(t *testing.T) {
	_, err := ParseDefinition([]byte(`{"StartAt":"A","States":{
		"A":{"Type":"Pass","Next":"Nowhere"},
		"B":{"Type":"Task","End":true}}}`))
	for _, want := range []string{`state "A": field Next`, `state "B": field Resource`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want it to mention %s", err, want)
		}
	}
}

func TestParseDefinitionAcceptsTheTrainingPipeline(t *testing.T) {
	if _, err := ParseDefinition(trainingDefinition(t)); err != nil {
		t.Fatal(err)
	}
}

// FuzzParseDefinition checks that no definition makes the parser panic and
// that accepted definitions run without panicking.
func FuzzParseDefinition(f *testing.F) {
	seeds := []string{
		`{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"a.$":"$.x"},"End":true}}}`,
		`{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Not":{"Variable":"$.a","StringMatches":"x*"},"Next":"D"}],"Default":"D"},"D":{"Type":"Succeed"}}}`,
		`{"StartAt":"F","States":{"F":{"Type":"Fail","ErrorPath":"$.e"}}}`,
		`{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":0,"InputPath":"$['a'][0]","End":true}}}`,
		`{"StartAt":"A","States":{"A":{"Type":"Pass","Result":{"x":[1,{"y":null}]},"ResultPath":"$.r.s","OutputPath":"$.r","End":true}}}`,
		`{`, `[]`, `{"StartAt":1}`,
	}
	for _, s := range seeds {
		f.Add(s, `{"a":"x","x":1,"e":"E"}`)
	}
	f.Fuzz(func(t *testing.T, definition, input string) {
		def, err := ParseDefinition([]byte(definition))
		if err != nil || def.timeout > 0 || hasWaitOrTask(def.machine) {
			return
		}
		out, _ := runParsed(t.Context(), &Interpreter{Invoker: newFakeInvoker()}, def, input)
		if out.Status != StatusSucceeded && out.Status != StatusFailed {
			t.Errorf("status %s", out.Status)
		}
	})
}

// hasWaitOrTask reports whether a branch could wait or call out, which the
// fuzz target does not run.
func hasWaitOrTask(b *branch) bool {
	for _, s := range b.states {
		if s.typ == "Wait" || s.typ == "Task" {
			return true
		}
	}
	return false
}
