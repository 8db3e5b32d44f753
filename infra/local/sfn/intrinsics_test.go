package sfn

import (
	"errors"
	"regexp"
	"testing"
)

func TestIntrinsics(t *testing.T) {
	input := `{"name":"Ada","n":3,"list":[1,"two",{"three":3}],"text":"{\"k\":[1,2]}","csv":"a,b;;c","obj":{"a":[true,null]}}`
	tests := []struct {
		expr string
		want string
	}{
		{`States.Format('plain')`, `"plain"`},
		{`States.Format('{} is {}', $.name, $.n)`, `"Ada is 3"`},
		{`States.Format('\{\} {} \'q\' \\', true)`, `"{} true 'q' \\"`},
		{`States.Format('{}-{}', null, 'x')`, `"null-x"`},
		{`States.StringToJson($.text)`, `{"k":[1,2]}`},
		{`States.JsonToString($.obj)`, `"{\"a\":[true,null]}"`},
		{`States.JsonToString($.obj.a[0])`, `"true"`},
		{`States.Array()`, `[]`},
		{`States.Array($.n, 'b', 1.5, false, States.Array($.name))`, `[3,"b",1.5,false,["Ada"]]`},
		{`States.ArrayLength($.list)`, `3`},
		{`States.ArrayGetItem($.list, 2)`, `{"three":3}`},
		{`States.ArrayContains($.list, 'two')`, `true`},
		{`States.ArrayContains($.list, 2)`, `false`},
		{`States.MathAdd($.n, -5)`, `-2`},
		{`States.StringSplit($.csv, ',;')`, `["a","b","c"]`},
		{`States.Format('{}', States.ArrayLength(States.StringSplit($.csv, ',')))`, `"2"`},
		{`States.Format('{}', $$.State.Name)`, `"S"`},
	}
	root, err := decodeJSON([]byte(input))
	if err != nil {
		t.Fatal(err)
	}
	env := evalEnv{input: root, context: map[string]any{"State": map[string]any{"Name": "S"}}}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			call, err := parseIntrinsic(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			got, err := call.eval(env)
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(t, mustEncodeJSON(got), tt.want) {
				t.Errorf("got %s, want %s", mustEncodeJSON(got), tt.want)
			}
		})
	}
}

func TestIntrinsicUUID(t *testing.T) {
	call, err := parseIntrinsic("States.UUID()")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := call.eval(evalEnv{})
	b, _ := call.eval(evalEnv{})
	uuidV4 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	if s, ok := a.(string); !ok || !uuidV4.MatchString(s) || a == b {
		t.Errorf("UUIDs %v and %v", a, b)
	}
}

// TestIntrinsicFailures checks that bad arguments at run time fail with
// States.IntrinsicFailure.
func TestIntrinsicFailures(t *testing.T) {
	root, _ := decodeJSON([]byte(`{"s":"x","n":1.5,"list":[1],"obj":{}}`))
	for _, expr := range []string{
		`States.StringToJson($.n)`, `States.StringToJson($.s)`, `States.Format('{}', $.obj)`, `States.Format('{}', $.missing)`,
		`States.ArrayLength($.s)`, `States.ArrayGetItem($.list, 1)`, `States.ArrayGetItem($.list, $.n)`, `States.ArrayGetItem($.list, 'x')`,
		`States.ArrayContains($.obj, 1)`, `States.MathAdd($.n, 1)`, `States.MathAdd(1, $.s)`, `States.StringSplit($.n, ',')`,
	} {
		call, err := parseIntrinsic(expr)
		if err != nil {
			t.Errorf("%s: %v", expr, err)
			continue
		}
		_, err = call.eval(evalEnv{input: root})
		var f *Failure
		if !errors.As(err, &f) || f.Name != ErrorIntrinsicFailure {
			t.Errorf("%s: error %v, want %s", expr, err, ErrorIntrinsicFailure)
		}
	}
}

func TestIntrinsicParseErrors(t *testing.T) {
	for _, expr := range []string{
		`States.Nope()`, `States.Format`, `States.Format('x'`, `States.Format('unterminated)`, `States.Format($.a)`,
		`States.Format('{}')`, `States.Array(1 2)`, `States.Array(bogus)`, `States.JsonToString()`, `States.UUID(1)`,
		`States.Array(1) extra`, `States.Array($..x)`, `States.Array(1,)`,
	} {
		if call, err := parseIntrinsic(expr); err == nil {
			t.Errorf("parseIntrinsic(%q) = %+v, want an error", expr, call)
		}
	}
}

// FuzzIntrinsic checks that no expression makes parsing or evaluation panic.
func FuzzIntrinsic(f *testing.F) {
	for _, s := range []string{
		`States.Format('{} {}', $.a, States.Array(1))`, `States.StringToJson('{"a":1}')`, `States.ArrayGetItem($.l, 0)`,
		`States.MathAdd(1, 2)`, `States.StringSplit('a,b', ',')`, `States.Format('\{\}')`, `States.Array($['a b'], $$.x)`,
	} {
		f.Add(s)
	}
	root, _ := decodeJSON([]byte(`{"a":"x","l":[1,2],"a b":{}}`))
	f.Fuzz(func(t *testing.T, expr string) {
		call, err := parseIntrinsic(expr)
		if err != nil {
			return
		}
		_, err = call.eval(evalEnv{input: root, context: map[string]any{}})
		var fail *Failure
		if err != nil && !errors.As(err, &fail) {
			t.Errorf("%s: error %v is not a States error", expr, err)
		}
	})
}
