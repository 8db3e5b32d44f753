// Package simulate writes a synthetic dataset of any size straight into a bucket in the sharded
// layout (shared/shards): the parts of every shard, one a calendar quarter, then the index that
// commits them, as a merge of that many rows would have left them. The rows are shared/datagen's,
// generated part by part and streamed into the store: memory holds one part's buffers per
// worker, never the dataset. It is what the scale benchmarks and `stockcast simulate` measure
// against: 100,000 products × 3 years is about 110 million rows in 128 shards.
package simulate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stockcast/stockcast/shared/datagen"
	"github.com/stockcast/stockcast/shared/parallel"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/store"
)

// Config describes a simulated dataset.
type Config struct {
	// Products and Years size it: Products series of Years calendar years of days each.
	Products int
	Years    int
	// Seed selects the values (datagen.Config.Seed); Start is the first day (zero:
	// datagen.DefaultStart).
	Seed  int64
	Start time.Time
	// Intermittent is the share of products with intermittent demand (datagen.Config).
	Intermittent float64
	// MaxRows is the rows a shard holds at most, which sets the shard count as a merge would
	// (shards.CountFor); zero means shards.DefaultMaxRows.
	MaxRows int
	// Workers is how many parts are written at once; zero means 4.
	Workers int
	// Logger receives a line per shard written; nil discards.
	Logger *slog.Logger
}

// Dataset returns the datagen configuration of the whole dataset c describes: the one whose
// rows Write shards, and from which uploads continuing it are made (datagen.NextDays).
func (c Config) Dataset() datagen.Config {
	start := cmp.Or(c.Start, datagen.DefaultStart)
	return datagen.Config{
		Products:     c.Products,
		Days:         int(start.AddDate(c.Years, 0, 0).Sub(start).Hours() / 24),
		Start:        start,
		Seed:         c.Seed,
		IDDigits:     datagen.IDDigitsFor(c.Products),
		Intermittent: c.Intermittent,
	}
}

// Count returns the shard count of the dataset c describes.
func (c Config) Count() int {
	return shards.CountFor(c.Dataset().Rows(), cmp.Or(c.MaxRows, shards.DefaultMaxRows), 1)
}

// Report is what Write wrote.
type Report struct {
	Shards int
	Parts  int
	Rows   int
	Bytes  int64
	// Index is the committed index object.
	Index store.Object
	// Elapsed is the wall time of the whole write.
	Elapsed time.Duration
}

// period is one part's days: the days [from, from+days) of the dataset, in one period.
type period struct {
	name string
	from time.Time
	days int
}

// periods splits the days of d into the parts of a dataset of count shards: calendar quarters,
// or one part of every day for a dataset of one shard.
func periods(d datagen.Config, count int) []period {
	if count == 1 {
		return []period{{from: d.Start, days: d.Days}}
	}
	var out []period
	end := d.Start.AddDate(0, 0, d.Days)
	for day := d.Start; day.Before(end); {
		y, m, _ := day.Date()
		next := time.Date(y, time.Month((int(m)-1)/3*3+4), 1, 0, 0, 0, 0, time.UTC)
		if next.After(end) {
			next = end
		}
		out = append(out, period{name: shards.PeriodOf(day), from: day, days: int(next.Sub(day).Hours() / 24)})
		day = next
	}
	return out
}

// Write writes the dataset c describes into s as shards of quarterly parts and commits it with
// a new index (replacing the current one, if any, conditionally on its ETag). Objects of the
// index it replaces that the new one does not name are deleted after the commit.
func Write(ctx context.Context, s store.Store, c Config) (Report, error) {
	began := time.Now()
	previous, err := currentIndex(ctx, s)
	if err != nil {
		return Report{}, err
	}
	index, err := writeShards(ctx, s, c, nil)
	if err != nil {
		return Report{}, err
	}
	report := Report{Shards: len(index), Rows: index.Rows()}
	for _, sh := range index {
		report.Parts += len(sh.Parts)
		report.Bytes += sh.Bytes
	}
	report.Index, err = pipeline.WriteIndex(ctx, s, index, previous.etag)
	if err != nil {
		return Report{}, fmt.Errorf("simulate: commit: %w", err)
	}
	if err := deleteReplaced(ctx, s, previous, index); err != nil {
		return Report{}, err
	}
	report.Elapsed = time.Since(began)
	return report, nil
}

// WriteShard writes only the parts and the product list of shard k of the dataset c describes
// and returns its index entry, committing nothing: one shard of a dataset too large to write whole
// for a benchmark of what one shard costs (its refit, its load).
func WriteShard(ctx context.Context, s store.Store, c Config, k int) (shards.Shard, error) {
	if k < 0 || k >= c.Count() {
		return shards.Shard{}, fmt.Errorf("simulate: no shard %d of %d", k, c.Count())
	}
	index, err := writeShards(ctx, s, c, []int{k})
	if err != nil {
		return shards.Shard{}, err
	}
	return index[k], nil
}

