package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/stockcast/stockcast/shared/dataset"
	"github.com/stockcast/stockcast/shared/series"
	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/store"
)

// DatasetRef names one dataset version as a task input does (TaskInput's DatasetKey,
// DatasetETag, DatasetVersionID), with when it was written.
type DatasetRef struct {
	Key, ETag, VersionID string
	Written              time.Time
}

// Current is the current dataset version: its index, the index object as read (no ETag before
// the first merge that wrote one), and how a training task names it.
type Current struct {
	Index shards.Index
	// Object is the index object; zero for a dataset of the single-file layout that no merge
	// has indexed yet.
	Object store.Object
	Ref    DatasetRef
}

// Indexed reports whether the dataset has an index object (false: the single-file layout from
// before sharding, which the next merge indexes).
func (c Current) Indexed() bool { return c.Object.ETag != "" }

// CurrentDataset reads the current dataset version: the index at shards.IndexKey or, before the
// first merge that wrote one, the single file at shards.SingleKey as the one shard (its rows,
// dates and columns unknown: zero). No dataset at all is an error wrapping store.ErrNotFound.
//
// A task names a dataset by its index (IndexRef), which the training's Distributed Map reads;
// only the single file of before sharding, not indexed yet, is named by that object.
func CurrentDataset(ctx context.Context, s store.Store) (Current, error) {
	x, obj, err := ReadIndex(ctx, s, "", "")
	if err == nil {
		return Current{Index: x, Object: obj, Ref: IndexRef(obj)}, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return Current{}, err
	}
	single, err := s.Head(ctx, shards.SingleKey)
	if err != nil {
		return Current{}, fmt.Errorf("the dataset (neither %s nor %s): %w", shards.IndexKey, shards.SingleKey, err)
	}
	part := shards.Part{Key: shards.SingleKey, ETag: single.ETag, VersionID: single.VersionID, Bytes: single.Size}
	return Current{
		Index: shards.Index{{Shard: 0, Of: 1, Bytes: single.Size, Parts: []shards.Part{part}}},
		Ref:   DatasetRef{Key: shards.SingleKey, ETag: single.ETag, VersionID: single.VersionID, Written: single.LastModified.UTC()},
	}, nil
}

// IndexRef is how a task names the dataset version whose index object is obj: by the index,
// whatever its shard count, which the training's Distributed Map reads as its items.
func IndexRef(obj store.Object) DatasetRef {
	return DatasetRef{Key: shards.IndexKey, ETag: obj.ETag, VersionID: obj.VersionID, Written: obj.LastModified.UTC()}
}

// OpenDataset streams a dataset version whole as one dataset CSV: its shards one after another
// (as OpenShard streams each), the header once. Rows are sorted within each shard, not across
// shards; it is for the tools that need a dataset whole (series.Load takes rows in any order).
func OpenDataset(ctx context.Context, s store.Store, x shards.Index) io.ReadCloser {
	var parts []shards.Part
	for _, sh := range x {
		parts = append(parts, sh.Parts...)
	}
	return &shardReader{ctx: ctx, store: s, parts: parts}
}

// LoadDataset reads a dataset version whole into a table (OpenDataset).
func LoadDataset(ctx context.Context, s store.Store, x shards.Index) (*series.Table, error) {
	return loadTable(ctx, OpenDataset(ctx, s, x), fmt.Sprintf("the dataset's %d shards", len(x)))
}

// ScanDataset reads every row of a dataset version, shard after shard, and checks the data
// contract of each shard: every part's rows sorted by (date, product_id) with unique keys, the
// parts of a shard in period order, every row in the shard its product hashes to, the index's
// rows and products its own. It calls row for each row (its bytes valid until the next call)
// and returns the rows read.
func ScanDataset(ctx context.Context, s store.Store, x shards.Index, row func(shard int, r *dataset.Row) error) (int, error) {
	rows := 0
	for _, sh := range x {
		n, err := scanShard(ctx, s, sh, len(x), row)
		rows += n
		if err != nil {
			return rows, fmt.Errorf("shard %d of %d: %w", sh.Shard, len(x), err)
		}
	}
	return rows, nil
}

func scanShard(ctx context.Context, s store.Store, sh shards.Shard, count int, row func(int, *dataset.Row) error) (int, error) {
	r := OpenShard(ctx, s, sh)
	defer r.Close()
	scanner, err := dataset.NewScanner(r)
	if err != nil {
		return 0, err
	}
	var last dataset.Day
	var lastProduct []byte
	n := 0
	products := map[string]bool{}
	for scanner.Scan() {
		got := scanner.Row()
		switch {
		case n > 0 && (got.Day < last || got.Day == last && string(got.ProductID) <= string(lastProduct)):
			return n, fmt.Errorf("row %d (%s, %s) after (%s, %s): not sorted by (date, product_id), or a duplicate", n+1, got.Day, got.ProductID, last, lastProduct)
		case shards.Of(string(got.ProductID), count) != sh.Shard:
			return n, fmt.Errorf("row %d: product %s belongs to shard %d", n+1, got.ProductID, shards.Of(string(got.ProductID), count))
		}
		last, lastProduct = got.Day, append(lastProduct[:0], got.ProductID...)
		if !products[string(got.ProductID)] {
			products[string(got.ProductID)] = true
		}
		n++
		if err := row(sh.Shard, got); err != nil {
			return n, err
		}
	}
	if err := scanner.Err(); err != nil {
		return n, err
	}
	if n != sh.Rows || len(products) != sh.Products {
		return n, fmt.Errorf("%d rows of %d products, the index says %d of %d", n, len(products), sh.Rows, sh.Products)
	}
	return n, nil
}
