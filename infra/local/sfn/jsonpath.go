package sfn

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// jsonPath is a parsed JSONPath of the subset Step Functions uses: "$" (the
// input) or "$$" (the context object), followed by steps .name, ['name'],
// [index], and the wildcards .* and [*].
type jsonPath struct {
	text    string
	context bool
	steps   []pathStep
}

type stepKind int

const (
	stepField stepKind = iota
	stepIndex
	stepWildcard
)

type pathStep struct {
	kind  stepKind
	field string
	index int
}

// parsePath parses a JSONPath; "$$" paths address the context object.
func parsePath(text string) (*jsonPath, error) {
	p := &jsonPath{text: text}
	rest, ok := strings.CutPrefix(text, "$")
	if !ok {
		return nil, fmt.Errorf("path %q does not start with $", text)
	}
	if r, ok := strings.CutPrefix(rest, "$"); ok {
		p.context, rest = true, r
	}
	for rest != "" {
		step, r, err := parseStep(rest)
		if err != nil {
			return nil, fmt.Errorf("path %q: %w", text, err)
		}
		p.steps, rest = append(p.steps, step), r
	}
	return p, nil
}

// parseStep parses the step at the start of s and returns the remainder.
func parseStep(s string) (pathStep, string, error) {
	switch s[0] {
	case '.':
		s = s[1:]
		if strings.HasPrefix(s, ".") {
			return pathStep{}, "", errors.New("deep scan (..) is not supported")
		}
		end := strings.IndexAny(s, ".[")
		if end < 0 {
			end = len(s)
		}
		name := s[:end]
		switch {
		case name == "":
			return pathStep{}, "", errors.New("empty field name")
		case name == "*":
			return pathStep{kind: stepWildcard}, s[end:], nil
		case strings.ContainsAny(name, " \t\n\r]'\"()"):
			return pathStep{}, "", fmt.Errorf("field name %q has characters that need bracket notation", name)
		}
		return pathStep{kind: stepField, field: name}, s[end:], nil
	case '[':
		return parseBracket(s[1:])
	default:
		return pathStep{}, "", fmt.Errorf("unexpected %q", s[0])
	}
}

// parseBracket parses the inside of [...] (s starts after the '[').
func parseBracket(s string) (pathStep, string, error) {
	if s == "" {
		return pathStep{}, "", errors.New("unterminated [")
	}
	if q := s[0]; q == '\'' || q == '"' {
		var name strings.Builder
		for i := 1; i < len(s); i++ {
			c := s[i]
			switch {
			case c == '\\' && i+1 < len(s):
				i++
				name.WriteByte(s[i])
			case c == q:
				rest, ok := strings.CutPrefix(s[i+1:], "]")
				if !ok {
					return pathStep{}, "", errors.New("expected ] after quoted name")
				}
				return pathStep{kind: stepField, field: name.String()}, rest, nil
			default:
				name.WriteByte(c)
			}
		}
		return pathStep{}, "", errors.New("unterminated quoted name")
	}
	inner, rest, ok := strings.Cut(s, "]")
	if !ok {
		return pathStep{}, "", errors.New("unterminated [")
	}
	if inner == "*" {
		return pathStep{kind: stepWildcard}, rest, nil
	}
	n, err := strconv.Atoi(inner)
	if err != nil || n < 0 || strings.HasPrefix(inner, "+") {
		return pathStep{}, "", fmt.Errorf("unsupported subscript [%s]: only non-negative indexes, quoted names and *", inner)
	}
	return pathStep{kind: stepIndex, index: n}, rest, nil
}

// String returns the path as written.
func (p *jsonPath) String() string { return p.text }

// definite reports whether the path names at most one node (no wildcard), as
// Step Functions' reference paths must.
func (p *jsonPath) definite() bool {
	return !slices.ContainsFunc(p.steps, func(s pathStep) bool { return s.kind == stepWildcard })
}

// get selects from root. A definite path yields the node and whether it
// exists; a path with wildcards yields the array of every match (which may be
// empty) and true.
func (p *jsonPath) get(root any) (any, bool) {
	if p.definite() {
		return getDefinite(root, p.steps)
	}
	matches := []any{}
	collect(root, p.steps, &matches)
	return matches, true
}

func getDefinite(v any, steps []pathStep) (any, bool) {
	for _, s := range steps {
		switch s.kind {
		case stepField:
			obj, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = obj[s.field]; !ok {
				return nil, false
			}
		case stepIndex:
			arr, ok := v.([]any)
			if !ok || s.index >= len(arr) {
				return nil, false
			}
			v = arr[s.index]
		}
	}
	return v, true
}

func collect(v any, steps []pathStep, out *[]any) {
	if len(steps) == 0 {
		*out = append(*out, v)
		return
	}
	s, rest := steps[0], steps[1:]
	switch s.kind {
	case stepWildcard:
		switch c := v.(type) {
		case []any:
			for _, e := range c {
				collect(e, rest, out)
			}
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(c)) {
				collect(c[k], rest, out)
			}
		}
	default:
		if next, ok := getDefinite(v, steps[:1]); ok {
			collect(next, rest, out)
		}
	}
}

// set returns a copy of root with value placed at the path, creating the
// objects that are missing along it. The path must be definite. Containers on
// the path are copied; everything else is shared with root.
func (p *jsonPath) set(root, value any) (any, error) {
	return setSteps(root, true, p.steps, value)
}

func setSteps(v any, present bool, steps []pathStep, value any) (any, error) {
	if len(steps) == 0 {
		return value, nil
	}
	s, rest := steps[0], steps[1:]
	switch s.kind {
	case stepField:
		var obj map[string]any
		switch c := v.(type) {
		case map[string]any:
			obj = maps.Clone(c)
		default:
			if present {
				return nil, fmt.Errorf("cannot set field %q in a %s", s.field, jsonTypeName(v))
			}
			obj = map[string]any{}
		}
		child, ok := obj[s.field]
		nv, err := setSteps(child, ok, rest, value)
		if err != nil {
			return nil, err
		}
		obj[s.field] = nv
		return obj, nil
	case stepIndex:
		arr, ok := v.([]any)
		if !ok || s.index >= len(arr) {
			return nil, fmt.Errorf("cannot set index %d: no such element", s.index)
		}
		arr = slices.Clone(arr)
		nv, err := setSteps(arr[s.index], true, rest, value)
		if err != nil {
			return nil, err
		}
		arr[s.index] = nv
		return arr, nil
	default:
		return nil, errors.New("cannot set through a wildcard")
	}
}
