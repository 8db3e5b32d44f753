package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/stockcast/stockcast/shared/dataset"
	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/store"
)

// ShardProducts returns the products of one shard, sorted: its product list as the index names
// it or, for an index written without one, the products of its parts, read once.
func ShardProducts(ctx context.Context, s store.Store, sh shards.Shard) ([]string, error) {
	if l := sh.ProductList; l != nil {
		var products []string
		if _, err := ReadJSON(ctx, s, "product list", l.Key, store.GetOptions{VersionID: l.VersionID, IfMatch: l.ETag}, &products); err != nil {
			return nil, err
		}
		return products, nil
	}
	r := OpenShard(ctx, s, sh)
	defer r.Close()
	scanner, err := dataset.NewScanner(r)
	if err != nil {
		return nil, fmt.Errorf("the products of shard %d of %d: %w", sh.Shard, sh.Of, err)
	}
	seen := map[string]bool{}
	for scanner.Scan() {
		if id := scanner.Row().ProductID; !seen[string(id)] {
			seen[string(id)] = true
		}
	}
	if err := scanner.Err(); err != nil {
		return nil, fmt.Errorf("the products of shard %d of %d: %w", sh.Shard, sh.Of, err)
	}
	products := make([]string, 0, len(seen))
	for id := range seen {
		products = append(products, id)
	}
	slices.Sort(products)
	return products, nil
}

// WriteShardProducts writes the product list of shard k of count shards (products sorted) in
// place, conditionally on the object as it is now — a version that no index names is
// overwritten — and returns it as the index names it.
func WriteShardProducts(ctx context.Context, s store.Store, k, count int, products []string) (shards.Part, error) {
	key := shards.ProductsKey(k, count)
	now, err := s.Head(ctx, key)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return shards.Part{}, fmt.Errorf("product list %s: %w", key, err)
	}
	obj, err := WriteJSON(ctx, s, "product list "+key, key, store.ConditionFor(now.ETag), products)
	if err != nil {
		return shards.Part{}, err
	}
	return shards.Part{Key: key, ETag: obj.ETag, VersionID: obj.VersionID, Rows: len(products), Bytes: obj.Size}, nil
}
