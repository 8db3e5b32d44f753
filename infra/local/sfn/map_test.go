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

	"github.com/stockcast/stockcast/infra/local/lambdaerr"
)

// workARN is the function the tests' Map iterations invoke.
const workARN = "arn:aws:lambda:us-east-1:1:function:work"

// mapDefinition is a state machine of one Map state M (fields: the Map's
// fields besides Type, ItemProcessor and End) whose ItemProcessor is one
// Task W invoking work (task: W's extra fields), in mode (INLINE or
// DISTRIBUTED).
func mapDefinition(mode, fields, task string) string {
	config := ""
	if mode == modeDistributed {
		config = `"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},`
	}
	if fields != "" {
		fields += ","
	}
	if task != "" {
		task += ","
	}
	return `{"StartAt":"M","States":{"M":{"Type":"Map",` + fields + `
		"ItemProcessor":{` + config + `"StartAt":"W","States":{"W":{"Type":"Task","Resource":"` + workARN + `",` + task + `"End":true}}},
		"End":true}}}`
}

// item is the payload the tests' ItemSelectors give work.
type item struct {
	I int `json:"i"`
}

// workOn registers work as fn of the item's index (the payload's "i").
func workOn(inv *fakeInvoker, fn func(ctx context.Context, i int) ([]byte, error)) *fakeInvoker {
	return inv.on("work", func(ctx context.Context, payload []byte) ([]byte, error) {
		var it item
		if err := json.Unmarshal(payload, &it); err != nil {
			return nil, fmt.Errorf("payload %s: %w", payload, err)
		}
		return fn(ctx, it.I)
	})
}

// indexes is `[0, 1, …, n-1]` as a JSON array.
func indexes(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprint(i)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// boom is the function error the tests' failing items return.
var boom = &lambdaerr.Error{Type: "Boom", Message: "item failed"}

// TestMapInline checks an inline Map's input and output processing, in
// AWS's order: InputPath, ItemsPath, ItemSelector ($ the effective input,
// $$.Map.Item.Index and Value), the iterations, their results in item order
// even when they finish in another, then ResultSelector, ResultPath and
// OutputPath; and its history events.
func TestMapInline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		inv := newFakeInvoker().on("work", func(_ context.Context, payload []byte) ([]byte, error) {
			var p struct {
				Index int    `json:"index"`
				Value string `json:"value"`
				Tag   string `json:"tag"`
			}
			if err := json.Unmarshal(payload, &p); err != nil {
				return nil, err
			}
			time.Sleep(time.Duration(10-p.Index) * time.Second) // the last item finishes first
			return json.Marshal(fmt.Sprintf("%s-%d-%s", p.Value, p.Index, p.Tag))
		})
		def := mapDefinition(modeInline, `"InputPath":"$.in","ItemsPath":"$.things",
			"ItemSelector":{"index.$":"$$.Map.Item.Index","value.$":"$$.Map.Item.Value","tag.$":"$.tag"},
			"ResultSelector":{"all.$":"$"},"ResultPath":"$.mapped","OutputPath":"$.mapped"`, "")
		out, events := runDefinition(t, &Interpreter{Invoker: inv}, def, `{"in":{"tag":"t","things":["a","b","c"]},"other":1}`)
		if out.Status != StatusSucceeded {
			t.Fatalf("outcome %+v", out)
		}
		if !jsonEqual(t, out.Output, `{"all":["a-0-t","b-1-t","c-2-t"]}`) {
			t.Errorf("output %s", out.Output)
		}
		types := eventTypes(events)
		for _, want := range []string{"MapStateEntered", EventMapStateStarted, EventMapStateSucceeded, "MapStateExited"} {
			if !slices.Contains(types, want) {
				t.Errorf("no %s event in %v", want, types)
			}
		}
		var started, succeeded []int
		for _, e := range events {
			switch e.Type {
			case EventMapStateStarted:
				if e.Length == nil || *e.Length != 3 {
					t.Errorf("MapStateStarted length %v, want 3", e.Length)
				}
			case EventMapIterationStarted:
				started = append(started, *e.Index)
			case EventMapIterationSucceeded:
				succeeded = append(succeeded, *e.Index)
			}
		}
		slices.Sort(started)
		slices.Sort(succeeded)
		if !slices.Equal(started, []int{0, 1, 2}) || !slices.Equal(succeeded, []int{0, 1, 2}) {
			t.Errorf("iterations started %v, succeeded %v; want each of 0, 1, 2", started, succeeded)
		}
		if n := strings.Count(strings.Join(types, " "), "TaskStateEntered"); n != 3 {
			t.Errorf("%d inner TaskStateEntered events, want 3 (an inline Map's states are in the history)", n)
		}
	})
}

