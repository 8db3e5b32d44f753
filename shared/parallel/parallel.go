// Package parallel runs one function over many indexes on a bounded pool of goroutines.
package parallel

import (
	"context"
	"runtime"
	"sync"
)

// Each calls fn(i) for every i in [0, n) on at most workers goroutines at once (0 or less: one
// per core) and returns how many calls it started. Once ctx is done no further call is started;
// Each waits for the calls under way, which should watch ctx themselves to stop early.
func Each(ctx context.Context, n, workers int, fn func(i int)) (started int) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
feed:
	for i := range n {
		if ctx.Err() != nil {
			break // the select below picks at random when a worker is free too
		}
		select {
		case next <- i:
			started++
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return started
}
