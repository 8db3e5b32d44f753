package sfn

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// Definition is a parsed and validated Amazon States Language state machine.
type Definition struct {
	machine *branch
	// timeout is the execution's TimeoutSeconds; zero means none.
	timeout time.Duration
}

// branch is a set of states with a start: the state machine's.
type branch struct {
	startAt string
	states  map[string]*state
}

// DefinitionError is one problem found in a definition, located by state
// (empty at the top level) and field.
type DefinitionError struct {
	State   string
	Field   string
	Message string
}

func (e *DefinitionError) Error() string {
	var b strings.Builder
	if e.State != "" {
		fmt.Fprintf(&b, "state %q: ", e.State)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, "field %s: ", e.Field)
	}
	b.WriteString(e.Message)
	return b.String()
}

// Task resource kinds.
const (
	resourceLambdaFunction = "lambdaFunction" // arn:aws:lambda:…:function:NAME
	resourceLambdaInvoke   = "lambdaInvoke"   // arn:aws:states:::lambda:invoke
)

// lambdaInvokeResource is the optimized Lambda integration's resource.
const lambdaInvokeResource = "arn:aws:states:::lambda:invoke"

// state is one parsed state.
type state struct {
	name string
	typ  string

	next string
	end  bool

	inputPath      optionalPath
	outputPath     optionalPath
	resultPath     optionalPath
	parameters     template
	resultSelector template
	retry          []*retrier
	catch          []*catcher

	// Task
	resource     string
	resourceKind string
	function     string // the function name of a direct Lambda ARN
	timeout      time.Duration
	timeoutPath  *jsonPath

	// Pass
	result    any
	hasResult bool

	// Choice
	choices     []*choiceRule
	defaultNext string

	// Wait
	seconds       time.Duration
	secondsPath   *jsonPath
	timestamp     time.Time
	timestampPath *jsonPath

	// Map
	mapping *mapConfig

	// Fail
	errorName string
	cause     string
	errorPath *jsonPath
	causePath *jsonPath
}

// optionalPath is a path field that may be absent (meaning "$") or null
// (meaning: InputPath and OutputPath give {}, ResultPath discards the result).
type optionalPath struct {
	null bool
	path *jsonPath // nil with null false: the default "$"
}

// retrier is one element of Retry.
type retrier struct {
	errorEquals []string
	interval    time.Duration
	maxAttempts int
	backoffRate float64
	maxDelay    time.Duration
	fullJitter  bool
}

// catcher is one element of Catch.
type catcher struct {
	errorEquals []string
	next        string
	resultPath  optionalPath
}

var commonFields = []string{"Type", "Comment"}

// stateFields lists the fields each supported state type accepts.
var stateFields = map[string][]string{
	"Pass":    {"Next", "End", "InputPath", "OutputPath", "Parameters", "ResultPath", "Result"},
	"Task":    {"Next", "End", "InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath", "Retry", "Catch", "Resource", "TimeoutSeconds", "TimeoutSecondsPath"},
	"Choice":  {"InputPath", "OutputPath", "Choices", "Default"},
	"Wait":    {"Next", "End", "InputPath", "OutputPath", "Seconds", "SecondsPath", "Timestamp", "TimestampPath"},
	"Succeed": {"InputPath", "OutputPath"},
	"Fail":    {"Error", "Cause", "ErrorPath", "CausePath"},
	"Map": {"Next", "End", "InputPath", "OutputPath", "ItemsPath", "ItemReader", "ItemSelector", "Parameters", "ItemProcessor", "Iterator",
		"MaxConcurrency", "ToleratedFailureCount", "ToleratedFailurePercentage", "Label", "ResultSelector", "ResultPath", "Retry", "Catch"},
}

// maxNameLength is the longest state name Step Functions accepts.
const maxNameLength = 80

