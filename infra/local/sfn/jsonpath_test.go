package sfn

import (
	"strings"
	"testing"
)

func TestPathGet(t *testing.T) {
	doc := `{"a":{"b":[{"c":1},{"c":2},{"d":3}]},"odd key":{"x'y":true},"n":null,"arr":[[1,2],[3]]}`
	tests := []struct {
		path  string
		want  string // JSON, or "" when nothing is selected
		found bool
	}{
		{"$", doc, true},
		{"$.a.b[1].c", `2`, true},
		{"$['a']['b'][0]", `{"c":1}`, true},
		{`$["a"].b[2]`, `{"d":3}`, true},
		{`$['odd key']['x\'y']`, `true`, true},
		{"$.n", `null`, true},
		{"$.a.b[3]", "", false},
		{"$.a.nope", "", false},
		{"$.a.b.c", "", false},
		{"$.n.x", "", false},
		{"$.a.b[*].c", `[1,2]`, true},
		{"$.a.b[*].nope", `[]`, true},
		{"$.arr[*][0]", `[1,3]`, true},
		{"$.a.*", `[[{"c":1},{"c":2},{"d":3}]]`, true},
		{"$.arr[1][0]", `3`, true},
	}
	root, err := decodeJSON([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			p, err := parsePath(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			got, found := p.get(root)
			if found != tt.found {
				t.Fatalf("found %v, want %v", found, tt.found)
			}
			if found && !jsonEqual(t, mustEncodeJSON(got), tt.want) {
				t.Errorf("got %s, want %s", mustEncodeJSON(got), tt.want)
			}
		})
	}
}

func TestPathContext(t *testing.T) {
	p, err := parsePath("$$.Execution.Id")
	if err != nil || !p.context || len(p.steps) != 2 {
		t.Fatalf("parsePath($$.Execution.Id) = %+v, %v", p, err)
	}
	env := evalEnv{input: map[string]any{"Execution": "input"}, context: map[string]any{"Execution": map[string]any{"Id": "ctx"}}}
	if v, ok := env.lookup(p); !ok || v != "ctx" {
		t.Errorf("lookup = %v, %v", v, ok)
	}
}

func TestPathParseErrors(t *testing.T) {
	for _, path := range []string{"", "a", "$.", "$..a", "$[", "$[1", "$['a", "$['a'x", "$[-1]", "$[+1]", "$[1:2]", "$.a b", "$x", "$.a[?(@.b)]"} {
		if p, err := parsePath(path); err == nil {
			t.Errorf("parsePath(%q) = %+v, want an error", path, p)
		}
	}
}

func TestPathSet(t *testing.T) {
	tests := []struct {
		input, path, want string
		fails             bool
	}{
		{`{"a":1}`, "$", `"v"`, false},
		{`{"a":1}`, "$.b", `{"a":1,"b":"v"}`, false},
		{`{"a":1}`, "$.a", `{"a":"v"}`, false},
		{`{"a":{"x":1}}`, "$.a.b.c", `{"a":{"x":1,"b":{"c":"v"}}}`, false},
		{`{"a":[1,{"k":0}]}`, "$.a[1].k", `{"a":[1,{"k":"v"}]}`, false},
		{`{"a":[1]}`, "$.a[0]", `{"a":["v"]}`, false},
		{`"text"`, "$.a", ``, true},
		{`{"a":3}`, "$.a.b", ``, true},
		{`{"a":null}`, "$.a.b", ``, true},
		{`{"a":[1]}`, "$.a[1]", ``, true},
		{`{"a":{}}`, "$.a[0]", ``, true},
	}
	for _, tt := range tests {
		t.Run(tt.input+" "+tt.path, func(t *testing.T) {
			root, err := decodeJSON([]byte(tt.input))
			if err != nil {
				t.Fatal(err)
			}
			before := mustEncodeJSON(root)
			p, err := parsePath(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.set(root, "v")
			if tt.fails {
				if err == nil {
					t.Errorf("set gave %s, want an error", mustEncodeJSON(got))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(t, mustEncodeJSON(got), tt.want) {
				t.Errorf("got %s, want %s", mustEncodeJSON(got), tt.want)
			}
			if after := mustEncodeJSON(root); after != before {
				t.Errorf("set modified its input: %s became %s", before, after)
			}
		})
	}
}

// FuzzPath checks that parsing never panics and that a parsed definite path
// can set what it gets.
func FuzzPath(f *testing.F) {
	for _, s := range []string{"$", "$.a.b", "$['a'][0]", `$["x\"y"]`, "$.a[*].b", "$$.State.Name", "$..a", "$[", "$.a[0][1]"} {
		f.Add(s)
	}
	root, _ := decodeJSON([]byte(`{"a":{"b":[1,{"c":2}]},"x\"y":[[0]]}`))
	f.Fuzz(func(t *testing.T, text string) {
		p, err := parsePath(text)
		if err != nil {
			return
		}
		if !strings.HasPrefix(p.String(), "$") {
			t.Errorf("parsed %q does not start with $", text)
		}
		v, found := p.get(root)
		if !p.definite() || p.context {
			return
		}
		set, err := p.set(root, "marker")
		if found && err != nil {
			t.Fatalf("%q selects %v but cannot set it: %v", text, v, err)
		}
		if err == nil {
			if got, ok := p.get(set); !ok || got != "marker" {
				t.Errorf("%q: after set, get = %v, %v", text, got, ok)
			}
		}
	})
}
