package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// RetryConflicts runs attempt until it returns anything but a lost race — an error wrapping
// ErrPreconditionFailed — and returns that. After maxAttempts lost races it returns the last one,
// wrapped with the count. Between attempts it backs off: exponential from 10 ms, capped at 1 s,
// with full jitter so that racing writers spread out. attempt is given its number, from 1; a
// conditional read-modify-write is one attempt.
func RetryConflicts[T any](ctx context.Context, maxAttempts int, attempt func(n int) (T, error)) (T, error) {
	var zero T
	for n := 1; ; n++ {
		out, err := attempt(n)
		if !errors.Is(err, ErrPreconditionFailed) {
			return out, err
		}
		if n >= maxAttempts {
			return zero, fmt.Errorf("still contended after %d attempts: %w", n, err)
		}
		if err := backoff(ctx, n); err != nil {
			return zero, err
		}
	}
}

// backoff waits before retry number attempt (1, 2, …) of an operation that lost a race.
func backoff(ctx context.Context, attempt int) error {
	limit := min(10*time.Millisecond<<min(attempt-1, 10), time.Second)
	timer := time.NewTimer(rand.N(limit) + time.Millisecond)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
