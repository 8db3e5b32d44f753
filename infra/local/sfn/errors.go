package sfn

import (
	"fmt"

	"github.com/stockcast/stockcast/infra/local/lambdaerr"
)

// Error names defined by the States Language that this interpreter raises or
// matches.
const (
	ErrorAll                    = "States.ALL"
	ErrorTaskFailed             = "States.TaskFailed"
	ErrorTimeout                = "States.Timeout"
	ErrorRuntime                = "States.Runtime"
	ErrorNoChoiceMatched        = "States.NoChoiceMatched"
	ErrorParameterPathFailure   = "States.ParameterPathFailure"
	ErrorResultPathMatchFailure = "States.ResultPathMatchFailure"
	ErrorBranchFailed           = "States.BranchFailed"
	// ErrorExceedToleratedFailureThreshold fails a Distributed Map whose
	// failed items exceed ToleratedFailureCount or ToleratedFailurePercentage.
	ErrorExceedToleratedFailureThreshold = "States.ExceedToleratedFailureThreshold"
	// ErrorItemReaderFailed fails a Map that cannot read its ItemReader's
	// items.
	ErrorItemReaderFailed = "States.ItemReaderFailed"
	// ErrorLambdaService is the error name of an invoker failure that is not
	// a function error: the local equivalent of Lambda failing to run it.
	ErrorLambdaService = "Lambda.ServiceException"
	// ErrorLambdaUnknown names a function error without an errorType.
	ErrorLambdaUnknown = "Lambda.Unknown"
)

// Failure is a States error: what Retry and Catch match by Name, and what a
// failed execution reports as its error and cause.
type Failure struct {
	Name  string
	Cause string
}

func (f *Failure) Error() string {
	if f.Cause == "" {
		return f.Name
	}
	return f.Name + ": " + f.Cause
}

// failf builds a Failure with a formatted cause.
func failf(name, format string, args ...any) *Failure {
	return &Failure{Name: name, Cause: fmt.Sprintf(format, args...)}
}

// failure converts a function error to the States error a Task reports.
func functionFailure(e *lambdaerr.Error) *Failure {
	name := e.Type
	if name == "" {
		name = ErrorLambdaUnknown
	}
	cause := mustEncodeJSON(map[string]any{"errorMessage": e.Message, "errorType": e.Type})
	return &Failure{Name: name, Cause: cause}
}