// TestMapLegacyFields checks the names the Map state had before
// ItemProcessor and ItemSelector: Iterator and Parameters, and the state's
// input as the items when there is no ItemsPath.
func TestMapLegacyFields(t *testing.T) {
	inv := newFakeInvoker().echo("work")
	def := `{"StartAt":"M","States":{"M":{"Type":"Map","Parameters":{"v.$":"$$.Map.Item.Value"},
		"Iterator":{"StartAt":"W","States":{"W":{"Type":"Task","Resource":"` + workARN + `","End":true}}},"End":true}}}`
	out, _ := runDefinition(t, &Interpreter{Invoker: inv}, def, `[1,2]`)
	if out.Status != StatusSucceeded || !jsonEqual(t, out.Output, `[{"v":1},{"v":2}]`) {
		t.Fatalf("outcome %+v", out)
	}
	out, _ = runDefinition(t, &Interpreter{Invoker: inv}, def, `{"not":"an array"}`)
	if out.Status != StatusFailed || out.Error != ErrorRuntime || !strings.Contains(out.Cause, "must select an array") {
		t.Errorf("a Map on an object: %+v, want States.Runtime", out)
	}
	out, _ = runDefinition(t, &Interpreter{Invoker: inv}, def, `[]`)
	if out.Status != StatusSucceeded || out.Output != "[]" {
		t.Errorf("no items: %+v, want []", out)
	}
}

// TestMapConcurrency checks the bound on iterations at once, counted by
// the function itself: the Map's MaxConcurrency, the interpreter's own
// limit when it is lower or when MaxConcurrency is 0, in both modes.
func TestMapConcurrency(t *testing.T) {
	tests := []struct {
		name     string
		mode     string
		max      int // MaxConcurrency
		local    int // Interpreter.MapConcurrency
		items    int
		wantPeak int
	}{
		{"inline MaxConcurrency", modeInline, 3, 0, 12, 3},
		{"distributed MaxConcurrency", modeDistributed, 5, 0, 12, 5},
		{"local limit lower", modeDistributed, 100, 4, 12, 4},
		{"unbounded on AWS", modeDistributed, 0, 6, 12, 6},
		{"default local limit", modeDistributed, 0, 0, 100, DefaultMapConcurrency},
		{"fewer items than the bound", modeInline, 10, 0, 3, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var running, peak, calls atomic.Int32
				inv := workOn(newFakeInvoker(), func(context.Context, int) ([]byte, error) {
					calls.Add(1)
					n := running.Add(1)
					for {
						p := peak.Load()
						if n <= p || peak.CompareAndSwap(p, n) {
							break
						}
					}
					time.Sleep(time.Second) // every iteration that can start does before time moves
					running.Add(-1)
					return []byte(`"ok"`), nil
				})
				def := mapDefinition(tt.mode, fmt.Sprintf(`"MaxConcurrency":%d,"ItemSelector":{"i.$":"$$.Map.Item.Value"}`, tt.max), "")
				out, _ := runDefinition(t, &Interpreter{Invoker: inv, MapConcurrency: tt.local}, def, indexes(tt.items))
				if out.Status != StatusSucceeded {
					t.Fatalf("outcome %+v", out)
				}
				if got := int(peak.Load()); got != tt.wantPeak {
					t.Errorf("at most %d iterations ran at once, want %d", got, tt.wantPeak)
				}
				if got := int(calls.Load()); got != tt.items {
					t.Errorf("%d calls, want %d", got, tt.items)
				}
			})
		})
	}
}

