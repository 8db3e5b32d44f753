package sfn

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// choiceRule is a Choice rule: a boolean expression over the effective input
// and, for the top-level rules of a Choice state, the state to go to.
type choiceRule struct {
	next string
	test func(env evalEnv) (bool, error)
}

// comparison describes a data-test operator.
type comparison struct {
	kind string // "String", "Numeric", "Boolean", "Timestamp" or "StringMatches"
	// accept tells from the sign of compare(variable, value) whether the rule holds.
	accept func(cmp int) bool
}

var comparisonSuffixes = map[string]func(int) bool{
	"Equals":            func(c int) bool { return c == 0 },
	"LessThan":          func(c int) bool { return c < 0 },
	"GreaterThan":       func(c int) bool { return c > 0 },
	"LessThanEquals":    func(c int) bool { return c <= 0 },
	"GreaterThanEquals": func(c int) bool { return c >= 0 },
}

// comparisons maps every comparison operator, without its "Path" form, to
// its description.
var comparisons = func() map[string]comparison {
	m := map[string]comparison{"StringMatches": {kind: "StringMatches"}}
	for _, kind := range []string{"String", "Numeric", "Timestamp"} {
		for suffix, accept := range comparisonSuffixes {
			m[kind+suffix] = comparison{kind: kind, accept: accept}
		}
	}
	m["BooleanEquals"] = comparison{kind: "Boolean", accept: comparisonSuffixes["Equals"]}
	return m
}()

// typeTests are the operators that test the variable's presence or type.
var typeTests = map[string]func(v any, present bool) bool{
	"IsPresent": func(_ any, present bool) bool { return present },
	"IsNull":    func(v any, _ bool) bool { return v == nil },
	"IsString":  func(v any, _ bool) bool { _, ok := v.(string); return ok },
	"IsNumeric": func(v any, _ bool) bool { _, ok := v.(json.Number); return ok },
	"IsBoolean": func(v any, _ bool) bool { _, ok := v.(bool); return ok },
	"IsTimestamp": func(v any, _ bool) bool {
		s, ok := v.(string)
		_, err := parseTimestamp(s)
		return ok && err == nil
	},
}

// parseChoiceRule parses a rule; top says whether it is one of the Choices
// of the state (which need Next) or nested in And, Or or Not.
func parseChoiceRule(r *reader, v any, at string, top bool) *choiceRule {
	obj, ok := v.(map[string]any)
	if !ok {
		r.errorf(at, "a choice rule must be an object")
		return nil
	}
	rule := &choiceRule{}
	if top {
		rule.next = r.requiredString(obj, at, "Next")
	} else if _, has := obj["Next"]; has {
		r.errorf(at+".Next", "only top-level choice rules have Next")
	}
	var ops []string
	for key := range obj {
		switch key {
		case "Next", "Comment", "Variable":
		default:
			ops = append(ops, key)
		}
	}
	if len(ops) != 1 {
		r.errorf(at, "a choice rule needs exactly one operator, found %d (%s)", len(ops), strings.Join(ops, ", "))
		return nil
	}
	op := ops[0]
	opAt := at + "." + op
	switch op {
	case "And", "Or":
		rule.test = parseCompound(r, obj[op], opAt, op == "And")
	case "Not":
		inner := parseChoiceRule(r, obj[op], opAt, false)
		if inner != nil {
			rule.test = func(env evalEnv) (bool, error) {
				ok, err := inner.test(env)
				return !ok, err
			}
		}
	default:
		rule.test = parseDataTest(r, obj, at, op)
	}
	if _, has := obj["Variable"]; has && (op == "And" || op == "Or" || op == "Not") {
		r.errorf(at+".Variable", "a %s rule has no Variable", op)
	}
	if rule.test == nil {
		return nil
	}
	return rule
}

func parseCompound(r *reader, v any, at string, and bool) func(evalEnv) (bool, error) {
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		r.errorf(at, "must be a non-empty array of choice rules")
		return nil
	}
	rules := make([]*choiceRule, 0, len(arr))
	for i, e := range arr {
		if rule := parseChoiceRule(r, e, fmt.Sprintf("%s[%d]", at, i), false); rule != nil {
			rules = append(rules, rule)
		}
	}
	return func(env evalEnv) (bool, error) {
		for _, rule := range rules {
			ok, err := rule.test(env)
			if err != nil {
				return false, err
			}
			if ok != and {
				return ok, nil
			}
		}
		return and, nil
	}
}

