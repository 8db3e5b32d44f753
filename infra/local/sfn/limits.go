package sfn

// MaxPayloadBytes is Step Functions' quota on the data a state passes: an execution's input, a
// state's input after its Parameters, a task's result and a state's output are each at most
// 256 KiB of JSON (UTF-8).
const MaxPayloadBytes = 256 * 1024

// ErrorDataLimitExceeded fails a state whose input after its Parameters, task result or output
// is over MaxPayloadBytes. It is terminal: States.ALL (and States.TaskFailed) do not match it,
// so neither a Retry nor a Catch of those handles it; only one naming it does.
const ErrorDataLimitExceeded = "States.DataLimitExceeded"

// checkPayload fails with ErrorDataLimitExceeded when v, encoded, is over MaxPayloadBytes; what
// names v in the cause. It returns the encoding.
func checkPayload(v any, state, what string) (string, error) {
	encoded := mustEncodeJSON(v)
	if len(encoded) > MaxPayloadBytes {
		return "", failf(ErrorDataLimitExceeded, "The %s of state '%s' has a size of %d bytes, over the quota of %d bytes.",
			what, state, len(encoded), MaxPayloadBytes)
	}
	return encoded, nil
}