// ParseDefinition parses and validates a state machine definition. All
// problems found are returned together (errors.Join of *DefinitionError).
func ParseDefinition(data []byte) (*Definition, error) {
	v, err := decodeJSON(data)
	if err != nil {
		return nil, &DefinitionError{Message: fmt.Sprintf("not valid JSON: %v", err)}
	}
	top, ok := v.(map[string]any)
	if !ok {
		return nil, &DefinitionError{Message: "the definition must be a JSON object"}
	}
	r := &reader{names: map[string]bool{}}
	r.checkFields(top, "", "StartAt", "States", "Comment", "TimeoutSeconds", "Version", "QueryLanguage")
	if ql, has := top["QueryLanguage"]; has && ql != "JSONPath" {
		r.errorf("QueryLanguage", "only JSONPath is supported")
	}
	def := &Definition{machine: r.branch(top, "")}
	if _, has := top["TimeoutSeconds"]; has {
		def.timeout = time.Duration(r.positiveInt(top, "", "TimeoutSeconds")) * time.Second
	}
	if err := errors.Join(r.errs...); err != nil {
		return nil, err
	}
	return def, nil
}

// reader reads decoded JSON while collecting definition errors; state is the
// state being read, for error messages; names are the state names read so
// far, which must be unique in the whole state machine (Map states' inner
// states included).
type reader struct {
	state string
	errs  []error
	names map[string]bool
}

func (r *reader) errorf(field, format string, args ...any) {
	r.errs = append(r.errs, &DefinitionError{State: r.state, Field: field, Message: fmt.Sprintf(format, args...)})
}

func joinAt(at, field string) string {
	if at == "" {
		return field
	}
	return at + "." + field
}

// checkFields reports the fields of obj that are not allowed.
func (r *reader) checkFields(obj map[string]any, at string, allowed ...string) {
	for key := range obj {
		if !slices.Contains(allowed, key) {
			r.errorf(joinAt(at, key), "is not supported here")
		}
	}
}

func (r *reader) requiredString(obj map[string]any, at, field string) string {
	v, has := obj[field]
	if !has {
		r.errorf(joinAt(at, field), "is required")
		return ""
	}
	s, ok := v.(string)
	if !ok || s == "" {
		r.errorf(joinAt(at, field), "must be a non-empty string")
	}
	return s
}

func (r *reader) optionalString(obj map[string]any, at, field string) string {
	v, has := obj[field]
	if !has {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		r.errorf(joinAt(at, field), "must be a string")
	}
	return s
}

// number reads an optional number field; ok is false if it is absent or
// invalid.
func (r *reader) number(obj map[string]any, at, field string) (float64, bool) {
	v, has := obj[field]
	if !has {
		return 0, false
	}
	n, isNum := v.(json.Number)
	if !isNum {
		r.errorf(joinAt(at, field), "must be a number")
		return 0, false
	}
	f, err := n.Float64()
	if err != nil {
		r.errorf(joinAt(at, field), "must be a number")
		return 0, false
	}
	return f, true
}

// integer reads an optional integer field that must be at least min.
func (r *reader) integer(obj map[string]any, at, field string, min int) (int, bool) {
	f, ok := r.number(obj, at, field)
	if !ok {
		return 0, false
	}
	if f != math.Trunc(f) || f < float64(min) || f > 99999999 {
		r.errorf(joinAt(at, field), "must be an integer from %d to 99999999", min)
		return 0, false
	}
	return int(f), true
}

func (r *reader) positiveInt(obj map[string]any, at, field string) int {
	n, _ := r.integer(obj, at, field, 1)
	return n
}

// path reads an optional path field; reference paths must be definite.
func (r *reader) path(obj map[string]any, at, field string, reference bool) optionalPath {
	v, has := obj[field]
	if !has {
		return optionalPath{}
	}
	if v == nil {
		return optionalPath{null: true}
	}
	s, ok := v.(string)
	if !ok {
		r.errorf(joinAt(at, field), "must be a path string or null")
		return optionalPath{}
	}
	p, err := parsePath(s)
	switch {
	case err != nil:
		r.errorf(joinAt(at, field), "%v", err)
		return optionalPath{}
	case reference && !p.definite():
		r.errorf(joinAt(at, field), "%q is not a reference path: wildcards are not allowed", s)
		return optionalPath{}
	}
	return optionalPath{path: p}
}

// referencePath reads an optional reference path that may address the
// context object when allowContext is set.
func (r *reader) referencePath(obj map[string]any, at, field string, allowContext bool) *jsonPath {
	if v, has := obj[field]; has && v == nil {
		r.errorf(joinAt(at, field), "must be a path string")
		return nil
	}
	p := r.path(obj, at, field, true).path
	if p != nil && p.context && !allowContext {
		r.errorf(joinAt(at, field), "cannot refer to the context object")
		return nil
	}
	return p
}

