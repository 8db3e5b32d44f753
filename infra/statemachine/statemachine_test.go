package statemachine

import (
	"encoding/json"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

type state struct {
	Type    string
	Next    string
	End     bool
	Default string
	Choices []struct{ Next string }
	Catch   []struct {
		ErrorEquals      []string
		ResultPath, Next string
	}
	Retry []struct {
		ErrorEquals []string
		MaxAttempts int
	}
	Parameters     map[string]any
	ResultPath     string
	ItemReader     map[string]any
	ItemSelector   map[string]any
	ResultSelector map[string]any
	ItemProcessor  *machine
	MaxConcurrency int
	// ToleratedFailurePercentage is a number: 5 is 5%.
	ToleratedFailurePercentage float64
}

type machine struct {
	StartAt         string
	States          map[string]state
	ProcessorConfig map[string]string
}

func training(t *testing.T) machine {
	t.Helper()
	var m machine
	if err := json.Unmarshal(Training, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestEveryTransitionNamesAState: each Next, Default and Choice of the definition and of its
// Map's processor names a state of the same machine, and every state is reached.
func TestEveryTransitionNamesAState(t *testing.T) {
	var check func(name string, m machine)
	check = func(name string, m machine) {
		reached := map[string]bool{m.StartAt: true}
		for from, s := range m.States {
			targets := []string{s.Next, s.Default}
			for _, c := range s.Choices {
				targets = append(targets, c.Next)
			}
			for _, c := range s.Catch {
				targets = append(targets, c.Next)
			}
			for _, to := range targets {
				if to == "" {
					continue
				}
				if _, ok := m.States[to]; !ok {
					t.Errorf("%s: state %s goes to %s, which is not a state", name, from, to)
				}
				reached[to] = true
			}
			if s.ItemProcessor != nil {
				check(name+"/"+from, *s.ItemProcessor)
			}
		}
		for _, s := range slices.Sorted(maps.Keys(m.States)) {
			if !reached[s] {
				t.Errorf("%s: state %s is never reached", name, s)
			}
		}
	}
	check("training", training(t))
}

// TestTheRefitIsADistributedMapOverTheDatasetIndex: after the fine-tune, a Distributed Map reads
// the shards of the dataset index at the version the execution pins, refits each in a child
// execution with per-item retries under bounded concurrency and a tolerated-failure threshold,
// and passes the results to the group step, whose output (the training results, the Map's
// dropped) replaces $.results for publish.
func TestTheRefitIsADistributedMapOverTheDatasetIndex(t *testing.T) {
	m := training(t)
	if m.States["FineTune"].Next != "RefitShards" {
		t.Fatalf("the fine-tune goes to %s, want RefitShards", m.States["FineTune"].Next)
	}
	mp := m.States["RefitShards"]
	reader, _ := json.Marshal(mp.ItemReader)
	wantReader := `{"Parameters":{"Bucket.$":"$.bucket","Key.$":"$.dataset_key","VersionId.$":"$.dataset_version_id"},"ReaderConfig":{"InputType":"JSON"},"Resource":"arn:aws:states:::s3:getObject"}`
	selector, _ := json.Marshal(mp.ItemSelector)
	if mp.Type != "Map" || string(reader) != wantReader || string(selector) != `{"input.$":"$","shard.$":"$$.Map.Item.Value","step":"shard"}` ||
		mp.MaxConcurrency != 100 || mp.ToleratedFailurePercentage != 5 || mp.ResultPath != "$.results.shards" || mp.Next != "RefitGroups" {
		t.Errorf("RefitShards: %s, reader %s, selector %s, concurrency %d, tolerated %v%%, result path %s, next %s",
			mp.Type, reader, selector, mp.MaxConcurrency, mp.ToleratedFailurePercentage, mp.ResultPath, mp.Next)
	}
	if p := mp.ItemProcessor; p == nil || p.ProcessorConfig["Mode"] != "DISTRIBUTED" || p.ProcessorConfig["ExecutionType"] != "STANDARD" {
		t.Fatalf("RefitShards processor %+v, want a distributed one of standard executions (a refit takes up to 10 minutes)", p)
	}
	item := mp.ItemProcessor.States[mp.ItemProcessor.StartAt]
	if item.Type != "Task" || item.Parameters["FunctionName"] != "${RefitFunctionArn}" || item.Parameters["Payload.$"] != "$" || !item.End {
		t.Errorf("the Map's item: %+v", item)
	}
	retried := map[string]bool{}
	for _, r := range item.Retry {
		for _, e := range r.ErrorEquals {
			retried[e] = true
		}
	}
	for _, e := range []string{"Lambda.ServiceException", "Lambda.TooManyRequestsException", "DatasetChanged", "DeadlineNear"} {
		if !retried[e] {
			t.Errorf("a shard's refit is not retried on %s", e)
		}
	}
	for _, name := range []string{"FineTune", "RefitShards", "RefitGroups", "Publish"} {
		if c := m.States[name].Catch; len(c) != 1 || c[0].Next != "PublishFailure" || c[0].ResultPath != "$.error" || !slices.Equal(c[0].ErrorEquals, []string{"States.ALL"}) {
			t.Errorf("%s does not catch every error into PublishFailure: %+v", name, c)
		}
	}
	groups := m.States["RefitGroups"]
	payload, _ := json.Marshal(groups.Parameters["Payload"])
	selector, _ = json.Marshal(groups.ResultSelector)
	if groups.Parameters["FunctionName"] != "${RefitFunctionArn}" || string(payload) != `{"input.$":"$","step":"groups"}` ||
		groups.ResultPath != "$.results" || groups.Next != "Publish" || string(selector) != `{"finetune.$":"$.Payload.finetune","refit.$":"$.Payload.refit"}` {
		t.Errorf("RefitGroups: %+v, payload %s, result selector %s", groups, payload, selector)
	}
}

// TestTemplateSubstitutesEveryFunction: every ${…} of the definition is one of the template's
// DefinitionSubstitutions, and the template grants the state machine's role what the
// Distributed Map needs: starting its own child executions, describing and stopping them, and
// reading the dataset index the ItemReader reads.
func TestTemplateSubstitutesEveryFunction(t *testing.T) {
	template, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tpl := string(template)
	start := strings.Index(tpl, "  TrainingStateMachine:\n")
	if start < 0 {
		t.Fatal("template.yaml has no TrainingStateMachine")
	}
	end := strings.Index(tpl[start+1:], "\n  TrainingLogGroup:")
	sm := tpl[start : start+1+end]
	for _, v := range regexp.MustCompile(`\$\{(\w+)\}`).FindAllStringSubmatch(string(Training), -1) {
		if !strings.Contains(sm, "        "+v[1]+": ") {
			t.Errorf("the definition's ${%s} is not among the template's DefinitionSubstitutions", v[1])
		}
	}
	for _, want := range []string{
		"states:StartExecution", "states:DescribeExecution", "states:StopExecution",
		":stateMachine:${AWS::StackName}-training", ":execution:${AWS::StackName}-training/*", "s3:GetObject", "/data/index.json",
		"Name: !Sub \"${AWS::StackName}-training\"",
	} {
		if !strings.Contains(sm, want) {
			t.Errorf("the TrainingStateMachine of template.yaml lacks %q", want)
		}
	}
}
