package simulate_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stockcast/stockcast/infra/simulate"
	"github.com/stockcast/stockcast/shared/datagen"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/store"
)

// small is 300 products × 1 year in shards of at most a quarter of the rows: 4 shards of 4
// quarterly parts.
var small = simulate.Config{Products: 300, Years: 1, Seed: 3, Intermittent: 0.2, MaxRows: 300 * 365 / 4}

func read(t *testing.T, s store.Store, p shards.Part) [][]string {
	t.Helper()
	body, _, err := s.Get(context.Background(), p.Key, store.GetOptions{VersionID: p.VersionID, IfMatch: p.ETag})
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	recs, err := csv.NewReader(body).ReadAll()
	if err != nil {
		t.Fatalf("part %s: %v", p.Key, err)
	}
	return recs
}

func TestWriteShardsTheDataset(t *testing.T) {
	ctx := context.Background()
	s := store.NewMemory("b")
	report, err := simulate.Write(ctx, s, small)
	if err != nil {
		t.Fatal(err)
	}
	x, obj, err := pipeline.ReadIndex(ctx, s, "", "") // validates it
	if err != nil {
		t.Fatal(err)
	}
	d := small.Dataset()
	if d.Days != 365 || report.Shards != 4 || len(x) != 4 || report.Parts != 16 || !store.SameETag(obj.ETag, report.Index.ETag) {
		t.Fatalf("days %d, report %+v, index of %d shards", d.Days, report, len(x))
	}
	if x.Rows() != 300*365 || report.Rows != x.Rows() || x.Products() != 300 || x.FirstDate() != "2022-01-01" || x.LastDate() != "2022-12-31" {
		t.Fatalf("index: %d rows, %d products, %s … %s", x.Rows(), x.Products(), x.FirstDate(), x.LastDate())
	}

	var all [][]string
	for _, sh := range x {
		var bytes int64
		for _, p := range sh.Parts {
			recs := read(t, s, p)
			if strings.Join(recs[0], ",") != datagen.Header || len(recs)-1 != p.Rows || p.Products != sh.Products {
				t.Fatalf("part %s: header %v, %d rows, index says %d", p.Key, recs[0], len(recs)-1, p.Rows)
			}
			for i, r := range recs[1:] {
				if shards.Of(r[1], 4) != sh.Shard || shards.PeriodOf(mustDay(t, r[0])) != p.Period {
					t.Fatalf("part %s holds %s on %s", p.Key, r[1], r[0])
				}
				if i > 0 && (r[0] < recs[i][0] || r[0] == recs[i][0] && r[1] <= recs[i][1]) {
					t.Fatalf("part %s: row %v after %v", p.Key, r, recs[i])
				}
			}
			if obj, err := s.Head(ctx, p.Key); err != nil || obj.Size != p.Bytes {
				t.Fatalf("part %s: %d bytes stored, index says %d: %v", p.Key, obj.Size, p.Bytes, err)
			}
			all = append(all, recs[1:]...)
			bytes += p.Bytes
		}
		if bytes != sh.Bytes || sh.Products == 0 {
			t.Fatalf("shard %d: %d bytes, its parts %d; %d products", sh.Shard, sh.Bytes, bytes, sh.Products)
		}
		table, err := pipeline.LoadShard(ctx, s, sh)
		if err != nil || len(table.Products()) != sh.Products {
			t.Fatalf("shard %d loads %v products: %v", sh.Shard, table, err)
		}
	}

	// The shards hold exactly the rows of the dataset written as one file.
	var whole bytes.Buffer
	if err := datagen.Write(ctx, &whole, d); err != nil {
		t.Fatal(err)
	}
	want, _ := csv.NewReader(&whole).ReadAll()
	order := func(a, b []string) int { return strings.Compare(a[0]+a[1], b[0]+b[1]) }
	slices.SortFunc(all, order)
	if !slices.EqualFunc(all, want[1:], slices.Equal) {
		t.Fatal("the shards' rows are not the dataset's")
	}

	// Deterministic: the same config writes the same objects.
	again := store.NewMemory("b")
	if _, err := simulate.Write(ctx, again, small); err != nil {
		t.Fatal(err)
	}
	y, _, _ := pipeline.ReadIndex(ctx, again, "", "")
	for k := range x {
		for i, p := range x[k].Parts {
			if !store.SameETag(p.ETag, y[k].Parts[i].ETag) {
				t.Fatalf("part %s differs between two writes", p.Key)
			}
		}
	}
}

func TestWriteReplacesTheDataset(t *testing.T) {
	ctx := context.Background()
	s := store.NewMemory("b")
	if _, err := s.Put(ctx, shards.SingleKey, strings.NewReader(datagen.Header+"\n"), store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := simulate.Write(ctx, s, small); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Head(ctx, shards.SingleKey); err == nil {
		t.Fatal("the single-file dataset survived the sharded one replacing it")
	}
	one := small
	one.MaxRows = 0 // one shard
	report, err := simulate.Write(ctx, s, one)
	if err != nil {
		t.Fatal(err)
	}
	x, _, err := pipeline.ReadIndex(ctx, s, "", "")
	if err != nil || report.Shards != 1 || len(x) != 1 || x[0].Parts[0].Key != shards.SingleKey || x.Rows() != 300*365 {
		t.Fatalf("one shard: %+v %v", x, err)
	}
	left, err := s.List(ctx, shards.Prefix)
	if err != nil || len(left) != 0 {
		t.Fatalf("the 4 shards' parts left behind: %v %v", left, err)
	}
	body, _, err := s.Get(ctx, shards.SingleKey, store.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	data, _ := io.ReadAll(body)
	var whole bytes.Buffer
	if err := datagen.Write(ctx, &whole, one.Dataset()); err != nil || !bytes.Equal(data, whole.Bytes()) {
		t.Fatalf("the one shard is not the dataset as one file (%v)", err)
	}
}

func TestWriteRejectsAnEmptyDataset(t *testing.T) {
	if _, err := simulate.Write(context.Background(), store.NewMemory("b"), simulate.Config{Products: 0, Years: 1}); err == nil {
		t.Fatal("no products accepted")
	}
}

func mustDay(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestWriteShardIsTheShardOfTheWholeDataset(t *testing.T) {
	ctx := context.Background()
	whole, one := store.NewMemory("b"), store.NewMemory("b")
	if _, err := simulate.Write(ctx, whole, small); err != nil {
		t.Fatal(err)
	}
	x, _, err := pipeline.ReadIndex(ctx, whole, "", "")
	if err != nil {
		t.Fatal(err)
	}
	sh, err := simulate.WriteShard(ctx, one, small, 2)
	if err != nil {
		t.Fatal(err)
	}
	if sh.Shard != 2 || sh.Of != 4 || sh.Rows != x[2].Rows || sh.Products != x[2].Products || len(sh.Parts) != len(x[2].Parts) {
		t.Fatalf("shard %+v, in the whole dataset %+v", sh, x[2])
	}
	for i, p := range sh.Parts {
		if !store.SameETag(p.ETag, x[2].Parts[i].ETag) {
			t.Fatalf("part %s differs from the whole dataset's", p.Key)
		}
	}
	if list, _ := one.List(ctx, ""); len(list) != len(sh.Parts)+1 || sh.ProductList == nil {
		t.Fatalf("WriteShard wrote %d objects, want its %d parts and its product list only", len(list), len(sh.Parts))
	}
	if _, err := simulate.WriteShard(ctx, one, small, 4); err == nil {
		t.Fatal("shard 4 of 4 written")
	}
}