func (r *reader) template(obj map[string]any, field string) template {
	v, has := obj[field]
	if !has {
		return nil
	}
	if _, isObj := v.(map[string]any); !isObj && field == "ResultSelector" {
		r.errorf(field, "must be an object")
		return nil
	}
	t, err := compileTemplate(v)
	if err != nil {
		r.errorf(field, "%v", err)
		return nil
	}
	return t
}

// branch reads StartAt and States: of the machine (at ""), or of a Map
// state's ItemProcessor (at the field holding them).
func (r *reader) branch(obj map[string]any, at string) *branch {
	b := &branch{states: map[string]*state{}}
	b.startAt = r.requiredString(obj, at, "StartAt")
	raw, ok := obj["States"].(map[string]any)
	if !ok || len(raw) == 0 {
		r.errorf(joinAt(at, "States"), "must be a non-empty object of states")
		return b
	}
	outer := r.state
	for _, name := range slices.Sorted(maps.Keys(raw)) {
		r.state = name
		if len(name) == 0 || len(name) > maxNameLength {
			r.errorf("", "a state name must be 1 to %d characters", maxNameLength)
		}
		if r.names[name] {
			r.errorf("", "state names must be unique in the state machine, Map states' inner states included")
		}
		r.names[name] = true
		if s := r.readState(name, raw[name]); s != nil {
			b.states[name] = s
		}
	}
	r.state = outer
	if b.startAt != "" && b.states[b.startAt] == nil && raw[b.startAt] == nil {
		r.errorf(joinAt(at, "StartAt"), "state %q does not exist", b.startAt)
	}
	r.checkTransitions(b, raw)
	return b
}

// checkTransitions checks that every transition names a state and every
// state can be reached from StartAt.
func (r *reader) checkTransitions(b *branch, raw map[string]any) {
	outer := r.state
	defer func() { r.state = outer }()
	for _, name := range slices.Sorted(maps.Keys(raw)) {
		s := b.states[name]
		if s == nil {
			continue
		}
		r.state = name
		for field, target := range s.transitions() {
			if _, ok := raw[target]; !ok {
				r.errorf(field, "state %q does not exist", target)
			}
		}
	}
	reached := map[string]bool{}
	queue := []string{b.startAt}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		s := b.states[name]
		if s == nil || reached[name] {
			continue
		}
		reached[name] = true
		for _, target := range s.transitions() {
			queue = append(queue, target)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(raw)) {
		if b.states[name] != nil && !reached[name] && b.states[b.startAt] != nil {
			r.state = name
			r.errorf("", "the state cannot be reached from StartAt %q", b.startAt)
		}
	}
}

// transitions lists the states a state can go to, keyed by the field that
// names them.
func (s *state) transitions() map[string]string {
	t := map[string]string{}
	if s.next != "" {
		t["Next"] = s.next
	}
	if s.defaultNext != "" {
		t["Default"] = s.defaultNext
	}
	for i, c := range s.choices {
		t[fmt.Sprintf("Choices[%d].Next", i)] = c.next
	}
	for i, c := range s.catch {
		t[fmt.Sprintf("Catch[%d].Next", i)] = c.next
	}
	return t
}

func (r *reader) readState(name string, v any) *state {
	obj, ok := v.(map[string]any)
	if !ok {
		r.errorf("", "a state must be an object")
		return nil
	}
	s := &state{name: name}
	s.typ = r.requiredString(obj, "", "Type")
	allowed, supported := stateFields[s.typ]
	if !supported {
		if s.typ != "" {
			r.errorf("Type", "state type %q is not supported", s.typ)
		}
		return nil
	}
	r.checkFields(obj, "", append(slices.Clone(commonFields), allowed...)...)
	r.readTransition(s, obj, allowed)
	s.inputPath = r.path(obj, "", "InputPath", false)
	s.outputPath = r.path(obj, "", "OutputPath", false)
	s.resultPath = r.path(obj, "", "ResultPath", true)
	if p := s.resultPath.path; p != nil && p.context {
		r.errorf("ResultPath", "cannot refer to the context object")
	}
	s.parameters = r.template(obj, "Parameters")
	s.resultSelector = r.template(obj, "ResultSelector")
	s.retry = r.readRetry(obj)
	s.catch = r.readCatch(obj)
	switch s.typ {
	case "Task":
		r.readTask(s, obj)
	case "Pass":
		s.result, s.hasResult = obj["Result"]
	case "Choice":
		r.readChoice(s, obj)
	case "Wait":
		r.readWait(s, obj)
	case "Fail":
		r.readFail(s, obj)
	case "Map":
		r.readMap(s, obj)
	}
	return s
}

