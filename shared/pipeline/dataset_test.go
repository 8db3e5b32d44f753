package pipeline_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stockcast/stockcast/shared/dataset"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/store"
)

func TestCurrentDatasetNamesTheSingleFileOrTheIndex(t *testing.T) {
	ctx := context.Background()
	s := store.NewMemory("b")
	if _, err := pipeline.CurrentDataset(ctx, s); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("no dataset: %v", err)
	}
	single, err := s.Put(ctx, shards.SingleKey, strings.NewReader("date,product_id,sales\n2024-01-01,A,1\n"), store.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	legacy, err := pipeline.CurrentDataset(ctx, s)
	if err != nil || legacy.Indexed() || legacy.Ref.Key != shards.SingleKey || legacy.Ref.ETag != single.ETag || legacy.Index.Count() != 1 {
		t.Fatalf("the single-file layout: %+v, %v", legacy, err)
	}
	one := shards.Index{{Shard: 0, Of: 1, Rows: 1, Columns: []string{"date", "product_id", "sales"},
		Parts: []shards.Part{{Key: shards.SingleKey, ETag: single.ETag, VersionID: single.VersionID, Rows: 1}}}}
	obj, err := pipeline.WriteIndex(ctx, s, one, "")
	if err != nil {
		t.Fatal(err)
	}
	cur, err := pipeline.CurrentDataset(ctx, s)
	if err != nil || !cur.Indexed() || cur.Ref.Key != shards.IndexKey || cur.Ref.ETag != obj.ETag || cur.Ref.VersionID != obj.VersionID || cur.Index[0].Parts[0].Key != shards.SingleKey {
		t.Fatalf("one shard: %+v, %v; want it named by its index, its one part the single file", cur, err)
	}

	// Two shards: named by the index, read whole shard after shard.
	two := shards.Index{
		{Shard: 0, Of: 2, Rows: 2, Products: 1, Columns: []string{"date", "product_id", "sales"}},
		{Shard: 1, Of: 2, Rows: 1, Products: 1, Columns: []string{"date", "product_id", "sales"}},
	}
	for k, product := range []string{"P1", "P2"} {
		if shards.Of(product, 2) != k {
			t.Fatalf("%s is in shard %d", product, shards.Of(product, 2))
		}
	}
	two[0].Parts = []shards.Part{putPart(t, s, 0, "2024-Q1", "date,product_id,sales\n2024-01-01,P1,1\n2024-01-02,P1,2\n")}
	two[1].Parts = []shards.Part{putPart(t, s, 1, "2024-Q1", "date,product_id,sales\n2024-01-01,P2,3\n")}
	if _, err := pipeline.WriteIndex(ctx, s, two, obj.ETag); err != nil {
		t.Fatal(err)
	}
	cur, err = pipeline.CurrentDataset(ctx, s)
	if err != nil || cur.Ref.Key != shards.IndexKey || cur.Ref.ETag != cur.Object.ETag {
		t.Fatalf("two shards: %+v, %v; want them named by the index", cur, err)
	}
	data, err := io.ReadAll(pipeline.OpenDataset(ctx, s, cur.Index))
	if want := "date,product_id,sales\n2024-01-01,P1,1\n2024-01-02,P1,2\n2024-01-01,P2,3\n"; err != nil || string(data) != want {
		t.Fatalf("OpenDataset: %q, %v; want %q", data, err, want)
	}
	if table, err := pipeline.LoadDataset(ctx, s, cur.Index); err != nil || table.Rows() != 3 {
		t.Fatalf("LoadDataset: %v, %v", table, err)
	}
	n, err := pipeline.ScanDataset(ctx, s, cur.Index, func(int, *dataset.Row) error { return nil })
	if err != nil || n != 3 {
		t.Fatalf("ScanDataset: %d, %v", n, err)
	}
	// A row in the wrong shard, and an index that miscounts, are found.
	wrong := cur.Index
	wrong[1].Parts = []shards.Part{putPart(t, s, 1, "2024-Q1", "date,product_id,sales\n2024-01-01,P1,3\n")}
	if _, err := pipeline.ScanDataset(ctx, s, wrong, func(int, *dataset.Row) error { return nil }); err == nil || !strings.Contains(err.Error(), "belongs to shard 0") {
		t.Errorf("a row in the wrong shard: %v", err)
	}
	wrong[1].Parts = []shards.Part{putPart(t, s, 1, "2024-Q1", "date,product_id,sales\n2024-01-01,P2,3\n2024-01-01,P2,4\n")}
	if _, err := pipeline.ScanDataset(ctx, s, wrong, func(int, *dataset.Row) error { return nil }); err == nil {
		t.Error("a duplicate row passed")
	}
}
