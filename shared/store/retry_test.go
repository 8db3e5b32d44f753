package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestRetryConflicts(t *testing.T) {
	lost := fmt.Errorf("put: %w", ErrPreconditionFailed)
	other := errors.New("bucket unreachable")
	for _, tt := range []struct {
		name         string
		outcomes     []error // one per attempt; past the end, success
		max          int
		wantAttempts int
		wantErr      error
	}{
		{"success at once", nil, 5, 1, nil},
		{"success after two lost races", []error{lost, lost}, 5, 3, nil},
		{"another error ends it at once", []error{lost, other}, 5, 2, other},
		{"still contended after the budget", []error{lost, lost, lost}, 3, 3, ErrPreconditionFailed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			attempts := 0
			got, err := RetryConflicts(context.Background(), tt.max, func(n int) (int, error) {
				attempts++
				if n != attempts {
					t.Fatalf("attempt told %d, is %d", n, attempts)
				}
				if n <= len(tt.outcomes) {
					return n, tt.outcomes[n-1]
				}
				return n, nil
			})
			if attempts != tt.wantAttempts || !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("%d attempts, error %v; want %d, %v", attempts, err, tt.wantAttempts, tt.wantErr)
			}
			if err == nil && got != attempts {
				t.Errorf("result %d, want the last attempt's %d", got, attempts)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := RetryConflicts(ctx, 5, func(int) (int, error) { return 0, lost }); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled retry: %v, want context.Canceled", err)
	}
}