// TestMapInlineFailure checks that an inline Map fails with its first
// failed iteration's error and starts no more items.
func TestMapInlineFailure(t *testing.T) {
	var calls atomic.Int32
	inv := workOn(newFakeInvoker(), func(_ context.Context, i int) ([]byte, error) {
		calls.Add(1)
		if i == 2 {
			return nil, boom
		}
		return []byte(`"ok"`), nil
	})
	def := mapDefinition(modeInline, `"MaxConcurrency":1,"ItemSelector":{"i.$":"$$.Map.Item.Value"}`, "")
	out, events := runDefinition(t, &Interpreter{Invoker: inv}, def, indexes(6))
	if out.Status != StatusFailed || out.Error != "Boom" {
		t.Fatalf("outcome %+v, want FAILED with Boom", out)
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("%d items ran, want 3: none after the failure", n)
	}
	types := eventTypes(events)
	if !slices.Contains(types, EventMapIterationFailed) || !slices.Contains(types, EventMapStateFailed) {
		t.Errorf("events %v: want MapIterationFailed and MapStateFailed", types)
	}
}

// TestMapToleratedFailures checks a Distributed Map's failure thresholds on
// both sides: within them a failed item's place holds its error object and
// the Map succeeds; beyond them the Map fails with
// States.ExceedToleratedFailureThreshold and starts no more items.
func TestMapToleratedFailures(t *testing.T) {
	tests := []struct {
		name      string
		tolerance string
		items     int
		failing   []int
		wantOK    bool
		wantCalls int // with MaxConcurrency 1; 0: every item
	}{
		{"no tolerance", ``, 5, []int{3}, false, 4},
		{"count within", `"ToleratedFailureCount":2`, 10, []int{3, 7}, true, 0},
		{"count beyond", `"ToleratedFailureCount":2`, 10, []int{1, 3, 5, 7}, false, 6},
		{"percentage within", `"ToleratedFailurePercentage":5`, 40, []int{10, 30}, true, 0},
		{"percentage beyond", `"ToleratedFailurePercentage":5`, 40, []int{5, 10, 30}, false, 31},
		{"zero percent", `"ToleratedFailurePercentage":0`, 4, []int{0}, false, 1},
		{"all tolerated", `"ToleratedFailurePercentage":100`, 3, []int{0, 1, 2}, true, 0},
		{"both, count exceeded first", `"ToleratedFailureCount":1,"ToleratedFailurePercentage":50`, 10, []int{2, 4}, false, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			inv := workOn(newFakeInvoker(), func(_ context.Context, i int) ([]byte, error) {
				calls.Add(1)
				if slices.Contains(tt.failing, i) {
					return nil, boom
				}
				return json.Marshal(i * 10)
			})
			fields := `"MaxConcurrency":1,"ItemSelector":{"i.$":"$$.Map.Item.Value"}`
			if tt.tolerance != "" {
				fields += "," + tt.tolerance
			}
			out, events := runDefinition(t, &Interpreter{Invoker: inv}, mapDefinition(modeDistributed, fields, ""), indexes(tt.items))
			if !tt.wantOK {
				if out.Status != StatusFailed || out.Error != ErrorExceedToleratedFailureThreshold {
					t.Fatalf("outcome %+v, want FAILED with %s", out, ErrorExceedToleratedFailureThreshold)
				}
				if !strings.Contains(out.Cause, "Boom") {
					t.Errorf("cause %q does not name the items' error", out.Cause)
				}
				if n := int(calls.Load()); n != tt.wantCalls {
					t.Errorf("%d items ran, want %d: none after the threshold was exceeded", n, tt.wantCalls)
				}
				if !slices.Contains(eventTypes(events), EventMapRunFailed) {
					t.Errorf("no MapRunFailed event in %v", eventTypes(events))
				}
				return
			}
			if out.Status != StatusSucceeded {
				t.Fatalf("outcome %+v, want SUCCEEDED", out)
			}
			var results []any
			if err := json.Unmarshal([]byte(out.Output), &results); err != nil || len(results) != tt.items {
				t.Fatalf("output %s: want %d results (%v)", out.Output, tt.items, err)
			}
			for i, r := range results {
				if slices.Contains(tt.failing, i) {
					e, _ := r.(map[string]any)
					if e["Error"] != "Boom" || !strings.Contains(fmt.Sprint(e["Cause"]), "item failed") {
						t.Errorf("result %d = %v, want the item's error object", i, r)
					}
				} else if r != float64(i*10) {
					t.Errorf("result %d = %v, want %d", i, r, i*10)
				}
			}
		})
	}
}

