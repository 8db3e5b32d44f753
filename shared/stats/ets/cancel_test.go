package ets

import (
	"context"
	"errors"
	"testing"
)

// countingContext counts the calls of Err and reports the context cancelled
// from call after+1 on: a cancellation at a known point of the work, without
// a clock.
type countingContext struct {
	context.Context
	after, calls int
}

func (c *countingContext) Err() error {
	c.calls++
	if c.calls > c.after {
		return context.Canceled
	}
	return nil
}

func TestAutoStopsWhenTheContextEnds(t *testing.T) {
	h := twoYears()
	full := &countingContext{Context: t.Context(), after: 1 << 30}
	if _, err := Auto(full, h, nil); err != nil {
		t.Fatal(err)
	}
	if full.calls < 100 {
		t.Fatalf("a full search checked its context %d times", full.calls)
	}
	for _, after := range []int{0, 1, full.calls / 3, full.calls - 1} {
		ctx := &countingContext{Context: t.Context(), after: after}
		m, err := Auto(ctx, h, nil)
		if !errors.Is(err, context.Canceled) || m != nil {
			t.Fatalf("cancelled after %d of %d checks: model %v, error %v", after, full.calls, m, err)
		}
		// It returns at the first check that sees the end (the search then reads the
		// error to wrap it once more): no work after it.
		if ctx.calls != after+2 {
			t.Errorf("cancelled after %d checks: %d checks made", after, ctx.calls)
		}
	}
}

func TestForecasterFitAndRefitStopWhenTheContextEnds(t *testing.T) {
	h := twoYears()
	spec := Spec{Error: Additive, Trend: Damped, Season: Additive, Period: 7}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := (Forecaster{Spec: &spec}).Fit(ctx, h); !errors.Is(err, context.Canceled) {
		t.Errorf("fit of one spec with an ended context: %v", err)
	}
	prev, err := Fit(t.Context(), h.Head(700), spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (Forecaster{}).Refit(ctx, prev, h); !errors.Is(err, context.Canceled) {
		t.Errorf("refit with an ended context: %v", err)
	}
}
