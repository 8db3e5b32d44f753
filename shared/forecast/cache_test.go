package forecast

import (
	"context"
	"errors"
	"runtime"
	"testing"
)

func TestHistoryCacheWaiters(t *testing.T) {
	c := newHistoryCache(4)
	release := make(chan struct{})
	building := make(chan struct{})
	fail := errors.New("build failed")
	done := make(chan error)
	go func() {
		_, err := c.get(context.Background(), "k", func() (*history, error) {
			close(building)
			<-release
			return nil, fail
		})
		done <- err
	}()
	<-building
	// A waiter whose context ends stops waiting.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.get(ctx, "k", nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled waiter: %v", err)
	}
	// A waiter shares the build's failure, which is not kept.
	waited := make(chan error)
	go func() {
		_, err := c.get(context.Background(), "k", nil)
		waited <- err
	}()
	for c.hits.Load() < 2 { // the canceled waiter, then this one
		runtime.Gosched()
	}
	close(release)
	if err := <-done; !errors.Is(err, fail) {
		t.Fatalf("builder: %v", err)
	}
	if err := <-waited; !errors.Is(err, fail) {
		t.Fatalf("waiter: %v", err)
	}
	if c.len() != 0 {
		t.Fatal("a failed build stayed cached")
	}
	h, err := c.get(context.Background(), "k", func() (*history, error) { return &history{key: "k"}, nil })
	if err != nil || h.key != "k" || c.len() != 1 || c.builds.Load() != 2 {
		t.Fatalf("retry: %v, %v, %d entries, %d builds", h, err, c.len(), c.builds.Load())
	}
}

func TestHistoryCachePanickingBuild(t *testing.T) {
	c := newHistoryCache(4)
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the build's panic was swallowed")
			}
		}()
		c.get(context.Background(), "k", func() (*history, error) { panic("boom") })
	}()
	if c.len() != 0 {
		t.Fatal("a panicked build stayed cached")
	}
}