// TestMapItemRetries checks that the ItemProcessor's Retry retries each item
// on its own: a flaky item succeeds on its third attempt, the others run
// once.
func TestMapItemRetries(t *testing.T) {
	for _, mode := range []string{modeInline, modeDistributed} {
		t.Run(mode, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var mu sync.Mutex
				attempts := map[int]int{}
				inv := workOn(newFakeInvoker(), func(_ context.Context, i int) ([]byte, error) {
					mu.Lock()
					attempts[i]++
					n := attempts[i]
					mu.Unlock()
					if i == 1 && n < 3 {
						return nil, &lambdaerr.Error{Type: "Flaky", Message: "try again"}
					}
					return json.Marshal(i)
				})
				def := mapDefinition(mode, `"ItemSelector":{"i.$":"$$.Map.Item.Value"}`,
					`"Retry":[{"ErrorEquals":["Flaky"],"IntervalSeconds":1,"MaxAttempts":2}]`)
				out, _ := runDefinition(t, &Interpreter{Invoker: inv}, def, indexes(4))
				if out.Status != StatusSucceeded || !jsonEqual(t, out.Output, `[0,1,2,3]`) {
					t.Fatalf("outcome %+v", out)
				}
				if want := map[int]int{0: 1, 1: 3, 2: 1, 3: 1}; fmt.Sprint(attempts) != fmt.Sprint(want) {
					t.Errorf("attempts %v, want %v", attempts, want)
				}
			})
		})
	}
}

// TestMapRetryAndCatch checks Retry and Catch on the Map state itself: a
// retrier reruns the whole Map, a catcher takes the Map's error (an inline
// iteration's, or the threshold's) to its Next state.
func TestMapRetryAndCatch(t *testing.T) {
	t.Run("retry", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var calls atomic.Int32
			inv := workOn(newFakeInvoker(), func(_ context.Context, i int) ([]byte, error) {
				if calls.Add(1) == 2 {
					return nil, boom
				}
				return json.Marshal(i)
			})
			def := mapDefinition(modeInline, `"MaxConcurrency":1,"ItemSelector":{"i.$":"$$.Map.Item.Value"},
				"Retry":[{"ErrorEquals":["Boom"],"IntervalSeconds":1,"MaxAttempts":1}]`, "")
			out, _ := runDefinition(t, &Interpreter{Invoker: inv}, def, indexes(3))
			if out.Status != StatusSucceeded || !jsonEqual(t, out.Output, `[0,1,2]`) {
				t.Fatalf("outcome %+v", out)
			}
			if n := calls.Load(); n != 5 {
				t.Errorf("%d calls, want 5: 2 in the failed attempt, 3 in the retry", n)
			}
		})
	})
	for _, mode := range []string{modeInline, modeDistributed} {
		t.Run("catch "+mode, func(t *testing.T) {
			inv := workOn(newFakeInvoker(), func(_ context.Context, i int) ([]byte, error) {
				if i == 1 {
					return nil, boom
				}
				return json.Marshal(i)
			})
			def := `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items","ItemSelector":{"i.$":"$$.Map.Item.Value"},
				"ItemProcessor":{` + map[string]string{modeInline: "", modeDistributed: `"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},`}[mode] + `
					"StartAt":"W","States":{"W":{"Type":"Task","Resource":"` + workARN + `","End":true}}},
				"ResultPath":"$.results",
				"Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.error","Next":"Recovered"}],"Next":"Done"},
				"Recovered":{"Type":"Pass","End":true},"Done":{"Type":"Succeed"}}}`
			out, _ := runDefinition(t, &Interpreter{Invoker: inv}, def, `{"items":[0,1,2]}`)
			if out.Status != StatusSucceeded {
				t.Fatalf("outcome %+v", out)
			}
			var got struct {
				Items   []int `json:"items"`
				Results any   `json:"results"`
				Error   struct{ Error, Cause string }
			}
			if err := json.Unmarshal([]byte(out.Output), &got); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{modeInline: "Boom", modeDistributed: ErrorExceedToleratedFailureThreshold}[mode]
			if got.Error.Error != want || got.Results != nil || len(got.Items) != 3 {
				t.Errorf("output %s: want the input with the caught %s in $.error", out.Output, want)
			}
		})
	}
}

