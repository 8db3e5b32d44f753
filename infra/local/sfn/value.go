package sfn

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// JSON values inside the interpreter are the types encoding/json produces
// with UseNumber: map[string]any, []any, string, json.Number, bool and nil.
// Values are never modified in place once decoded: setting a path copies the
// containers along it.

// decodeJSON decodes one JSON document, keeping numbers exact.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("unexpected data after the JSON value")
	}
	return v, nil
}

// encodeJSON encodes a value compactly without escaping HTML characters.
func encodeJSON(v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return string(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
}

// mustEncodeJSON encodes a value that came from decodeJSON or was built from
// such values, which always encodes.
func mustEncodeJSON(v any) string {
	s, err := encodeJSON(v)
	if err != nil {
		panic(fmt.Sprintf("sfn: encode a decoded JSON value: %v", err))
	}
	return s
}

// jsonTypeName names the JSON type of a value for error messages.
func jsonTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	default:
		return fmt.Sprintf("%T", v)
	}
}
