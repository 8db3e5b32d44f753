// Package sfn is an embedded AWS Step Functions service for the local stack.
//
// It has two halves. The interpreter parses and validates an Amazon States
// Language definition ([ParseDefinition]) and runs it ([Interpreter.Run]),
// invoking Task states' functions through an [Invoker]. The service
// ([Service]) registers state machines, starts, stops and persists
// executions, and speaks the AWS JSON 1.0 wire protocol of Step Functions
// ([Service.ServeHTTP], [IsRequest]) so that the AWS CLI and SDKs work
// against it.
package sfn
