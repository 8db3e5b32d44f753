package parallel

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
)

func TestEachCallsEveryIndexOnce(t *testing.T) {
	const n = 1000
	var calls [n]atomic.Int32
	if started := Each(context.Background(), n, 4, func(i int) { calls[i].Add(1) }); started != n {
		t.Fatalf("started %d of %d", started, n)
	}
	for i := range calls {
		if c := calls[i].Load(); c != 1 {
			t.Fatalf("index %d called %d times", i, c)
		}
	}
}

func TestEachBoundsItsWorkers(t *testing.T) {
	var running, most atomic.Int32
	var mu sync.Mutex
	Each(context.Background(), 200, 3, func(int) {
		r := running.Add(1)
		mu.Lock()
		if r > most.Load() {
			most.Store(r)
		}
		mu.Unlock()
		running.Add(-1)
	})
	if m := most.Load(); m < 1 || m > 3 {
		t.Fatalf("%d calls ran at once, want 1 to 3", m)
	}
}

func TestEachStartsNothingOnceCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int32
	started := Each(ctx, 1000, 2, func(i int) {
		if calls.Add(1) == 10 {
			cancel()
		}
	})
	// Once the tenth call cancels, at most the calls already handed to the two workers run.
	if c := int(calls.Load()); c != started || started > 12 {
		t.Fatalf("started %d, called %d: want the same, at most 12", started, c)
	}
}

func TestEachWithACancelledContextStartsNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if started := Each(ctx, 10, 2, func(int) { t.Error("called") }); started != 0 {
		t.Fatalf("started %d", started)
	}
}
