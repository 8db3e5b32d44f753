package pipeline_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/store"
)

func putPart(t *testing.T, s store.Store, k int, period, body string) shards.Part {
	t.Helper()
	key := shards.PartKey(k, 2, period)
	obj, err := s.Put(context.Background(), key, strings.NewReader(body), store.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return shards.Part{Period: period, Key: key, ETag: obj.ETag, VersionID: obj.VersionID, Rows: strings.Count(body, "\n") - 1}
}

func TestOpenShardJoinsPartsUnderOneHeader(t *testing.T) {
	ctx := context.Background()
	s := store.NewMemory("b")
	sh := shards.Shard{Shard: 1, Of: 2, Parts: []shards.Part{
		putPart(t, s, 1, "2024-Q1", "date,product_id,sales\n2024-03-31,P1,1\n"),
		putPart(t, s, 1, "2024-Q2", "date,product_id,sales\n2024-04-01,P1,2\n2024-04-01,P2,3\n"),
		putPart(t, s, 1, "2024-Q3", "date,product_id,sales\n"),
	}}
	data, err := io.ReadAll(pipeline.OpenShard(ctx, s, sh))
	if err != nil {
		t.Fatal(err)
	}
	if want := "date,product_id,sales\n2024-03-31,P1,1\n2024-04-01,P1,2\n2024-04-01,P2,3\n"; string(data) != want {
		t.Fatalf("got %q, want %q", data, want)
	}
	table, err := pipeline.LoadShard(ctx, s, sh)
	if err != nil || table.Rows() != 3 {
		t.Fatalf("LoadShard: %v rows, %v", table, err)
	}

	other := sh
	other.Parts = append([]shards.Part(nil), sh.Parts[0], putPart(t, s, 1, "2024-Q4", "date,product_id,sales,price\n2024-10-01,P1,1,2\n"))
	if _, err := io.ReadAll(pipeline.OpenShard(ctx, s, other)); err == nil || !strings.Contains(err.Error(), "header") {
		t.Fatalf("a part with another header: %v", err)
	}

	unversioned := sh
	unversioned.Parts = []shards.Part{{Period: "2024-Q1", Key: sh.Parts[0].Key, ETag: `"gone"`}}
	var changed *pipeline.DatasetChanged
	if _, err := io.ReadAll(pipeline.OpenShard(ctx, s, unversioned)); !errors.As(err, &changed) {
		t.Fatalf("a part that changed: %v, want *DatasetChanged", err)
	}
}

func TestIndexIsWrittenConditionally(t *testing.T) {
	ctx := context.Background()
	s := store.NewMemory("b")
	if _, _, err := pipeline.ReadIndex(ctx, s, "", ""); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("no index: %v", err)
	}
	x := shards.Index{{Shard: 0, Of: 1, Rows: 1, Columns: []string{"date", "product_id", "sales"}, Parts: []shards.Part{{Key: shards.SingleKey, ETag: `"e"`, Rows: 1}}}}
	obj, err := pipeline.WriteIndex(ctx, s, x, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pipeline.WriteIndex(ctx, s, x, ""); !errors.Is(err, store.ErrPreconditionFailed) {
		t.Fatalf("second create: %v", err)
	}
	got, _, err := pipeline.ReadIndex(ctx, s, "", obj.ETag)
	if err != nil || got.Rows() != 1 {
		t.Fatalf("read back: %v, %v", got, err)
	}
	in := pipeline.TaskInput{DatasetKey: shards.IndexKey, DatasetETag: `"stale"`}
	var changed *pipeline.DatasetChanged
	if _, err := pipeline.DatasetIndex(ctx, s, in); !errors.As(err, &changed) {
		t.Fatalf("stale index: %v", err)
	}
	legacy, err := pipeline.DatasetIndex(ctx, s, pipeline.TaskInput{DatasetKey: shards.SingleKey, DatasetETag: `"v1"`})
	if err != nil || len(legacy) != 1 || legacy[0].Parts[0].ETag != `"v1"` {
		t.Fatalf("single-file task: %v, %v", legacy, err)
	}
}
