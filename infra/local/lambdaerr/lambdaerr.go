// Package lambdaerr is a function's own failure as Lambda reports it — an error type and a
// message — in the one form that the local stack's runners (in process and under the Runtime
// Interface Emulator) return and its Step Functions turns into a States error.
package lambdaerr

import "reflect"

// Error is a function's own failure: what its invocation answered as
// {"errorType": …, "errorMessage": …}, or a crash or timeout the runner reported.
type Error struct {
	// Function is the function's name, where the runner knows it.
	Function string `json:"-"`
	// Type is Lambda's errorType, e.g. "DatasetChanged"; the States error name.
	Type string `json:"errorType"`
	// Message is Lambda's errorMessage.
	Message string `json:"errorMessage"`
}

func (e *Error) Error() string {
	if e.Function == "" {
		return e.Type + ": " + e.Message
	}
	return e.Function + ": " + e.Type + ": " + e.Message
}

// TypeOf names err as the aws-lambda-go runtime does in its error payload: the name of the
// error's type, without pointer.
func TypeOf(err error) string {
	t := reflect.TypeOf(err)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}
