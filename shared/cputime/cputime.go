//go:build unix

// Package cputime reads, for benchmarks, the CPU time the process has used. On a machine shared
// with other work, a benchmark's CPU seconds are a steadier measure of the code than its
// wall-clock seconds, which depend on the cores it was given; the benchmarks report both.
package cputime

import (
	"syscall"
	"testing"
	"time"
)

// Used is the user and system CPU time of the process so far; it fails tb when the system
// cannot tell.
func Used(tb testing.TB) time.Duration {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
