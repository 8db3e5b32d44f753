package shards_test

import (
	"fmt"
	"testing"

	"github.com/stockcast/stockcast/shared/shards"
)

func TestOfIsStableAndSpreads(t *testing.T) {
	if got := shards.Of("anything", 1); got != 0 {
		t.Fatalf("one shard: Of = %d", got)
	}
	counts := make([]int, 16)
	for i := range 16000 {
		counts[shards.Of(fmt.Sprintf("P%05d", i), 16)]++
	}
	for k, n := range counts {
		if n < 800 || n > 1200 {
			t.Fatalf("shard %d of 16 holds %d of 16000 products: %v", k, n, counts)
		}
	}
}

func TestOfKnownValues(t *testing.T) {
	// FNV-1a 32 of "a" is 0xe40c292c.
	if got, want := shards.Of("a", 1000), int(uint32(0xe40c292c)%1000); got != want {
		t.Fatalf("Of(a, 1000) = %d, want %d", got, want)
	}
}

func TestCountForDoublesAndNeverShrinks(t *testing.T) {
	for _, c := range []struct{ rows, max, current, want int }{
		{0, 100, 0, 1},
		{100, 100, 1, 1},
		{101, 100, 1, 2},
		{450, 100, 1, 8},
		{10, 100, 8, 8},
		{110_000_000, shards.DefaultMaxRows, 1, 128},
	} {
		if got := shards.CountFor(c.rows, c.max, c.current); got != c.want {
			t.Errorf("CountFor(%d, %d, %d) = %d, want %d", c.rows, c.max, c.current, got, c.want)
		}
	}
}

func TestKey(t *testing.T) {
	if got := shards.Key(0, 1); got != shards.SingleKey {
		t.Fatalf("one shard: %s", got)
	}
	if got := shards.Key(7, 128); got != "data/shards/128/0007.csv" {
		t.Fatalf("Key(7, 128) = %s", got)
	}
}

func TestIndex(t *testing.T) {
	x := shards.Index{
		{Shard: 0, Of: 2, Key: shards.Key(0, 2), ETag: `"a"`, Rows: 3, Products: 1, FirstDate: "2024-01-02", LastDate: "2024-01-04", Columns: []string{"date", "product_id", "sales"}},
		{Shard: 1, Of: 2, Key: shards.Key(1, 2), ETag: `"b"`, Rows: 2, Products: 2, FirstDate: "2024-01-01", LastDate: "2024-01-03", Columns: []string{"date", "product_id", "sales", "price"}},
	}
	if err := x.Validate(); err != nil {
		t.Fatal(err)
	}
	if x.Rows() != 5 || x.Products() != 3 || x.FirstDate() != "2024-01-01" || x.LastDate() != "2024-01-04" {
		t.Fatalf("rows %d products %d first %s last %s", x.Rows(), x.Products(), x.FirstDate(), x.LastDate())
	}
	if got := fmt.Sprint(x.Columns()); got != "[date product_id sales price]" {
		t.Fatalf("columns %s", got)
	}
	if x.For("a").Shard != shards.Of("a", 2) {
		t.Fatal("For")
	}
	bad := append(shards.Index(nil), x...)
	bad[1].Key = shards.Key(1, 4)
	if bad.Validate() == nil {
		t.Fatal("a misplaced key passed")
	}
	if (shards.Index{}).Validate() == nil {
		t.Fatal("an empty index passed")
	}
}