// TestMapNested checks a Map inside a Distributed Map's items, and Choice,
// Pass and Fail states in an ItemProcessor.
func TestMapNested(t *testing.T) {
	inv := newFakeInvoker().echo("work")
	def := `{"StartAt":"Outer","States":{"Outer":{"Type":"Map","ToleratedFailureCount":1,
		"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"Check","States":{
			"Check":{"Type":"Choice","Choices":[{"Variable":"$[0]","NumericEquals":-1,"Next":"Bad"}],"Default":"Inner"},
			"Bad":{"Type":"Fail","Error":"Negative","Cause":"a negative row"},
			"Inner":{"Type":"Map","ItemSelector":{"x.$":"$$.Map.Item.Value","at.$":"$$.Map.Item.Index"},
				"ItemProcessor":{"StartAt":"W","States":{"W":{"Type":"Task","Resource":"` + workARN + `","Next":"P"},
					"P":{"Type":"Pass","Parameters":{"sum.$":"$.x"},"End":true}}},"End":true}}},
		"End":true}}}`
	out, _ := runDefinition(t, &Interpreter{Invoker: inv}, def, `[[1,2],[-1],[3]]`)
	if out.Status != StatusSucceeded {
		t.Fatalf("outcome %+v", out)
	}
	if !jsonEqual(t, out.Output, `[[{"sum":1},{"sum":2}],{"Error":"Negative","Cause":"a negative row"},[{"sum":3}]]`) {
		t.Errorf("output %s", out.Output)
	}
}

// TestMapCancel checks that stopping the execution stops a Map's running
// items (their functions see their context cancelled) and starts no others.
func TestMapCancel(t *testing.T) {
	for _, mode := range []string{modeInline, modeDistributed} {
		t.Run(mode, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var started, cancelled atomic.Int32
				inv := workOn(newFakeInvoker(), func(ctx context.Context, _ int) ([]byte, error) {
					started.Add(1)
					<-ctx.Done()
					cancelled.Add(1)
					return nil, ctx.Err()
				})
				def, err := ParseDefinition([]byte(mapDefinition(mode, `"MaxConcurrency":3,"ItemSelector":{"i.$":"$$.Map.Item.Value"}`, "")))
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithCancelCause(context.Background())
				done := make(chan Outcome)
				var events []Event
				go func() {
					out, ev := runParsed(ctx, &Interpreter{Invoker: inv}, def, indexes(10))
					events = ev
					done <- out
				}()
				synctest.Wait()
				cancel(&Failure{Name: "Stopped", Cause: "by the test"})
				out := <-done
				synctest.Wait()
				if out.Status != StatusAborted || out.Error != "Stopped" {
					t.Errorf("outcome %+v, want ABORTED by the test", out)
				}
				if s, c := started.Load(), cancelled.Load(); s != 3 || c != 3 {
					t.Errorf("%d items started and %d cancelled, want 3 and 3", s, c)
				}
				if !slices.Contains(eventTypes(events), EventMapStateAborted) {
					t.Errorf("no MapStateAborted in %v", eventTypes(events))
				}
			})
		})
	}
}

// TestMapDistributedHistory checks that a Distributed Map's history stays
// small whatever the number of items: its items' states are in their child
// executions, not in the execution's history.
func TestMapDistributedHistory(t *testing.T) {
	inv := newFakeInvoker().echo("work")
	def := mapDefinition(modeDistributed, `"Label":"Shards"`, "")
	out, events := runDefinition(t, &Interpreter{Invoker: inv}, def, indexes(2000))
	if out.Status != StatusSucceeded {
		t.Fatalf("outcome %+v", out)
	}
	want := []string{EventExecutionStarted, "MapStateEntered", EventMapStateStarted, EventMapRunStarted,
		EventMapRunSucceeded, EventMapStateSucceeded, "MapStateExited", EventExecutionSucceeded}
	if got := eventTypes(events); !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
	for _, e := range events {
		if e.Type == EventMapRunStarted && !strings.Contains(e.MapRunARN, ":mapRun:test/Shards:") {
			t.Errorf("map run ARN %q", e.MapRunARN)
		}
	}
	if n := len(inv.callsTo("work")); n != 2000 {
		t.Errorf("%d items ran, want 2000", n)
	}
}

