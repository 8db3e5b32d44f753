package trend

import (
	"context"
	"errors"
	"testing"
	"time"
)

// endsAfter is a context whose Err turns to Canceled at its n-th call: a fit is cancelled
// mid-way at a point that does not depend on the machine's speed.
type endsAfter struct {
	context.Context
	calls, n int
}

func (c *endsAfter) Err() error {
	c.calls++
	if c.calls >= c.n {
		return context.Canceled
	}
	return nil
}

func TestFitStopsWhenItsContextEnds(t *testing.T) {
	ds, y := syntheticDaily(730)
	for _, alg := range []Algorithm{AlgorithmLBFGS, AlgorithmNewton} {
		opts := DefaultOptions()
		opts.Algorithm = alg
		full, err := Fit(context.Background(), ds, y, opts)
		if err != nil {
			t.Fatal(err)
		}
		ctx := &endsAfter{Context: context.Background(), n: 3}
		_, err = Fit(ctx, ds, y, opts)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("%s: a cancelled fit returned %v, want context.Canceled", alg, err)
		}
		if full.FitInfo().Iterations <= ctx.calls {
			t.Fatalf("%s: the full fit took %d iterations, too few to test a stop after %d", alg, full.FitInfo().Iterations, ctx.calls)
		}
		// The stop is noticed at the iteration where Err turned, and asked once more on the way out.
		if ctx.calls > ctx.n+1 {
			t.Errorf("%s: the fit went on for %d more iterations after its context ended", alg, ctx.calls-ctx.n-1)
		}
		if m, reason, err := FitWithFallback(&endsAfter{Context: context.Background(), n: 3}, ds, y, opts); !errors.Is(err, context.Canceled) || m != nil {
			t.Errorf("%s: FitWithFallback gave model %v (%q), error %v; want no fallback for a cancelled fit", alg, m, reason, err)
		}
	}
}

// syntheticDaily is a daily series with a trend and a weekly pattern.
func syntheticDaily(n int) ([]time.Time, []float64) {
	start := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	ds := make([]time.Time, n)
	y := make([]float64, n)
	for i := range n {
		ds[i] = start.AddDate(0, 0, i)
		y[i] = 100 + 0.05*float64(i) + 10*float64(i%7) + float64((i*37)%11)
	}
	return ds, y
}
