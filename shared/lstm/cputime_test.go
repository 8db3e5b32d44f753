//go:build unix

package lstm

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime is the CPU time the process has used. On a machine shared with
// other work, throughput per CPU second is a steadier measure of the code
// than throughput per wall-clock second; the benchmarks report both.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