// TestParseMapDefinitionErrors checks that invalid Map states are refused
// with a message naming the state and the field.
func TestParseMapDefinitionErrors(t *testing.T) {
	processor := `"ItemProcessor":{"StartAt":"W","States":{"W":{"Type":"Pass","End":true}}}`
	distributed := `"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"W","States":{"W":{"Type":"Pass","End":true}}}`
	reader := `"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"JSON"},"Parameters":{"Bucket":"b","Key.$":"$.key"}}`
	machine := func(fields string) string {
		return `{"StartAt":"M","States":{"M":{"Type":"Map",` + fields + `,"End":true}}}`
	}
	tests := []struct {
		name       string
		definition string
		want       string
	}{
		{"no ItemProcessor", machine(`"ItemsPath":"$.a"`), `state "M": field ItemProcessor: a Map state needs an ItemProcessor`},
		{"unknown Map field", machine(processor + `,"ItemBatcher":{}`), `state "M": field ItemBatcher: is not supported`},
		{"unknown ItemProcessor field", machine(`"ItemProcessor":{"StartAt":"W","Foo":1,"States":{"W":{"Type":"Pass","End":true}}}`), `field ItemProcessor.Foo: is not supported`},
		{"no inner StartAt", machine(`"ItemProcessor":{"States":{"W":{"Type":"Pass","End":true}}}`), `state "M": field ItemProcessor.StartAt: is required`},
		{"inner StartAt missing", machine(`"ItemProcessor":{"StartAt":"X","States":{"W":{"Type":"Pass","End":true}}}`), `field ItemProcessor.StartAt: state "X" does not exist`},
		{"inner state invalid", machine(`"ItemProcessor":{"StartAt":"W","States":{"W":{"Type":"Pass"}}}`), `state "W": field Next: a Pass state needs Next`},
		{"inner Next to an outer state", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"W","States":{"W":{"Type":"Pass","Next":"After"}}},"Next":"After"},"After":{"Type":"Succeed"}}}`, `state "W": field Next: state "After" does not exist`},
		{"a name twice", `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"StartAt":"W","States":{"W":{"Type":"Pass","End":true}}},"Next":"W"},"W":{"Type":"Succeed"}}}`, `state "W": state names must be unique`},
		{"Iterator and ItemProcessor", machine(processor + `,"Iterator":{"StartAt":"V","States":{"V":{"Type":"Pass","End":true}}}`), `field Iterator: cannot be used together with ItemProcessor`},
		{"Parameters and ItemSelector", machine(processor + `,"Parameters":{},"ItemSelector":{}`), `field Parameters: cannot be used together with ItemSelector`},
		{"ItemsPath and ItemReader", machine(distributed + `,"ItemsPath":"$.a",` + reader), `field ItemReader: cannot be used together with ItemsPath`},
		{"ItemReader inline", machine(processor + `,` + reader), `state "M": field ItemReader: is only allowed in a Map whose ItemProcessor.ProcessorConfig.Mode is DISTRIBUTED`},
		{"tolerance inline", machine(processor + `,"ToleratedFailureCount":1`), `field ToleratedFailureCount: is only allowed in a Map whose`},
		{"bad mode", machine(`"ItemProcessor":{"ProcessorConfig":{"Mode":"PARALLEL"},"StartAt":"W","States":{"W":{"Type":"Pass","End":true}}}`), `field ItemProcessor.ProcessorConfig.Mode: must be INLINE or DISTRIBUTED`},
		{"no execution type", machine(`"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED"},"StartAt":"W","States":{"W":{"Type":"Pass","End":true}}}`), `field ItemProcessor.ProcessorConfig.ExecutionType: is required with Mode DISTRIBUTED`},
		{"express", machine(`"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},"StartAt":"W","States":{"W":{"Type":"Pass","End":true}}}`), `"EXPRESS" is not supported`},
		{"bad percentage", machine(distributed + `,"ToleratedFailurePercentage":101`), `field ToleratedFailurePercentage: must be a number from 0 to 100`},
		{"negative count", machine(distributed + `,"ToleratedFailureCount":-1`), `field ToleratedFailureCount: must be an integer from 0`},
		{"negative concurrency", machine(processor + `,"MaxConcurrency":-1`), `field MaxConcurrency: must be an integer from 0`},
		{"concurrency path", machine(processor + `,"MaxConcurrencyPath":"$.n"`), `field MaxConcurrencyPath: is not supported`},
		{"reader resource", machine(distributed + `,"ItemReader":{"Resource":"arn:aws:states:::s3:listObjectsV2","Parameters":{"Bucket":"b","Key":"k"},"ReaderConfig":{"InputType":"JSON"}}`), `field ItemReader.Resource: "arn:aws:states:::s3:listObjectsV2" is not supported`},
		{"reader CSV", machine(distributed + `,"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","Parameters":{"Bucket":"b","Key":"k"},"ReaderConfig":{"InputType":"CSV"}}`), `field ItemReader.ReaderConfig.InputType: "CSV" is not supported`},
		{"reader without config", machine(distributed + `,"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","Parameters":{"Bucket":"b","Key":"k"}}`), `field ItemReader.ReaderConfig: is required`},
		{"reader without key", machine(distributed + `,"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","Parameters":{"Bucket":"b"},"ReaderConfig":{"InputType":"JSON"}}`), `field ItemReader.Parameters.Key: is required`},
		{"reader unknown parameter", machine(distributed + `,"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","Parameters":{"Bucket":"b","Key":"k","Prefix":"p"},"ReaderConfig":{"InputType":"JSON"}}`), `field ItemReader.Parameters.Prefix: is not supported`},
		{"reader bad max items", machine(distributed + `,"ItemReader":{"Resource":"arn:aws:states:::s3:getObject","Parameters":{"Bucket":"b","Key":"k"},"ReaderConfig":{"InputType":"JSON","MaxItems":0}}`), `field ItemReader.ReaderConfig.MaxItems: must be an integer from 1`},
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
		})
	}
}

