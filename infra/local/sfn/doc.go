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
// way of keeping an execution running), Succeed and Fail.
// InputPath, Parameters (paths on $ and $$, nested objects and arrays),
// ResultSelector, ResultPath (including null and paths that create objects)
// and OutputPath. Retry (ErrorEquals with States.ALL, States.TaskFailed,
// States.Timeout and custom names; IntervalSeconds, MaxAttempts,
// BackoffRate, MaxDelaySeconds, JitterStrategy) and Catch (ErrorEquals, Next,
// ResultPath) on Task. TimeoutSeconds and TimeoutSecondsPath on Task,
// TimeoutSeconds on the machine. Choice rules And, Or, Not, the String,
// Numeric, Boolean and Timestamp comparisons and their Path forms,
// StringMatches, IsPresent, IsNull, IsString, IsNumeric, IsBoolean,
// IsTimestamp, and Default. Task resources: a Lambda function ARN (the
// payload is the effective input, the output the function's result) and
// arn:aws:states:::lambda:invoke with FunctionName and Payload (the output is
// {ExecutedVersion, Payload, SdkHttpMetadata, SdkResponseMetadata,
// StatusCode}).
//
// Not supported (nothing runs them): Parallel and Map states,
// intrinsic functions (States.Format, …), activities, callback
// (.waitForTaskToken) and .sync integrations, service integrations other
// than Lambda, HeartbeatSeconds, Credentials, JSONata, variables (Assign),
// and Express workflows.
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
