package shards_test

import (
	"fmt"
	"testing"
	"time"

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
		{1_000_000_000, shards.DefaultMaxRows, 64, shards.MaxCount},
	} {
		if got := shards.CountFor(c.rows, c.max, c.current); got != c.want {
			t.Errorf("CountFor(%d, %d, %d) = %d, want %d", c.rows, c.max, c.current, got, c.want)
		}
	}
}

func TestKeysAndPeriods(t *testing.T) {
	if got := shards.PartKey(0, 1, "2024-Q3"); got != shards.SingleKey {
		t.Fatalf("one shard: %s", got)
	}
	if got := shards.PartKey(7, 128, "2024-Q3"); got != "data/shards/128/0007/2024-Q3.csv" {
		t.Fatalf("PartKey(7, 128) = %s", got)
	}
	for day, want := range map[string]string{"2024-01-01": "2024-Q1", "2024-03-31": "2024-Q1", "2024-04-01": "2024-Q2", "2024-12-31": "2024-Q4"} {
		d, _ := time.Parse(time.DateOnly, day)
		if got := shards.PeriodOf(d); got != want {
			t.Errorf("PeriodOf(%s) = %s, want %s", day, got, want)
		}
	}
}

func TestIndex(t *testing.T) {
	cols := []string{"date", "product_id", "sales"}
	x := shards.Index{
		{Shard: 0, Of: 2, Rows: 3, Products: 1, FirstDate: "2024-01-02", LastDate: "2024-04-04", Columns: cols, Parts: []shards.Part{
			{Period: "2024-Q1", Key: shards.PartKey(0, 2, "2024-Q1"), ETag: `"a"`, Rows: 2},
			{Period: "2024-Q2", Key: shards.PartKey(0, 2, "2024-Q2"), ETag: `"b"`, Rows: 1},
		}},
		{Shard: 1, Of: 2, Rows: 2, Products: 2, FirstDate: "2024-01-01", LastDate: "2024-01-03", Columns: cols, Parts: []shards.Part{
			{Period: "2024-Q1", Key: shards.PartKey(1, 2, "2024-Q1"), ETag: `"c"`, Rows: 2},
		}},
	}
	if err := x.Validate(); err != nil {
		t.Fatal(err)
	}
	if x.Rows() != 5 || x.Products() != 3 || x.FirstDate() != "2024-01-01" || x.LastDate() != "2024-04-04" {
		t.Fatalf("rows %d products %d first %s last %s", x.Rows(), x.Products(), x.FirstDate(), x.LastDate())
	}
	if got := fmt.Sprint(x.Columns()); got != "[date product_id sales]" {
		t.Fatalf("columns %s", got)
	}
	if x.For("a").Shard != shards.Of("a", 2) {
		t.Fatal("For")
	}
	for name, spoil := range map[string]func(shards.Index){
		"misplaced key":      func(x shards.Index) { x[1].Parts[0].Key = shards.PartKey(1, 4, "2024-Q1") },
		"parts out of order": func(x shards.Index) { x[0].Parts[0], x[0].Parts[1] = x[0].Parts[1], x[0].Parts[0] },
		"rows disagree":      func(x shards.Index) { x[1].Rows = 3 },
		"columns disagree":   func(x shards.Index) { x[1].Columns = []string{"date", "product_id", "sales", "price"} },
		"wrong count":        func(x shards.Index) { x[1].Of = 3 },
	} {
		bad := append(shards.Index(nil), x...)
		for k := range bad {
			bad[k].Parts = append([]shards.Part(nil), x[k].Parts...)
		}
		spoil(bad)
		if bad.Validate() == nil {
			t.Errorf("%s: passed", name)
		}
	}
	if (shards.Index{}).Validate() == nil {
		t.Fatal("an empty index passed")
	}
}