// TestMapItemSelectorFailure checks that an ItemSelector path that selects
// nothing fails the Map (not only its item) with States.ParameterPathFailure,
// in both modes, tolerance or not.
func TestMapItemSelectorFailure(t *testing.T) {
	for _, mode := range []string{modeInline, modeDistributed} {
		t.Run(mode, func(t *testing.T) {
			fields := `"ItemSelector":{"i.$":"$$.Map.Item.Value.i"}`
			if mode == modeDistributed {
				fields += `,"ToleratedFailurePercentage":100`
			}
			inv := newFakeInvoker().echo("work")
			out, _ := runDefinition(t, &Interpreter{Invoker: inv}, mapDefinition(mode, fields, ""), `[{"i":0},{"j":1},{"i":2}]`)
			if out.Status != StatusFailed || out.Error != ErrorParameterPathFailure {
				t.Errorf("outcome %+v, want FAILED with %s", out, ErrorParameterPathFailure)
			}
		})
	}
}

// TestMapExecutionTimeout checks that the execution's TimeoutSeconds stops
// a Map's running items.
func TestMapExecutionTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var cancelled atomic.Int32
		inv := workOn(newFakeInvoker(), func(ctx context.Context, _ int) ([]byte, error) {
			<-ctx.Done()
			cancelled.Add(1)
			return nil, ctx.Err()
		})
		def := strings.Replace(mapDefinition(modeDistributed, `"ItemSelector":{"i.$":"$$.Map.Item.Value"}`, ""), `{"StartAt"`, `{"TimeoutSeconds":30,"StartAt"`, 1)
		out, _ := runDefinition(t, &Interpreter{Invoker: inv, MapConcurrency: 2}, def, indexes(5))
		synctest.Wait()
		if out.Status != StatusTimedOut {
			t.Errorf("outcome %+v, want TIMED_OUT", out)
		}
		if n := cancelled.Load(); n != 2 {
			t.Errorf("%d items cancelled, want the 2 running", n)
		}
	})
}
