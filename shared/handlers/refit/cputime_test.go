//go:build unix

package refit_test

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime is the CPU time the process has used: on a machine shared with other work, the
// refit's CPU seconds are a steadier measure of the code than its wall-clock time, which
// depends on the cores it was given (BenchmarkRefit reports both).
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
