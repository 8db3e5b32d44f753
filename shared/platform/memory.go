package platform

import (
	"runtime/debug"
)

// heapShare is the part of a Lambda function's memory the Go runtime aims to stay within; the
// rest is for what the runtime does not count (the binary, thread stacks) and a margin.
const heapShare = 0.8

// MemoryLimit returns the soft memory limit for the Go runtime in a Lambda function: 80% of its
// memory (AWS_LAMBDA_FUNCTION_MEMORY_SIZE, in MiB), so that the garbage collector works harder as
// the function nears it instead of letting the heap double past it. It is 0 outside Lambda and
// when GOMEMLIMIT is set, which the runtime applies itself.
func MemoryLimit(env *Env) int64 {
	if limit, ok := env.lookup("GOMEMLIMIT"); ok && limit != "" {
		return 0
	}
	mib := env.Int64("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", 0)
	if mib <= 0 {
		return 0
	}
	return int64(float64(mib<<20) * heapShare)
}

// LimitMemory applies MemoryLimit to this process and returns it.
func LimitMemory(env *Env) int64 {
	limit := MemoryLimit(env)
	if limit > 0 {
		debug.SetMemoryLimit(limit)
	}
	return limit
}
