package sfn

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

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

// intrinsicArg is one argument of an intrinsic function call.
type intrinsicArg interface {
	eval(env evalEnv) (any, error)
}

// literalArg is a literal string, number, boolean or null. raw keeps a string
// literal's escapes, which States.Format needs for its template.
type literalArg struct {
	value any
	raw   string
}

func (a literalArg) eval(evalEnv) (any, error) { return a.value, nil }

// pathArg is a path argument: $… on the input or $$… on the context object.
type pathArg struct{ path *jsonPath }

func (a pathArg) eval(env evalEnv) (any, error) {
	v, ok := env.lookup(a.path)
	if !ok {
		return nil, failf(ErrorIntrinsicFailure, "the path %s in an intrinsic function argument was not found", a.path)
	}
	return v, nil
}

// intrinsicCall is a parsed call such as States.Format('{}', $.name).
type intrinsicCall struct {
	name string
	args []intrinsicArg
	impl intrinsicImpl
}

func (c *intrinsicCall) eval(env evalEnv) (any, error) {
	args := make([]any, len(c.args))
	for i, a := range c.args {
		v, err := a.eval(env)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	v, err := c.impl.fn(c, args)
	if err != nil {
		var f *Failure
		if errors.As(err, &f) {
			return nil, f
		}
		return nil, failf(ErrorIntrinsicFailure, "%s: %v", c.name, err)
	}
	return v, nil
}

type intrinsicImpl struct {
	minArgs, maxArgs int // maxArgs < 0: no limit
	fn               func(c *intrinsicCall, args []any) (any, error)
}

// intrinsics are the supported intrinsic functions by name.
var intrinsics = map[string]intrinsicImpl{
	"States.Format":        {1, -1, intrinsicFormat},
	"States.StringToJson":  {1, 1, intrinsicStringToJSON},
	"States.JsonToString":  {1, 1, intrinsicJSONToString},
	"States.Array":         {0, -1, func(_ *intrinsicCall, args []any) (any, error) { return args, nil }},
	"States.ArrayLength":   {1, 1, intrinsicArrayLength},
	"States.ArrayGetItem":  {2, 2, intrinsicArrayGetItem},
	"States.ArrayContains": {2, 2, intrinsicArrayContains},
	"States.MathAdd":       {2, 2, intrinsicMathAdd},
	"States.StringSplit":   {2, 2, intrinsicStringSplit},
	"States.UUID":          {0, 0, func(*intrinsicCall, []any) (any, error) { return uuid.NewString(), nil }},
}

func isIntrinsic(s string) bool { return strings.HasPrefix(s, "States.") }

// parseIntrinsic parses a whole intrinsic function expression.
func parseIntrinsic(text string) (*intrinsicCall, error) {
	p := &intrinsicParser{s: text}
	call, err := p.call()
	if err != nil {
		return nil, fmt.Errorf("intrinsic function %q: %w", text, err)
	}
	if p.skipSpace(); p.i != len(p.s) {
		return nil, fmt.Errorf("intrinsic function %q: unexpected %q after the call", text, p.s[p.i:])
	}
	return call, nil
}

type intrinsicParser struct {
	s string
	i int
}

func (p *intrinsicParser) skipSpace() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *intrinsicParser) call() (*intrinsicCall, error) {
	open := strings.IndexByte(p.s[p.i:], '(')
	if open < 0 {
		return nil, errors.New("missing (")
	}
	name := p.s[p.i : p.i+open]
	impl, ok := intrinsics[name]
	if !ok {
		return nil, fmt.Errorf("unknown or unsupported function %q", name)
	}
	p.i += open + 1
	call := &intrinsicCall{name: name, impl: impl}
	p.skipSpace()
	if p.i < len(p.s) && p.s[p.i] == ')' {
		p.i++
	} else {
		for {
			p.skipSpace()
			arg, err := p.arg()
			if err != nil {
				return nil, err
			}
			call.args = append(call.args, arg)
			p.skipSpace()
			if p.i >= len(p.s) {
				return nil, errors.New("missing )")
			}
			c := p.s[p.i]
			p.i++
			if c == ')' {
				break
			}
			if c != ',' {
				return nil, fmt.Errorf("expected , or ) at offset %d", p.i-1)
			}
		}
	}
	if n := len(call.args); n < impl.minArgs || (impl.maxArgs >= 0 && n > impl.maxArgs) {
		return nil, fmt.Errorf("%s takes %s, got %d", name, arity(impl), n)
	}
	if name == "States.Format" {
		if err := checkFormatCall(call); err != nil {
			return nil, err
		}
	}
	return call, nil
}

func arity(impl intrinsicImpl) string {
	switch {
	case impl.maxArgs < 0:
		return fmt.Sprintf("at least %d arguments", impl.minArgs)
	case impl.minArgs == impl.maxArgs:
		return fmt.Sprintf("%d arguments", impl.minArgs)
	default:
		return fmt.Sprintf("%d to %d arguments", impl.minArgs, impl.maxArgs)
	}
}

func (p *intrinsicParser) arg() (intrinsicArg, error) {
	if p.i >= len(p.s) {
		return nil, errors.New("missing argument")
	}
	rest := p.s[p.i:]
	switch {
	case rest[0] == '\'':
		return p.stringLiteral()
	case rest[0] == '$':
		end := pathEnd(rest)
		path, err := parsePath(rest[:end])
		if err != nil {
			return nil, err
		}
		p.i += end
		return pathArg{path}, nil
	case isIntrinsic(rest):
		return p.call()
	}
	end := strings.IndexAny(rest, ",) ")
	if end < 0 {
		end = len(rest)
	}
	tok := rest[:end]
	p.i += end
	switch tok {
	case "true":
		return literalArg{value: true}, nil
	case "false":
		return literalArg{value: false}, nil
	case "null":
		return literalArg{value: nil}, nil
	}
	if _, err := strconv.ParseFloat(tok, 64); err != nil {
		return nil, fmt.Errorf("invalid argument %q", tok)
	}
	return literalArg{value: json.Number(tok)}, nil
}