// writeShards writes the parts of the shards only names (nil: all) and returns the index of
// every shard, those not written left without parts.
func writeShards(ctx context.Context, s store.Store, c Config, only []int) (shards.Index, error) {
	if c.Products <= 0 || c.Years <= 0 {
		return nil, fmt.Errorf("simulate: %d products × %d years: both must be positive", c.Products, c.Years)
	}
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := c.Dataset()
	count := c.Count()
	if only == nil {
		only = make([]int, count)
		for k := range only {
			only[k] = k
		}
	}
	members := make([][]int, count)
	for n := 1; n <= c.Products; n++ {
		k := shards.Of(d.ProductID(n), count)
		members[k] = append(members[k], n)
	}
	index := make(shards.Index, count)
	for k := range index {
		index[k] = shards.Shard{Shard: k, Of: count, Columns: strings.Split(datagen.Header, ","), Parts: []shards.Part{}}
	}

	parts := periods(d, count)
	written := make([][]shards.Part, count)
	for _, k := range only {
		if len(members[k]) > 0 { // an empty shard has no part
			written[k] = make([]shards.Part, len(parts))
		}
	}
	jobs := len(only) * len(parts)
	errs := make([]error, jobs)
	var mu sync.Mutex
	done := 0
	parallel.Each(ctx, jobs, cmp.Or(c.Workers, 4), func(i int) {
		k, j := only[i/len(parts)], i%len(parts)
		if written[k] == nil {
			return
		}
		part, err := writePart(ctx, s, d, members[k], k, count, parts[j])
		if err != nil {
			errs[i] = err
			return
		}
		written[k][j] = part
		mu.Lock()
		done++
		if done%len(parts) == 0 {
			log.Info("simulate: parts written", "done", done, "of", jobs)
		}
		mu.Unlock()
	})
	if err := errors.Join(append(errs, ctx.Err())...); err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}

	first, last := d.Start.Format(time.DateOnly), d.Start.AddDate(0, 0, d.Days-1).Format(time.DateOnly)
	for k, ps := range written {
		if ps == nil {
			continue
		}
		sh := &index[k]
		sh.Products, sh.FirstDate, sh.LastDate, sh.Parts = len(members[k]), first, last, ps
		if count > 1 {
			ids := make([]string, len(members[k]))
			for i, n := range members[k] {
				ids[i] = d.ProductID(n)
			}
			slices.Sort(ids)
			list, err := pipeline.WriteShardProducts(ctx, s, k, count, ids)
			if err != nil {
				return nil, fmt.Errorf("simulate: %w", err)
			}
			sh.ProductList = &list
		}
		for _, p := range ps {
			sh.Rows += p.Rows
			sh.Bytes += p.Bytes
		}
	}
	return index, nil
}

// writePart writes the rows of the given products over period p as part p of shard k.
func writePart(ctx context.Context, s store.Store, d datagen.Config, products []int, k, count int, p period) (shards.Part, error) {
	key := shards.PartKey(k, count, p.name)
	d.Start, d.Days = p.from, p.days
	obj, err := store.PutFrom(ctx, s, key, store.PutOptions{ContentType: "text/csv"}, func(w io.Writer) error {
		return datagen.WriteProducts(ctx, w, d, products)
	})
	if err != nil {
		return shards.Part{}, fmt.Errorf("shard %d part %s: %w", k, key, err)
	}
	return shards.Part{Period: p.name, Key: key, ETag: obj.ETag, VersionID: obj.VersionID, Rows: len(products) * p.days, Bytes: obj.Size, Products: len(products)}, nil
}

// replaced is the dataset a Write replaces: the current index (its ETag and the keys it names),
// or a single-file dataset from before sharding.
type replaced struct {
	etag string
	keys []string
}

// currentIndex returns the dataset Write replaces.
func currentIndex(ctx context.Context, s store.Store) (replaced, error) {
	x, obj, err := pipeline.ReadIndex(ctx, s, "", "")
	switch {
	case errors.Is(err, store.ErrNotFound):
		if _, err := s.Head(ctx, shards.SingleKey); err == nil {
			return replaced{keys: []string{shards.SingleKey}}, nil
		}
		return replaced{}, nil
	case err != nil:
		return replaced{}, fmt.Errorf("simulate: %w", err)
	}
	r := replaced{etag: obj.ETag}
	for _, sh := range x {
		for _, p := range sh.Parts {
			r.keys = append(r.keys, p.Key)
		}
		if sh.ProductList != nil {
			r.keys = append(r.keys, sh.ProductList.Key)
		}
	}
	return r, nil
}

// deleteReplaced deletes the objects of the replaced dataset the new index does not name.
func deleteReplaced(ctx context.Context, s store.Store, old replaced, x shards.Index) error {
	kept := map[string]bool{}
	for _, sh := range x {
		for _, p := range sh.Parts {
			kept[p.Key] = true
		}
		if sh.ProductList != nil {
			kept[sh.ProductList.Key] = true
		}
	}
	for _, key := range old.keys {
		if kept[key] {
			continue
		}
		if err := s.Delete(ctx, key); err != nil {
			return fmt.Errorf("simulate: delete the replaced %s: %w", key, err)
		}
	}
	return nil
}