func parseDataTest(r *reader, obj map[string]any, at, op string) func(evalEnv) (bool, error) {
	variable := r.referencePath(obj, at, "Variable", true)
	if variable == nil {
		if _, has := obj["Variable"]; !has {
			r.errorf(at+".Variable", "is required with %s", op)
		}
		return nil
	}
	opAt := at + "." + op
	if test, ok := typeTests[op]; ok {
		want, isBool := obj[op].(bool)
		if !isBool {
			r.errorf(opAt, "must be a boolean")
			return nil
		}
		return func(env evalEnv) (bool, error) {
			v, present := env.lookup(variable)
			if !present && op != "IsPresent" {
				return false, invalidChoicePath(variable)
			}
			return test(v, present) == want, nil
		}
	}
	base, isPath := strings.CutSuffix(op, "Path")
	cmp, ok := comparisons[base]
	if !ok {
		r.errorf(opAt, "unknown choice rule operator %q", op)
		return nil
	}
	var value func(env evalEnv) (any, error)
	if isPath {
		p := r.referencePath(obj, at, op, true)
		if p == nil {
			return nil
		}
		value = func(env evalEnv) (any, error) {
			v, ok := env.lookup(p)
			if !ok {
				return nil, invalidChoicePath(p)
			}
			return v, nil
		}
	} else {
		lit := obj[op]
		if !literalFits(cmp.kind, lit) {
			r.errorf(opAt, "must be %s", literalKind(cmp.kind))
			return nil
		}
		value = func(evalEnv) (any, error) { return lit, nil }
	}
	return func(env evalEnv) (bool, error) {
		v, ok := env.lookup(variable)
		if !ok {
			return false, invalidChoicePath(variable)
		}
		want, err := value(env)
		if err != nil {
			return false, err
		}
		return compareValues(cmp, v, want), nil
	}
}

func invalidChoicePath(p *jsonPath) *Failure {
	return failf(ErrorRuntime, "Invalid path '%s': The choice state's condition path references an invalid value.", p)
}

func literalFits(kind string, v any) bool {
	switch kind {
	case "Numeric":
		_, ok := v.(json.Number)
		return ok
	case "Boolean":
		_, ok := v.(bool)
		return ok
	case "Timestamp":
		s, ok := v.(string)
		_, err := parseTimestamp(s)
		return ok && err == nil
	default:
		_, ok := v.(string)
		return ok
	}
}

func literalKind(kind string) string {
	switch kind {
	case "Numeric":
		return "a number"
	case "Boolean":
		return "a boolean"
	case "Timestamp":
		return "an RFC 3339 timestamp string"
	default:
		return "a string"
	}
}

// compareValues applies a comparison; values of the wrong type never match.
func compareValues(cmp comparison, v, want any) bool {
	switch cmp.kind {
	case "String":
		a, ok1 := v.(string)
		b, ok2 := want.(string)
		return ok1 && ok2 && cmp.accept(strings.Compare(a, b))
	case "StringMatches":
		a, ok1 := v.(string)
		b, ok2 := want.(string)
		return ok1 && ok2 && wildcardMatch(b, a)
	case "Numeric":
		a, ok1 := v.(json.Number)
		b, ok2 := want.(json.Number)
		if !ok1 || !ok2 {
			return false
		}
		x, err1 := a.Float64()
		y, err2 := b.Float64()
		return err1 == nil && err2 == nil && cmp.accept(compareFloats(x, y))
	case "Boolean":
		a, ok1 := v.(bool)
		b, ok2 := want.(bool)
		return ok1 && ok2 && a == b
	case "Timestamp":
		a, ok1 := v.(string)
		b, ok2 := want.(string)
		if !ok1 || !ok2 {
			return false
		}
		x, err1 := parseTimestamp(a)
		y, err2 := parseTimestamp(b)
		return err1 == nil && err2 == nil && cmp.accept(x.Compare(y))
	}
	return false
}

func compareFloats(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// parseTimestamp parses an RFC 3339 timestamp, as the States Language
// requires (uppercase T and Z, or a numeric offset).
func parseTimestamp(s string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, s)
}

// wildcardMatch reports whether s matches pattern, where * matches any run of
// characters and \* and \\ stand for a literal * and \.
func wildcardMatch(pattern, s string) bool {
	// Split the pattern into literal segments between unescaped stars.
	var segs []string
	var cur strings.Builder
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case c == '\\' && i+1 < len(pattern):
			i++
			cur.WriteByte(pattern[i])
		case c == '*':
			segs = append(segs, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	segs = append(segs, cur.String())
	if len(segs) == 1 {
		return s == segs[0]
	}
	first, last := segs[0], segs[len(segs)-1]
	if !strings.HasPrefix(s, first) {
		return false
	}
	s = s[len(first):]
	for _, mid := range segs[1 : len(segs)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return strings.HasSuffix(s, last)
}