// pathEnd finds where a path argument ends: at a comma, closing parenthesis
// or space outside brackets and quotes.
func pathEnd(s string) int {
	depth, quote := 0, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '[':
			depth++
		case c == ']':
			depth--
		case depth == 0 && (c == ',' || c == ')' || c == ' '):
			return i
		}
	}
	return len(s)
}

// stringLiteral parses '…' where \ escapes the next character.
func (p *intrinsicParser) stringLiteral() (intrinsicArg, error) {
	var value strings.Builder
	start := p.i + 1
	for i := start; i < len(p.s); i++ {
		switch c := p.s[i]; c {
		case '\\':
			if i+1 == len(p.s) {
				return nil, errors.New("unterminated string")
			}
			i++
			value.WriteByte(p.s[i])
		case '\'':
			p.i = i + 1
			return literalArg{value: value.String(), raw: p.s[start:i]}, nil
		default:
			value.WriteByte(c)
		}
	}
	return nil, errors.New("unterminated string")
}

// formatPieces splits a States.Format template (with its escapes) into the
// literal text around each {} placeholder.
func formatPieces(raw string) []string {
	var pieces []string
	var cur strings.Builder
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c == '\\' && i+1 < len(raw):
			i++
			cur.WriteByte(raw[i])
		case c == '{' && i+1 < len(raw) && raw[i+1] == '}':
			i++
			pieces = append(pieces, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	return append(pieces, cur.String())
}

func checkFormatCall(c *intrinsicCall) error {
	tmpl, ok := c.args[0].(literalArg)
	if _, isString := tmpl.value.(string); !ok || !isString {
		return errors.New("States.Format needs a string literal as its template")
	}
	if holes := len(formatPieces(tmpl.raw)) - 1; holes != len(c.args)-1 {
		return fmt.Errorf("States.Format template has %d {} placeholders for %d arguments", holes, len(c.args)-1)
	}
	return nil
}

func intrinsicFormat(c *intrinsicCall, args []any) (any, error) {
	pieces := formatPieces(c.args[0].(literalArg).raw)
	var out strings.Builder
	out.WriteString(pieces[0])
	for i, v := range args[1:] {
		switch v := v.(type) {
		case string:
			out.WriteString(v)
		case json.Number, bool, nil:
			out.WriteString(mustEncodeJSON(v))
		default:
			return nil, fmt.Errorf("argument %d is a %s; only strings, numbers, booleans and null can be formatted", i+1, jsonTypeName(v))
		}
		out.WriteString(pieces[i+1])
	}
	return out.String(), nil
}

func intrinsicStringToJSON(_ *intrinsicCall, args []any) (any, error) {
	s, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("argument is a %s, not a string", jsonTypeName(args[0]))
	}
	v, err := decodeJSON([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("argument is not JSON: %w", err)
	}
	return v, nil
}

func intrinsicJSONToString(_ *intrinsicCall, args []any) (any, error) {
	return mustEncodeJSON(args[0]), nil
}

func arrayArg(v any) ([]any, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("argument is a %s, not an array", jsonTypeName(v))
	}
	return arr, nil
}

func intArg(v any) (int64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("argument is a %s, not a number", jsonTypeName(v))
	}
	i, err := n.Int64()
	if err != nil {
		return 0, fmt.Errorf("argument %s is not an integer", n)
	}
	return i, nil
}

func intrinsicArrayLength(_ *intrinsicCall, args []any) (any, error) {
	arr, err := arrayArg(args[0])
	if err != nil {
		return nil, err
	}
	return json.Number(strconv.Itoa(len(arr))), nil
}

func intrinsicArrayGetItem(_ *intrinsicCall, args []any) (any, error) {
	arr, err := arrayArg(args[0])
	if err != nil {
		return nil, err
	}
	i, err := intArg(args[1])
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= int64(len(arr)) {
		return nil, fmt.Errorf("index %d is out of range for an array of %d", i, len(arr))
	}
	return arr[i], nil
}

func intrinsicArrayContains(_ *intrinsicCall, args []any) (any, error) {
	arr, err := arrayArg(args[0])
	if err != nil {
		return nil, err
	}
	want := mustEncodeJSON(args[1])
	for _, e := range arr {
		if mustEncodeJSON(e) == want {
			return true, nil
		}
	}
	return false, nil
}

func intrinsicMathAdd(_ *intrinsicCall, args []any) (any, error) {
	a, err := intArg(args[0])
	if err != nil {
		return nil, err
	}
	b, err := intArg(args[1])
	if err != nil {
		return nil, err
	}
	return json.Number(strconv.FormatInt(a+b, 10)), nil
}

func intrinsicStringSplit(_ *intrinsicCall, args []any) (any, error) {
	s, ok1 := args[0].(string)
	delims, ok2 := args[1].(string)
	if !ok1 || !ok2 {
		return nil, errors.New("both arguments must be strings")
	}
	fields := strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(delims, r) })
	out := make([]any, len(fields))
	for i, f := range fields {
		out[i] = f
	}
	return out, nil
}
