package sfn

import (
	"fmt"
	"strings"
)

// template is a compiled payload template: the value of Parameters or
// ResultSelector. Fields whose names end in ".$" take a path ($ on the
// effective input, $$ on the context object); all other values are
// literals, and nested objects and arrays are templates themselves.
// Building a payload fails with States.ParameterPathFailure when a path
// selects nothing. Intrinsic functions (States.Format, …) are refused: the
// deployed state machine uses none.
type template func(env evalEnv) (any, error)

// evalEnv is what paths are evaluated against: the effective input ($) and
// the context object ($$).
type evalEnv struct {
	input   any
	context any
}

// lookup evaluates a path in the environment.
func (env evalEnv) lookup(p *jsonPath) (any, bool) {
	if p.context {
		return p.get(env.context)
	}
	return p.get(env.input)
}

// compileTemplate compiles a decoded JSON payload template.
func compileTemplate(v any) (template, error) {
	return compileNode(v, "")
}

func compileNode(v any, at string) (template, error) {
	switch v := v.(type) {
	case map[string]any:
		return compileObject(v, at)
	case []any:
		elems := make([]template, len(v))
		for i, e := range v {
			b, err := compileNode(e, fmt.Sprintf("%s[%d]", at, i))
			if err != nil {
				return nil, err
			}
			elems[i] = b
		}
		return func(env evalEnv) (any, error) {
			out := make([]any, len(elems))
			for i, b := range elems {
				e, err := b(env)
				if err != nil {
					return nil, err
				}
				out[i] = e
			}
			return out, nil
		}, nil
	default:
		return func(evalEnv) (any, error) { return v, nil }, nil
	}
}

func compileObject(obj map[string]any, at string) (template, error) {
	type field struct {
		name  string
		build template
	}
	fields := make([]field, 0, len(obj))
	seen := map[string]string{}
	for key, v := range obj {
		fieldAt := joinField(at, key)
		name, dynamic := strings.CutSuffix(key, ".$")
		if other, dup := seen[name]; dup {
			return nil, fmt.Errorf("field %q and %q both set %q", other, key, joinField(at, name))
		}
		seen[name] = key
		if !dynamic {
			b, err := compileNode(v, fieldAt)
			if err != nil {
				return nil, err
			}
			fields = append(fields, field{name, b})
			continue
		}
		expr, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("field %q must be a string (a path), not a %s", fieldAt, jsonTypeName(v))
		}
		b, err := compileExpression(expr)
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", fieldAt, err)
		}
		fields = append(fields, field{name, b})
	}
	return func(env evalEnv) (any, error) {
		out := make(map[string]any, len(fields))
		for _, f := range fields {
			v, err := f.build(env)
			if err != nil {
				return nil, err
			}
			out[f.name] = v
		}
		return out, nil
	}, nil
}

// compileExpression compiles the value of a ".$" field.
func compileExpression(expr string) (template, error) {
	if strings.HasPrefix(expr, "States.") {
		return nil, fmt.Errorf("intrinsic function %q is not supported", expr)
	}
	path, err := parsePath(expr)
	if err != nil {
		return nil, err
	}
	return func(env evalEnv) (any, error) {
		v, ok := env.lookup(path)
		if !ok {
			return nil, failf(ErrorParameterPathFailure, "the JSONPath %s could not be found in the %s", path, pathSubject(path))
		}
		return v, nil
	}, nil
}

func pathSubject(p *jsonPath) string {
	if p.context {
		return "context object"
	}
	return "input"
}

func joinField(at, key string) string {
	if at == "" {
		return key
	}
	return at + "." + key
}
