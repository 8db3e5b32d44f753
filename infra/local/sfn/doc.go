// Package sfn is an embedded AWS Step Functions service for the local stack.
//
// It has two halves. The interpreter parses and validates an Amazon States
// Language definition ([ParseDefinition]) and runs it ([Interpreter.Run]),
// invoking Task states' functions through an [Invoker]. The service
// ([Service]) registers state machines, starts, stops and persists
// executions, redrives unsuccessful ones ([Service.RedriveExecution]: from the
// last state entered and not left, on its input), and speaks the AWS JSON 1.0
// wire protocol of Step Functions ([Service.ServeHTTP], [IsRequest]) so that the AWS CLI and SDKs work
// against it.
//
// # States Language support
//
// What the deployed state machine (infra/statemachine) uses, and the core of
// the language around it: state types Task, Pass, Choice, Wait (the tests'
// way of keeping an execution running), Succeed, Fail and Map (inline and
// distributed: see Map below).
// InputPath, Parameters (paths on $ and $$, nested objects and arrays),
// ResultSelector, ResultPath (including null and paths that create objects)
// and OutputPath. Retry (ErrorEquals with States.ALL, States.TaskFailed,
// States.Timeout and custom names; IntervalSeconds, MaxAttempts,
// BackoffRate, MaxDelaySeconds, JitterStrategy) and Catch (ErrorEquals, Next,
// ResultPath) on Task and Map. TimeoutSeconds and TimeoutSecondsPath on Task,
// TimeoutSeconds on the machine. Choice rules And, Or, Not, the String,
// Numeric, Boolean and Timestamp comparisons and their Path forms,
// StringMatches, IsPresent, IsNull, IsString, IsNumeric, IsBoolean,
// IsTimestamp, and Default. Task resources: a Lambda function ARN (the
// payload is the effective input, the output the function's result) and
// arn:aws:states:::lambda:invoke with FunctionName and Payload (the output is
// {ExecutedVersion, Payload, SdkHttpMetadata, SdkResponseMetadata,
// StatusCode}).
//
// Not supported (nothing runs them): Parallel states,
// intrinsic functions (States.Format, …), activities, callback
// (.waitForTaskToken) and .sync integrations, service integrations other
// than Lambda, HeartbeatSeconds, Credentials, JSONata, variables (Assign),
// and Express workflows.
//
// # Map
//
// A Map state runs its ItemProcessor's states (any supported type, Map
// included) on each item: the array at ItemsPath (default $, after
// InputPath) or, in a Distributed Map, the JSON array its ItemReader reads
// with arn:aws:states:::s3:getObject (ReaderConfig InputType JSON and
// MaxItems; Parameters Bucket, Key and VersionId, static or .$ paths)
// through [Interpreter.Objects] — [S3Objects] on the local stack's S3. An
// item's input is the item, or the ItemSelector evaluated on the Map's
// effective input with $$.Map.Item.Index and $$.Map.Item.Value; the legacy
// Iterator and Parameters are accepted for ItemProcessor and ItemSelector.
// The result is the array of the iterations' outputs in item order, then
// ResultSelector, ResultPath and OutputPath apply; Retry and Catch work on
// the Map state as on a Task (a retry reruns every item) and inside the
// ItemProcessor per item. At most MaxConcurrency items run at once, and
// never more than [Interpreter.MapConcurrency] ([DefaultMapConcurrency]
// unless set), which also bounds a MaxConcurrency of 0 (unbounded on AWS).
//
// An inline iteration that fails fails the Map with its error. A Distributed
// Map (ProcessorConfig Mode DISTRIBUTED, ExecutionType STANDARD) tolerates
// failed items up to ToleratedFailureCount and ToleratedFailurePercentage
// (of all items; none when neither is set): a tolerated item's place in the
// result holds its {"Error", "Cause"}; one failure more fails the Map with
// States.ExceedToleratedFailureThreshold. A Map that cannot read its items
// fails with States.ItemReaderFailed. When a Map fails or the execution is
// stopped, the running items are cancelled and no others start. A redrive
// of an execution that failed in a Map runs the Map again with every item
// (AWS's redrives only a Distributed Map's unsuccessful child executions).
// Step Functions' 256 KiB quota (MaxPayloadBytes) is enforced as AWS does
// on a state's input after its Parameters, a task's result and a state's
// output, a Map's and its items' states' as any other: over it the state
// fails with States.DataLimitExceeded, which States.ALL does not catch.
//
// History: MapStateEntered, MapStateStarted (the number of items), then for
// an inline Map MapIterationStarted and MapIterationSucceeded, Failed or
// Aborted per item around its states' events; a Distributed Map's items run
// as child executions whose events are not kept, so its history is
// MapRunStarted and MapRunSucceeded, Failed or Aborted whatever the number
// of items; then MapStateSucceeded, Failed or Aborted, and MapStateExited.
// Not supported: ItemBatcher, ResultWriter, the *Path forms of
// MaxConcurrency and of the tolerated failures, CSV, JSONL, manifest and
// listObjectsV2 item readers, and EXPRESS child executions.
//
// # Invokers
//
// The service calls Invoker.Invoke with the function's name (taken from the
// ARN or the FunctionName, without qualifier) and the JSON payload. A
// function's own error is returned as a *lambdaerr.Error; it becomes the
// States error named by its Type, with the cause
// {"errorMessage": …, "errorType": …} as on AWS. Any other error becomes
// Lambda.ServiceException, so the usual transient-error retriers cover an
// invoker that could not reach the function.
package sfn
