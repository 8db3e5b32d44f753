package forecast

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// historyCache holds the prepared history of each series an engine has
// served, keyed by series key. Concurrent requests for a key that is not
// cached yet share one build: the first builds, the others wait for it. A
// failed build is not kept, so the next request tries again. When the cache
// is full, a new key evicts an arbitrary finished entry (Go's map order).
type historyCache struct {
	max     int
	mu      sync.Mutex
	entries map[string]*cacheEntry
	builds  atomic.Int64
	hits    atomic.Int64
}

type cacheEntry struct {
	done chan struct{} // closed when h and err are set
	h    *history
	err  error
}

func newHistoryCache(max int) *historyCache {
	return &historyCache{max: max, entries: make(map[string]*cacheEntry)}
}

// get returns the history of key, building it with build unless it is
// cached or being built. Waiting for another request's build ends with ctx;
// when that build stopped because its own request's context ended, get
// builds again for this one.
func (c *historyCache) get(ctx context.Context, key string, build func() (*history, error)) (*history, error) {
	c.mu.Lock()
	if e, ok := c.entries[key]; ok {
		c.mu.Unlock()
		c.hits.Add(1)
		select {
		case <-e.done:
			if e.h == nil && ctx.Err() == nil && (errors.Is(e.err, context.Canceled) || errors.Is(e.err, context.DeadlineExceeded)) {
				return c.get(ctx, key, build)
			}
			return e.h, e.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if len(c.entries) >= c.max {
		c.evictOne()
	}
	e := &cacheEntry{done: make(chan struct{})}
	c.entries[key] = e
	c.mu.Unlock()

	c.builds.Add(1)
	defer close(e.done)
	defer func() {
		if e.h == nil { // failed or panicked: forget it
			if e.err == nil {
				e.err = fmt.Errorf("prepare series %s: build panicked", key)
			}
			c.mu.Lock()
			if c.entries[key] == e {
				delete(c.entries, key)
			}
			c.mu.Unlock()
		}
	}()
	e.h, e.err = build()
	if e.err != nil {
		e.h = nil
	}
	return e.h, e.err
}

// evictOne drops one finished entry; entries still being built stay.
// The caller holds c.mu.
func (c *historyCache) evictOne() {
	for key, e := range c.entries {
		select {
		case <-e.done:
			delete(c.entries, key)
			return
		default:
		}
	}
}

// len is the number of cached or in-flight entries.
func (c *historyCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
