package sfn

import (
	"encoding/json"
	"strings"
	"testing"
)

// payloadOf returns a JSON object of exactly n bytes, {"s":"xxx…"}.
func payloadOf(n int) string {
	return `{"s":"` + strings.Repeat("x", n-len(`{"s":""}`)) + `"}`
}

// TestDataLimit checks Step Functions' 256 KiB quota where AWS applies it: a state's input
// after its Parameters, a task's result, a state's output (a Pass's, a Map's built of its items'
// results), each failing the state with the terminal States.DataLimitExceeded, which a
// Catch of States.ALL does not catch; one naming it does. A payload of exactly the quota passes.
func TestDataLimit(t *testing.T) {
	atLimit, overLimit := payloadOf(MaxPayloadBytes), payloadOf(MaxPayloadBytes+1)
	// half is an object of which two, in an array, are over the quota.
	half := payloadOf(MaxPayloadBytes / 2)
	catchAll := `"Catch":[{"ErrorEquals":["States.ALL"],"Next":"Caught"}],`
	tests := []struct {
		name, state, input string
		fails              bool
	}{
		{"a task result at the quota", `"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:at",` + catchAll, `{}`, false},
		{"a task result over the quota", `"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:over",` + catchAll, `{}`, true},
		{"an input over the quota after Parameters", `"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:echo",` + catchAll +
			`"Parameters":{"a.$":"$","b.$":"$"},"ResultPath":null,`, half, true},
		{"an output over the quota by its ResultPath", `"Type":"Pass","Parameters":{"copy.$":"$"},"ResultPath":"$.copy",`, half, true},
		{"a Map's output over the quota", `"Type":"Map","ItemsPath":"$.items","ItemSelector":{"a.$":"$$.Map.Item.Value","b.$":"$$.Map.Item.Value"},` +
			`"ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}},` + catchAll,
			`{"items":[` + payloadOf(MaxPayloadBytes/4) + `,` + payloadOf(MaxPayloadBytes/4) + `]}`, true},
		{"an item's output over the quota inside a Map", `"Type":"Map","ItemsPath":"$.items","ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:over","End":true}}},` + catchAll,
			`{"items":[1]}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := newFakeInvoker().returns("at", atLimit).returns("over", overLimit).echo("echo")
			caught := ""
			if strings.Contains(tt.state, `"Caught"`) {
				caught = `,"Caught":{"Type":"Succeed"}`
			}
			def := `{"StartAt":"S","States":{"S":{` + tt.state + `"End":true}` + caught + `}}`
			out, events := runDefinition(t, &Interpreter{Invoker: inv}, def, tt.input)
			if !tt.fails {
				if out.Status != StatusSucceeded || len(out.Output) != MaxPayloadBytes {
					t.Errorf("outcome %s %s, output of %d bytes; want SUCCEEDED with %d", out.Status, out.Error, len(out.Output), MaxPayloadBytes)
				}
				return
			}
			if out.Status != StatusFailed || out.Error != ErrorDataLimitExceeded || !strings.Contains(out.Cause, "over the quota of 262144 bytes") {
				t.Errorf("outcome %s %s %q; want FAILED with %s, not caught by States.ALL", out.Status, out.Error, out.Cause, ErrorDataLimitExceeded)
			}
			for _, e := range events {
				if e.State == "Caught" {
					t.Errorf("States.ALL caught %s", ErrorDataLimitExceeded)
				}
			}
		})
	}
}

// TestDataLimitCaughtByName checks that a Catch naming States.DataLimitExceeded catches it.
func TestDataLimitCaughtByName(t *testing.T) {
	inv := newFakeInvoker().returns("over", payloadOf(MaxPayloadBytes+1))
	def := `{"StartAt":"S","States":{
		"S":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:over",
			"Catch":[{"ErrorEquals":["States.DataLimitExceeded"],"ResultPath":"$.error","Next":"Caught"}],"End":true},
		"Caught":{"Type":"Pass","End":true}}}`
	out, _ := runDefinition(t, &Interpreter{Invoker: inv}, def, `{}`)
	var got struct{ Error struct{ Error string } }
	if out.Status != StatusSucceeded || json.Unmarshal([]byte(out.Output), &got) != nil || got.Error.Error != ErrorDataLimitExceeded {
		t.Errorf("outcome %+v", out)
	}
}