// readTransition reads Next and End for the types that have them.
func (r *reader) readTransition(s *state, obj map[string]any, allowed []string) {
	if !slices.Contains(allowed, "End") {
		return
	}
	s.next = r.optionalString(obj, "", "Next")
	if v, has := obj["End"]; has {
		end, ok := v.(bool)
		if !ok {
			r.errorf("End", "must be a boolean")
		}
		s.end = end
	}
	switch {
	case s.next != "" && s.end:
		r.errorf("End", "a state cannot have both Next and End")
	case s.next == "" && !s.end:
		r.errorf("Next", "a %s state needs Next or \"End\": true", s.typ)
	}
}

func (r *reader) errorEquals(obj map[string]any, at string, last bool) []string {
	arr, ok := obj["ErrorEquals"].([]any)
	if !ok || len(arr) == 0 {
		r.errorf(joinAt(at, "ErrorEquals"), "must be a non-empty array of error names")
		return nil
	}
	names := make([]string, 0, len(arr))
	for _, e := range arr {
		name, ok := e.(string)
		if !ok || name == "" {
			r.errorf(joinAt(at, "ErrorEquals"), "must contain only non-empty strings")
			continue
		}
		names = append(names, name)
	}
	if slices.Contains(names, ErrorAll) && (len(names) > 1 || !last) {
		r.errorf(joinAt(at, "ErrorEquals"), "%s must appear alone and in the last element", ErrorAll)
	}
	return names
}

func (r *reader) list(obj map[string]any, field string) []map[string]any {
	v, has := obj[field]
	if !has {
		return nil
	}
	arr, ok := v.([]any)
	if !ok {
		r.errorf(field, "must be an array")
		return nil
	}
	out := make([]map[string]any, 0, len(arr))
	for i, e := range arr {
		o, ok := e.(map[string]any)
		if !ok {
			r.errorf(fmt.Sprintf("%s[%d]", field, i), "must be an object")
			continue
		}
		out = append(out, o)
	}
	return out
}

func (r *reader) readRetry(obj map[string]any) []*retrier {
	items := r.list(obj, "Retry")
	var out []*retrier
	for i, o := range items {
		at := fmt.Sprintf("Retry[%d]", i)
		r.checkFields(o, at, "ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds", "JitterStrategy", "Comment")
		rt := &retrier{interval: time.Second, maxAttempts: 3, backoffRate: 2}
		rt.errorEquals = r.errorEquals(o, at, i == len(items)-1)
		if n, ok := r.integer(o, at, "IntervalSeconds", 1); ok {
			rt.interval = time.Duration(n) * time.Second
		}
		if n, ok := r.integer(o, at, "MaxAttempts", 0); ok {
			rt.maxAttempts = n
		}
		if f, ok := r.number(o, at, "BackoffRate"); ok {
			if f < 1 {
				r.errorf(joinAt(at, "BackoffRate"), "must be at least 1.0")
			}
			rt.backoffRate = f
		}
		if n, ok := r.integer(o, at, "MaxDelaySeconds", 1); ok {
			rt.maxDelay = time.Duration(n) * time.Second
		}
		switch j := r.optionalString(o, at, "JitterStrategy"); j {
		case "", "NONE":
		case "FULL":
			rt.fullJitter = true
		default:
			r.errorf(joinAt(at, "JitterStrategy"), "must be FULL or NONE, not %q", j)
		}
		out = append(out, rt)
	}
	return out
}

