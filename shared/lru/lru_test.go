package lru

import (
	"context"
	"errors"
	"runtime"
	"testing"
)

func value(v int) func() (int, error) { return func() (int, error) { return v, nil } }

func TestLeastRecentlyUsedGoes(t *testing.T) {
	ctx := context.Background()
	c := New[string, int](2)
	c.Get(ctx, "a", value(1))
	c.Get(ctx, "b", value(2))
	c.Get(ctx, "a", nil) // a is now the most recently used
	c.Get(ctx, "c", value(3))
	if _, ok := c.Peek("b"); ok {
		t.Fatal("b, the least recently used, stayed")
	}
	if v, ok := c.Peek("a"); !ok || v != 1 {
		t.Fatalf("a: %d, %v", v, ok)
	}
	if s := c.Stats(); s.Entries != 2 || s.Peak != 2 || s.Builds != 3 || s.Hits != 1 {
		t.Fatalf("stats %+v", s)
	}
	// Peek does not mark a used: after it, a new key still drops a (the older of a and c).
	c.Peek("a")
	c.Get(ctx, "c", nil)
	c.Get(ctx, "d", value(4))
	if _, ok := c.Peek("a"); ok {
		t.Fatal("a stayed though c and d were used after it")
	}
}

func TestFullOfBuildsWaits(t *testing.T) {
	ctx := context.Background()
	c := New[string, int](1)
	release := make(chan struct{})
	building := make(chan struct{})
	first := make(chan error)
	go func() {
		_, err := c.Get(ctx, "a", func() (int, error) { close(building); <-release; return 1, nil })
		first <- err
	}()
	<-building
	// b cannot start while a, the one entry, is being built; a waiter whose context ends stops.
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.Get(canceled, "b", value(2)); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled get: %v", err)
	}
	second := make(chan int)
	go func() {
		v, _ := c.Get(ctx, "b", value(2))
		second <- v
	}()
	runtime.Gosched()
	if s := c.Stats(); s.Builds != 1 || s.Entries != 1 {
		t.Fatalf("b started while a was being built: %+v", s)
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if v := <-second; v != 2 {
		t.Fatalf("b = %d", v)
	}
	if s := c.Stats(); s.Peak != 1 || s.Builds != 2 {
		t.Fatalf("stats %+v", s)
	}
}

func TestWaitersShareOneBuild(t *testing.T) {
	c := New[string, int](4)
	release := make(chan struct{})
	building := make(chan struct{})
	fail := errors.New("build failed")
	done := make(chan error)
	go func() {
		_, err := c.Get(context.Background(), "k", func() (int, error) {
			close(building)
			<-release
			return 0, fail
		})
		done <- err
	}()
	<-building
	// A waiter whose context ends stops waiting.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Get(ctx, "k", nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled waiter: %v", err)
	}
	// A waiter shares the build's failure, which is not kept.
	waited := make(chan error)
	go func() {
		_, err := c.Get(context.Background(), "k", nil)
		waited <- err
	}()
	for c.Stats().Hits < 2 { // the canceled waiter, then this one
		runtime.Gosched()
	}
	close(release)
	if err := <-done; !errors.Is(err, fail) {
		t.Fatalf("builder: %v", err)
	}
	if err := <-waited; !errors.Is(err, fail) {
		t.Fatalf("waiter: %v", err)
	}
	if c.Stats().Entries != 0 {
		t.Fatal("a failed build stayed cached")
	}
	v, err := c.Get(context.Background(), "k", value(7))
	if s := c.Stats(); err != nil || v != 7 || s.Entries != 1 || s.Builds != 2 {
		t.Fatalf("retry: %v, %v, %+v", v, err, s)
	}
}

func TestCanceledBuildIsRetriedForTheWaiter(t *testing.T) {
	c := New[string, int](4)
	building := make(chan struct{})
	release := make(chan struct{})
	go c.Get(context.Background(), "k", func() (int, error) {
		close(building)
		<-release
		return 0, context.Canceled // the builder's request ended
	})
	<-building
	got := make(chan int)
	go func() {
		v, _ := c.Get(context.Background(), "k", value(5))
		got <- v
	}()
	for c.Stats().Hits < 1 {
		runtime.Gosched()
	}
	close(release)
	if v := <-got; v != 5 {
		t.Fatalf("the waiter got %d, not its own build's 5", v)
	}
}

func TestPanickingBuild(t *testing.T) {
	c := New[string, int](4)
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the build's panic was swallowed")
			}
		}()
		c.Get(context.Background(), "k", func() (int, error) { panic("boom") })
	}()
	if c.Stats().Entries != 0 {
		t.Fatal("a panicked build stayed cached")
	}
}
