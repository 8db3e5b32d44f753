package backtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stockcast/stockcast/shared/stats"
)

// cancelling forecasts like flat and cancels the backtest's context at its
// fit number at; a fit after that fails with the context's error, as a
// long fit does.
type cancelling struct {
	flat
	at     int
	cancel context.CancelFunc
	mu     sync.Mutex
	fits   int
}

func (c *cancelling) Fit(ctx context.Context, h stats.History) (stats.Model, error) {
	c.mu.Lock()
	c.fits++
	if c.fits == c.at {
		c.cancel()
	}
	c.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", c.name, err)
	}
	return c.flat.Fit(ctx, h)
}

func TestSelectAllStopsWhenTheContextEnds(t *testing.T) {
	hs := make([]stats.History, 40)
	for i := range hs {
		hs[i] = noisy(uint64(i), 200, 10, 1)
		hs[i].Key = fmt.Sprint("s", i)
	}
	const workers = 2
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	c := &cancelling{flat: flat{name: "c", value: 10}, at: 10, cancel: cancel}
	set, err := SelectAll(ctx, hs, []stats.Forecaster{c, &flat{name: "other", value: 9}}, Config{}, workers)
	if !errors.Is(err, context.Canceled) || set != nil {
		t.Fatalf("set %v, error %v", set, err)
	}
	// 40 series × 3 origins would be 120 fits; after the cancelling one, only the fit
	// each other worker had under way.
	if c.fits > c.at+workers-1 {
		t.Errorf("%d fits, cancelled at fit %d with %d workers", c.fits, c.at, workers)
	}
}

func TestSelectAndEvaluateDoNotBlameACandidateForTheContext(t *testing.T) {
	h := noisy(4, 200, 10, 1)
	for name, run := range map[string]func(context.Context, []stats.Forecaster) error{
		"select": func(ctx context.Context, cands []stats.Forecaster) error {
			_, err := Select(ctx, h, cands, Config{})
			return err
		},
		"evaluate": func(ctx context.Context, cands []stats.Forecaster) error {
			_, err := Evaluate(ctx, h, cands, Config{})
			return err
		},
	} {
		ctx, cancel := context.WithCancel(t.Context())
		c := &cancelling{flat: flat{name: "c", value: 10}, at: 2, cancel: cancel}
		if err := run(ctx, []stats.Forecaster{c, &flat{name: "other", value: 9}}); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: cancelled at the second fit: %v", name, err)
		}
		if c.fits != 2 {
			t.Errorf("%s: %d fits after the cancellation at the second", name, c.fits)
		}
		cancel()
	}
}
