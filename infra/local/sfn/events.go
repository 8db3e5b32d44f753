package sfn

import "time"

// Event is one entry of an execution's history. Type is a Step Functions
// history event type (ExecutionStarted, TaskStateEntered, TaskScheduled, …);
// the other fields are the details that type carries, empty otherwise.
type Event struct {
	ID              int64     `json:"id"`
	PreviousEventID int64     `json:"previousEventId,omitempty"`
	Timestamp       time.Time `json:"timestamp"`
	Type            string    `json:"type"`
	// State is the state's name in state entered and exited events, and the
	// Map state's in its MapIteration events.
	State string `json:"state,omitempty"`
	// Input and Output are JSON texts.
	Input  string `json:"input,omitempty"`
	Output string `json:"output,omitempty"`
	// Resource and ResourceType identify a task's resource; for the
	// lambda:invoke integration they are "invoke" and "lambda", as on AWS.
	Resource     string `json:"resource,omitempty"`
	ResourceType string `json:"resourceType,omitempty"`
	Region       string `json:"region,omitempty"`
	// Parameters is the JSON text a task was scheduled with.
	Parameters     string `json:"parameters,omitempty"`
	TimeoutSeconds int64  `json:"timeoutInSeconds,omitempty"`
	Error          string `json:"error,omitempty"`
	Cause          string `json:"cause,omitempty"`
	RoleARN        string `json:"roleArn,omitempty"`
	// RedriveCount numbers an ExecutionRedriven event.
	RedriveCount int `json:"redriveCount,omitempty"`
	// Length is a MapStateStarted event's number of items; Index a
	// MapIteration event's item.
	Length *int `json:"length,omitempty"`
	Index  *int `json:"index,omitempty"`
	// MapRunARN identifies a Distributed Map's run in MapRunStarted.
	MapRunARN string `json:"mapRunArn,omitempty"`
}

// History event types the interpreter records.
const (
	EventExecutionStarted   = "ExecutionStarted"
	EventExecutionSucceeded = "ExecutionSucceeded"
	EventExecutionFailed    = "ExecutionFailed"
	EventExecutionTimedOut  = "ExecutionTimedOut"
	EventExecutionAborted   = "ExecutionAborted"
	EventExecutionRedriven  = "ExecutionRedriven"
	EventFailStateEntered   = "FailStateEntered"
	EventTaskScheduled      = "TaskScheduled"
	EventTaskStarted        = "TaskStarted"
	EventTaskSucceeded      = "TaskSucceeded"
	EventTaskFailed         = "TaskFailed"
	EventTaskTimedOut       = "TaskTimedOut"
	EventLambdaScheduled    = "LambdaFunctionScheduled"
	EventLambdaStarted      = "LambdaFunctionStarted"
	EventLambdaSucceeded    = "LambdaFunctionSucceeded"
	EventLambdaFailed       = "LambdaFunctionFailed"
	EventLambdaTimedOut     = "LambdaFunctionTimedOut"
	// A Map state: MapStateStarted (with Length) after MapStateEntered, one
	// MapIterationStarted and then Succeeded, Failed or Aborted (with Index)
	// per item of an inline Map, whose inner states' events follow in the
	// execution's history; a Distributed Map records MapRunStarted and
	// MapRunSucceeded, Failed or Aborted instead, its items running as child
	// executions with histories of their own. MapStateSucceeded, Failed or
	// Aborted end the Map's run.
	EventMapStateStarted       = "MapStateStarted"
	EventMapStateSucceeded     = "MapStateSucceeded"
	EventMapStateFailed        = "MapStateFailed"
	EventMapStateAborted       = "MapStateAborted"
	EventMapIterationStarted   = "MapIterationStarted"
	EventMapIterationSucceeded = "MapIterationSucceeded"
	EventMapIterationFailed    = "MapIterationFailed"
	EventMapIterationAborted   = "MapIterationAborted"
	EventMapRunStarted         = "MapRunStarted"
	EventMapRunSucceeded       = "MapRunSucceeded"
	EventMapRunFailed          = "MapRunFailed"
	EventMapRunAborted         = "MapRunAborted"
)

// stateEnteredEvent and stateExitedEvent name the entered and exited events
// of a state type, e.g. TaskStateEntered.
func stateEnteredEvent(typ string) string { return typ + "StateEntered" }
func stateExitedEvent(typ string) string  { return typ + "StateExited" }
