// Package lru is a bounded cache of values that are costly to build (a series' fitted models, a
// shard of the dataset loaded from the store): at most Max entries, the least recently used
// finished one making room for a new key; concurrent gets of a key share one build; a failed
// build is not kept, so that the next get builds again.
package lru

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
)

// Cache holds at most its bound of entries, built or being built. It is safe for concurrent use.
type Cache[K comparable, V any] struct {
	max     int
	mu      sync.Mutex
	entries map[K]*entry[K, V]
	order   *list.List // of *entry, most recently used first
	builds  int64
	hits    int64
	peak    int
}

type entry[K comparable, V any] struct {
	key  K
	elem *list.Element
	done chan struct{} // closed when v and err are set
	v    V
	err  error
}

// Stats counts a cache's activity.
type Stats struct {
	// Entries is the number of entries held (built or being built); Peak the most ever held at
	// once, never above the cache's bound.
	Entries int `json:"entries"`
	Peak    int `json:"peak"`
	// Builds counts the builds started; Hits the gets served by an entry held (or being built).
	Builds int64 `json:"builds"`
	Hits   int64 `json:"hits"`
}

// New returns a cache of at most size entries (at least 1).
func New[K comparable, V any](size int) *Cache[K, V] {
	return &Cache[K, V]{max: max(size, 1), entries: make(map[K]*entry[K, V]), order: list.New()}
}

// Get returns the value of key, building it with build unless it is held or being built. When
// the cache is full it drops the least recently used finished entry; when every entry is still
// being built it waits for one to finish, so that the bound holds at every moment. Waiting ends
// with ctx; when the build waited for stopped because its own request's context ended, Get builds
// again for this one.
func (c *Cache[K, V]) Get(ctx context.Context, key K, build func() (V, error)) (V, error) {
	var zero V
	for {
		c.mu.Lock()
		if e, ok := c.entries[key]; ok {
			c.order.MoveToFront(e.elem)
			c.hits++
			c.mu.Unlock()
			select {
			case <-e.done:
				if e.err != nil && ctx.Err() == nil && (errors.Is(e.err, context.Canceled) || errors.Is(e.err, context.DeadlineExceeded)) {
					continue
				}
				return e.v, e.err
			case <-ctx.Done():
				return zero, ctx.Err()
			}
		}
		if len(c.entries) >= c.max {
			if wait := c.evict(); wait != nil {
				c.mu.Unlock()
				select {
				case <-wait:
					continue
				case <-ctx.Done():
					return zero, ctx.Err()
				}
			}
		}
		e := &entry[K, V]{key: key, done: make(chan struct{})}
		e.elem = c.order.PushFront(e)
		c.entries[key] = e
		c.peak = max(c.peak, len(c.entries))
		c.builds++
		c.mu.Unlock()
		return c.run(key, e, build)
	}
}

// run builds e's value; a failed or panicking build is forgotten.
func (c *Cache[K, V]) run(key K, e *entry[K, V], build func() (V, error)) (V, error) {
	defer close(e.done)
	ok := false
	defer func() {
		if ok {
			return
		}
		if e.err == nil {
			e.err = fmt.Errorf("build of %v panicked", key)
		}
		c.mu.Lock()
		if c.entries[key] == e {
			delete(c.entries, key)
			c.order.Remove(e.elem)
		}
		c.mu.Unlock()
	}()
	e.v, e.err = build()
	if e.err != nil {
		var zero V
		e.v = zero
		return zero, e.err
	}
	ok = true
	return e.v, nil
}

// evict drops the least recently used finished entry and returns nil, or, when every entry is
// still being built, returns the done channel of the least recently used one to wait for. The
// caller holds c.mu.
func (c *Cache[K, V]) evict() <-chan struct{} {
	for el := c.order.Back(); el != nil; el = el.Prev() {
		e := el.Value.(*entry[K, V])
		select {
		case <-e.done:
			delete(c.entries, e.key)
			c.order.Remove(el)
			return nil
		default:
		}
	}
	return c.order.Back().Value.(*entry[K, V]).done
}

// Peek returns the value of key if it is held and built, without building it or marking it used.
func (c *Cache[K, V]) Peek(key K) (V, bool) {
	var zero V
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if !ok {
		return zero, false
	}
	select {
	case <-e.done:
		if e.err != nil {
			return zero, false
		}
		return e.v, true
	default:
		return zero, false
	}
}

// Stats returns the cache's counters.
func (c *Cache[K, V]) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{Entries: len(c.entries), Peak: c.peak, Builds: c.builds, Hits: c.hits}
}