func (r *reader) readCatch(obj map[string]any) []*catcher {
	items := r.list(obj, "Catch")
	var out []*catcher
	for i, o := range items {
		at := fmt.Sprintf("Catch[%d]", i)
		r.checkFields(o, at, "ErrorEquals", "Next", "ResultPath", "Comment")
		c := &catcher{
			errorEquals: r.errorEquals(o, at, i == len(items)-1),
			next:        r.requiredString(o, at, "Next"),
			resultPath:  r.path(o, at, "ResultPath", true),
		}
		if p := c.resultPath.path; p != nil && p.context {
			r.errorf(joinAt(at, "ResultPath"), "cannot refer to the context object")
		}
		out = append(out, c)
	}
	return out
}

func (r *reader) readTask(s *state, obj map[string]any) {
	s.resource = r.requiredString(obj, "", "Resource")
	switch {
	case s.resource == "":
	case s.resource == lambdaInvokeResource:
		s.resourceKind = resourceLambdaInvoke
		params, _ := obj["Parameters"].(map[string]any)
		_, name := params["FunctionName"]
		_, namePath := params["FunctionName.$"]
		if !name && !namePath {
			r.errorf("Parameters", "%s needs FunctionName", lambdaInvokeResource)
		}
	default:
		name, ok := lambdaFunctionName(s.resource)
		if !ok {
			r.errorf("Resource", "%q is not supported: use a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME) or %s", s.resource, lambdaInvokeResource)
			break
		}
		s.resourceKind, s.function = resourceLambdaFunction, name
	}
	_, hasTimeout := obj["TimeoutSeconds"]
	if hasTimeout {
		s.timeout = time.Duration(r.positiveInt(obj, "", "TimeoutSeconds")) * time.Second
	}
	s.timeoutPath = r.referencePath(obj, "", "TimeoutSecondsPath", false)
	if hasTimeout && s.timeoutPath != nil {
		r.errorf("TimeoutSecondsPath", "cannot be used together with TimeoutSeconds")
	}
}

// lambdaFunctionName extracts NAME from arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER].
func lambdaFunctionName(arn string) (string, bool) {
	parts := strings.Split(arn, ":")
	if len(parts) < 7 || len(parts) > 8 || parts[0] != "arn" || parts[2] != "lambda" || parts[5] != "function" || parts[6] == "" {
		return "", false
	}
	return parts[6], true
}

func (r *reader) readChoice(s *state, obj map[string]any) {
	arr, ok := obj["Choices"].([]any)
	if !ok || len(arr) == 0 {
		r.errorf("Choices", "must be a non-empty array of choice rules")
	}
	for i, e := range arr {
		if rule := parseChoiceRule(r, e, fmt.Sprintf("Choices[%d]", i), true); rule != nil {
			s.choices = append(s.choices, rule)
		}
	}
	s.defaultNext = r.optionalString(obj, "", "Default")
}

func (r *reader) readWait(s *state, obj map[string]any) {
	n := 0
	for _, f := range []string{"Seconds", "SecondsPath", "Timestamp", "TimestampPath"} {
		if _, has := obj[f]; has {
			n++
		}
	}
	if n != 1 {
		r.errorf("Seconds", "a Wait state needs exactly one of Seconds, SecondsPath, Timestamp and TimestampPath")
	}
	if secs, ok := r.integer(obj, "", "Seconds", 0); ok {
		s.seconds = time.Duration(secs) * time.Second
	}
	s.secondsPath = r.referencePath(obj, "", "SecondsPath", true)
	if ts := r.optionalString(obj, "", "Timestamp"); ts != "" {
		t, err := parseTimestamp(ts)
		if err != nil {
			r.errorf("Timestamp", "must be an RFC 3339 timestamp: %v", err)
		}
		s.timestamp = t
	}
	s.timestampPath = r.referencePath(obj, "", "TimestampPath", true)
}

func (r *reader) readFail(s *state, obj map[string]any) {
	s.errorName = r.optionalString(obj, "", "Error")
	s.cause = r.optionalString(obj, "", "Cause")
	s.errorPath = r.referencePath(obj, "", "ErrorPath", true)
	s.causePath = r.referencePath(obj, "", "CausePath", true)
	if s.errorName != "" && s.errorPath != nil {
		r.errorf("ErrorPath", "cannot be used together with Error")
	}
	if s.cause != "" && s.causePath != nil {
		r.errorf("CausePath", "cannot be used together with Cause")
	}
}
