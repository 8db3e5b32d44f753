package merge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/stockcast/stockcast/shared/dataset"
	"github.com/stockcast/stockcast/shared/parallel"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/platform"
	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/store"
)

// The merge writes the sharded dataset (package shards): the parts its upload touches, each in
// place and conditionally, then the index, its commit point, conditionally on the index it read.
// A part is read as the index pins it (by version id, where the bucket keeps versions) and
// written If-Match the object as it is now — If-None-Match when there is none: a version that a
// merge wrote and never committed (it lost a race, or stopped before the index) is overwritten;
// readers never see it, since they read the parts the index names.

// partWrite is one part of the dataset that a merge attempt rewrites.
type partWrite struct {
	shard  int
	period string
	// committed is the part as the index names it; nil for a part the dataset does not have yet.
	committed *shards.Part
	// merge merges into the part that open returns and writes the result with write.
	merge func(ctx context.Context, open dataset.Opener, write dataset.Writer) (dataset.Applied, error)
}

func (p partWrite) key(count int) string { return shards.PartKey(p.shard, count, p.period) }

// partWritten is a part as a merge attempt wrote it.
type partWritten struct {
	partWrite
	part    shards.Part
	applied dataset.Applied
	// changed is false when the part's content is what it was: the index keeps naming the
	// version it named.
	changed bool
}

// writeParts writes the parts of a dataset of count shards, at most Config.PartWriters at once,
// and stops at the first failure.
func (h *Handler) writeParts(ctx context.Context, count int, writes []partWrite) ([]partWritten, error) {
	out := make([]partWritten, len(writes))
	err := h.each(ctx, len(writes), "write the dataset's parts", func(ctx context.Context, i int) error {
		var err error
		out[i], err = h.writePart(ctx, count, writes[i])
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// each calls fn(ctx, i) for every i in [0, n), at most Config.PartWriters at once, and stops at
// the first failure, which it returns; ctx done before every call started is an error wrapping
// ctx's, named by what.
func (h *Handler) each(ctx context.Context, n int, what string, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		first error
	)
	parallel.Each(ctx, n, h.Config.PartWriters, func(i int) {
		if err := fn(ctx, i); err != nil {
			mu.Lock()
			defer mu.Unlock()
			if first == nil {
				first = err
				cancel()
			}
		}
	})
	if first != nil {
		return first
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// writePart merges into one part and writes it in place, conditionally on the object as it is.
func (h *Handler) writePart(ctx context.Context, count int, p partWrite) (partWritten, error) {
	key := p.key(count)
	now, err := h.Store.Head(ctx, key)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return partWritten{}, fmt.Errorf("dataset part %s: %w", key, err)
	}
	open := func(ctx context.Context) (io.ReadCloser, error) {
		if p.committed == nil {
			return nil, nil // a new part: the upload's rows start it
		}
		// The part as the index pins it; in a bucket without versions, the object as it is.
		opts := store.GetOptions{VersionID: p.committed.VersionID, IfMatch: p.committed.ETag}
		if opts.VersionID == "" {
			opts.IfMatch = now.ETag
		}
		body, _, err := h.Store.Get(ctx, key, opts)
		if err != nil {
			return nil, fmt.Errorf("dataset part %s: %w", key, err)
		}
		return body, nil
	}
	opts := store.ConditionFor(now.ETag)
	opts.ContentType = "text/csv"
	var obj store.Object
	applied, err := p.merge(ctx, open, func(produce func(io.Writer) (dataset.Stats, error)) (dataset.Stats, error) {
		var stats dataset.Stats
		var err error
		obj, err = store.PutFrom(ctx, h.Store, key, opts, func(w io.Writer) (err error) {
			stats, err = produce(w)
			return err
		})
		return stats, err
	})
	if err != nil {
		return partWritten{}, err
	}
	st := applied.Stats
	w := partWritten{partWrite: p, applied: applied, changed: p.committed == nil || !store.SameETag(p.committed.ETag, obj.ETag),
		part: shards.Part{Period: p.period, Key: key, ETag: obj.ETag, VersionID: obj.VersionID, Rows: st.RowsAfter, Bytes: obj.Size, Products: st.Products}}
	if !w.changed {
		w.part.VersionID = p.committed.VersionID // the same content: the version the index names stays
	}
	return w, nil
}

// mergeShards merges the upload into the current dataset: the parts its rows fall in (every
// part, when it brings a new column) are merged and written, then the index is committed. A
// dataset of one shard is merged whole, as before sharding.
func (h *Handler) mergeShards(ctx context.Context, u *upload, cur pipeline.Current) (mergeResult, error) {
	limits := h.Config.Limits
	limits.Today = h.Now()
	opts := dataset.Options{MaxProblems: h.Config.MaxProblems, Limits: limits, SizeHint: u.obj.Size}
	if len(cur.Index) == 1 {
		// One shard, one part: the upload is parsed against the part's own header and merged
		// whole (its horizon checked against the part, which is the dataset).
		return h.commit(ctx, cur, onePart(cur, func(ctx context.Context, open dataset.Opener, write dataset.Writer) (dataset.Applied, error) {
			return dataset.Apply(ctx, open, h.openUpload(u), opts, write)
		}), nil, nil)
	}
	up, writes, added, err := h.route(ctx, u, cur.Index, opts)
	if err != nil {
		return mergeResult{}, err
	}
	return h.commit(ctx, cur, writes, up, added)
}

// onePart is the one write of a dataset of one shard: its one part, merged whole with merge.
func onePart(cur pipeline.Current, merge func(ctx context.Context, open dataset.Opener, write dataset.Writer) (dataset.Applied, error)) []partWrite {
	var committed *shards.Part
	if len(cur.Index[0].Parts) == 1 {
		committed = &cur.Index[0].Parts[0]
	}
	return []partWrite{{shard: 0, committed: committed, merge: merge}}
}

// commit writes the parts and the product lists of the products added (by shard), then the index
// that names them, conditionally on the index cur was read from (If-None-Match for the single
// file not indexed yet): a merge's commit, and a migration's. up is the upload routed into the
// parts; nil for the one part of a dataset of one shard, whose merge parses it.
func (h *Handler) commit(ctx context.Context, cur pipeline.Current, writes []partWrite, up *dataset.Upload, added map[int][]string) (mergeResult, error) {
	written, err := h.writeParts(ctx, len(cur.Index), writes)
	if err != nil {
		return mergeResult{}, err
	}
	lists, err := h.addProducts(ctx, cur.Index, added)
	if err != nil {
		return mergeResult{}, err
	}
	if up == nil {
		up = written[0].applied.Upload
	}
	if err := h.fault(AfterPartWrites); err != nil {
		return mergeResult{}, err
	}
	next, changed := nextIndex(cur.Index, up.Columns, written, lists)
	obj := cur.Object
	if changed || len(lists) > 0 || !cur.Indexed() {
		if obj, err = pipeline.WriteIndex(ctx, h.Store, next, cur.Object.ETag); err != nil {
			return mergeResult{}, err
		}
	}
	return h.report(cur, next, obj, up, written, changed), nil
}

// migrate indexes a dataset of the single-file layout (shards.SingleKey and no index: a
// deployment upgraded from before sharding, until its next upload is merged), as that merge
// would, without an upload: the file is written again as a merge writes it (the same content when
// it was sorted) and its one-shard index committed If-None-Match. A merge or another migration
// that commits first wins: the dataset is then indexed, and nothing is lost. Every request of a
// training migrates first, since the training's Distributed Map reads its shards from the index.
// An indexed dataset is left alone; no dataset is an error wrapping store.ErrNotFound.
func (h *Handler) migrate(ctx context.Context) (_ pipeline.Current, err error) {
	ctx, end := platform.Trace(ctx, "merge.migrate")
	defer func() { end(err) }()
	return store.RetryConflicts(ctx, h.Config.MaxAttempts, func(attempt int) (pipeline.Current, error) {
		cur, err := pipeline.CurrentDataset(ctx, h.Store)
		if err != nil || cur.Indexed() {
			return cur, err
		}
		result, err := h.commit(ctx, cur, onePart(cur, func(ctx context.Context, open dataset.Opener, write dataset.Writer) (dataset.Applied, error) {
			return dataset.Rewrite(ctx, open, write)
		}), nil, nil)
		if err != nil {
			return pipeline.Current{}, fmt.Errorf("index the dataset of the single-file layout: %w", err)
		}
		h.Logger.InfoContext(ctx, "indexed the dataset of the single-file layout", "rows", result.report.RowsAfter,
			"index_etag", result.report.DatasetETag, "attempt", attempt, "reordered", result.reordered)
		return pipeline.CurrentDataset(ctx, h.Store)
	})
}

// route parses the upload against the dataset's columns, checks its dates against the whole
// dataset's, and splits it into the parts of the dataset's shards its rows fall in (every part,
// when it brings a new column: every part keeps the dataset's header).
func (h *Handler) route(ctx context.Context, u *upload, x shards.Index, opts dataset.Options) (*dataset.Upload, []partWrite, map[int][]string, error) {
	raw, err := h.openUpload(u)(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	up, err := dataset.ParseUpload(ctx, raw, x.Columns(), opts)
	raw.Close()
	if err != nil {
		return nil, nil, nil, err
	}
	if err := up.CheckHorizon(x.LastDate()); err != nil {
		return nil, nil, nil, err
	}
	added := map[int][]string{}
	for _, id := range up.ProductIDs() {
		k := shards.Of(id, len(x))
		added[k] = append(added[k], id)
	}
	type at struct {
		shard  int
		period string
	}
	count := len(x)
	period := periods()
	rows := dataset.Split(up, func(date, product string) at {
		return at{shards.Of(product, count), period(date)}
	})
	var writes []partWrite
	add := func(k int, period string, committed *shards.Part, part *dataset.Upload) {
		writes = append(writes, partWrite{shard: k, period: period, committed: committed,
			merge: func(ctx context.Context, open dataset.Opener, write dataset.Writer) (dataset.Applied, error) {
				stats, reordered, err := dataset.MergeInto(ctx, open, part, write)
				return dataset.Applied{Upload: part, Stats: stats, Reordered: reordered}, err
			}})
	}
	for k := range x {
		for i := range x[k].Parts {
			p := &x[k].Parts[i]
			part := rows[at{k, p.Period}]
			delete(rows, at{k, p.Period})
			switch {
			case part != nil:
				add(k, p.Period, p, part)
			case len(up.NewColumns) > 0:
				add(k, p.Period, p, up.Empty())
			}
		}
	}
	for key, part := range rows {
		add(key.shard, key.period, nil, part)
	}
	slices.SortFunc(writes, func(a, b partWrite) int { return cmpPart(a.shard, a.period, b.shard, b.period) })
	return up, writes, added, nil
}

// addProducts adds the upload's products to the product lists of the shards they fall in, and
// returns the lists written (a shard whose list holds them all already keeps its own).
func (h *Handler) addProducts(ctx context.Context, x shards.Index, added map[int][]string) (map[int]shards.Part, error) {
	var touched []int
	for k := range added {
		touched = append(touched, k)
	}
	slices.Sort(touched)
	return h.writeLists(ctx, len(x), touched, func(ctx context.Context, k int) ([]string, bool, error) {
		have, err := pipeline.ShardProducts(ctx, h.Store, x[k])
		if err != nil {
			return nil, false, err
		}
		all := slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(have), added[k]...))))
		return all, len(all) != len(have) || x[k].ProductList == nil, nil
	})
}

// writeLists writes the product lists of the given shards of a dataset of count shards, at most
// Config.PartWriters at once: products returns a shard's list, and whether it is to be written.
func (h *Handler) writeLists(ctx context.Context, count int, ks []int, products func(ctx context.Context, k int) ([]string, bool, error)) (map[int]shards.Part, error) {
	written := make([]*shards.Part, len(ks))
	err := h.each(ctx, len(ks), "write the shards' product lists", func(ctx context.Context, i int) error {
		list, write, err := products(ctx, ks[i])
		if err != nil || !write {
			return err
		}
		part, err := pipeline.WriteShardProducts(ctx, h.Store, ks[i], count, list)
		if err != nil {
			return err
		}
		written[i] = &part
		return nil
	})
	if err != nil {
		return nil, err
	}
	lists := map[int]shards.Part{}
	for i, part := range written {
		if part != nil {
			lists[ks[i]] = *part
		}
	}
	return lists, nil
}

func cmpPart(k int, period string, otherK int, otherPeriod string) int {
	if k != otherK {
		return k - otherK
	}
	if period < otherPeriod {
		return -1
	}
	if period > otherPeriod {
		return 1
	}
	return 0
}

// nextIndex is the index after the parts and product lists were written: x with their new
// versions, and the upload's columns. changed is false when no part's content changed.
func nextIndex(x shards.Index, columns []string, written []partWritten, lists map[int]shards.Part) (shards.Index, bool) {
	next := make(shards.Index, len(x))
	changed := x.Columns() != nil && !slices.Equal(x.Columns(), columns) // nil: not known yet (the single file before its index)
	for k, sh := range x {
		sh.Parts = slices.Clone(sh.Parts)
		sh.Columns = slices.Clone(columns)
		next[k] = sh
	}
	for _, w := range written {
		changed = changed || w.changed
		sh := &next[w.shard]
		i := slices.IndexFunc(sh.Parts, func(p shards.Part) bool { return p.Key == w.part.Key })
		if i < 0 {
			sh.Parts = append(sh.Parts, w.part)
		} else {
			sh.Parts[i] = w.part
		}
		if len(x) == 1 {
			sh.Products = w.part.Products // the one part is the shard
		}
		if st := w.applied.Stats; st.RowsAfter > 0 {
			if sh.FirstDate == "" || st.First < sh.FirstDate {
				sh.FirstDate = st.First
			}
			sh.LastDate = max(sh.LastDate, st.Last)
		}
	}
	for k, l := range lists {
		next[k].ProductList, next[k].Products = &l, l.Rows
	}
	for k := range next {
		summarize(&next[k])
	}
	return next, changed
}

// summarize sets a shard's parts in period order and its rows and bytes from them.
func summarize(sh *shards.Shard) {
	slices.SortFunc(sh.Parts, func(a, b shards.Part) int { return cmpPart(0, a.Period, 0, b.Period) })
	sh.Rows, sh.Bytes = 0, 0
	for _, p := range sh.Parts {
		sh.Rows += p.Rows
		sh.Bytes += p.Bytes
	}
	if sh.Parts == nil {
		sh.Parts = []shards.Part{}
	}
}

// report describes the merge of an attempt that committed next (as obj).
func (h *Handler) report(cur pipeline.Current, next shards.Index, obj store.Object, up *dataset.Upload, written []partWritten, changed bool) mergeResult {
	ref := pipeline.IndexRef(obj)
	r := pipeline.MergeReport{
		RowsAfter:        next.Rows(),
		UploadRows:       up.DataRows,
		NewColumns:       up.NewColumns,
		FirstDate:        up.FirstDate.Format(time.DateOnly),
		LastDate:         up.LastDate.Format(time.DateOnly),
		DatasetETag:      ref.ETag,
		DatasetVersionID: ref.VersionID,
		Written:          h.Now().UTC(),
		Shards:           len(next),
	}
	// The rows before: the index's, with each part written counted as it was read (the single
	// file's, before its index, are counted only so).
	rowsBefore := cur.Index.Rows()
	for _, w := range written {
		st := w.applied.Stats
		r.Inserted += st.Inserted
		r.Replaced += st.Replaced
		rowsBefore += st.RowsBefore
		if w.committed != nil {
			rowsBefore -= w.committed.Rows
		}
		if !slices.Contains(r.Touched, w.shard) {
			r.Touched = append(r.Touched, w.shard)
		}
		r.PartsWritten++
		r.BytesWritten += w.part.Bytes
	}
	r.RowsBefore = rowsBefore
	if !changed {
		r.Touched = []int{}
	}
	return mergeResult{report: r, changed: changed, reordered: slices.ContainsFunc(written, func(w partWritten) bool { return w.applied.Reordered })}
}

// reshard splits the dataset into as many shards as its rows call for (shards.CountFor), if it
// has fewer: every part of shard k of n is spread into the shards k + j·n of the new count, by
// product and quarter, the new index committed conditionally, then the old count's objects
// deleted (readers pinned to their versions still read them). A lost race reshards the fresh
// index again, if it still needs it.
func (h *Handler) reshard(ctx context.Context, log *slog.Logger) (report *pipeline.MergeReport, err error) {
	ctx, end := platform.Trace(ctx, "merge.reshard")
	defer func() { end(err) }()
	return store.RetryConflicts(ctx, h.Config.MaxAttempts, func(attempt int) (*pipeline.MergeReport, error) {
		cur, err := pipeline.CurrentDataset(ctx, h.Store)
		if err != nil {
			return nil, err
		}
		from := len(cur.Index)
		to := shards.CountFor(cur.Index.Rows(), h.Config.ShardMaxRows, from)
		if !cur.Indexed() || to <= from {
			return nil, nil
		}
		log.InfoContext(ctx, "resharding the dataset", "rows", cur.Index.Rows(), "from", from, "to", to, "attempt", attempt)
		next, parts, err := h.spread(ctx, cur.Index, to)
		if err != nil {
			return nil, err
		}
		if err := h.fault(AfterPartWrites); err != nil {
			return nil, err
		}
		obj, err := pipeline.WriteIndex(ctx, h.Store, next, cur.Object.ETag)
		if err != nil {
			return nil, err
		}
		h.deleteCount(ctx, log, from)
		ref := pipeline.IndexRef(obj)
		r := &pipeline.MergeReport{Shards: to, ReshardedFrom: from, DatasetETag: ref.ETag, DatasetVersionID: ref.VersionID, Written: h.Now().UTC()}
		for _, p := range parts {
			r.PartsWritten++
			r.BytesWritten += p.Bytes
		}
		return r, nil
	})
}

// spread writes the parts of x resharded into count shards and returns the index that names
// them, and the parts written.
func (h *Handler) spread(ctx context.Context, x shards.Index, count int) (shards.Index, []shards.Part, error) {
	next := make(shards.Index, count)
	for k := range next {
		next[k] = shards.Shard{Shard: k, Of: count, Columns: slices.Clone(x.Columns())}
	}
	var (
		mu       sync.Mutex
		products = make([]map[string]bool, count)
	)
	err := h.each(ctx, len(x), "reshard", func(ctx context.Context, k int) error {
		return h.spreadShard(ctx, x[k], count, func(k int, p shards.Part, st dataset.Stats, ids []string) {
			mu.Lock()
			defer mu.Unlock()
			if products[k] == nil {
				products[k] = map[string]bool{}
			}
			for _, id := range ids {
				products[k][id] = true
			}
			sh := &next[k]
			sh.Parts = append(sh.Parts, p)
			if sh.FirstDate == "" || st.First < sh.FirstDate {
				sh.FirstDate = st.First
			}
			sh.LastDate = max(sh.LastDate, st.Last)
		})
	})
	if err != nil {
		return nil, nil, err
	}
	var filled []int
	for k := range products {
		if products[k] != nil {
			filled = append(filled, k)
		}
	}
	lists, err := h.writeLists(ctx, count, filled, func(_ context.Context, k int) ([]string, bool, error) {
		return slices.Sorted(maps.Keys(products[k])), true, nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("reshard: %w", err)
	}
	var parts []shards.Part
	for k := range next {
		if l, ok := lists[k]; ok {
			next[k].ProductList, next[k].Products = &l, l.Rows
		}
		summarize(&next[k])
		parts = append(parts, next[k].Parts...)
	}
	return next, parts, nil
}

// spreadShard spreads the parts of one shard, one after another, into the parts of count shards.
func (h *Handler) spreadShard(ctx context.Context, sh shards.Shard, count int, done func(k int, p shards.Part, st dataset.Stats, products []string)) error {
	for _, part := range sh.Parts {
		if err := h.spreadPart(ctx, part, count, done); err != nil {
			return fmt.Errorf("reshard: dataset part %s: %w", part.Key, err)
		}
	}
	return nil
}

// spreadPart spreads one part into the parts of count shards, by product and quarter.
func (h *Handler) spreadPart(ctx context.Context, part shards.Part, count int, done func(k int, p shards.Part, st dataset.Stats, products []string)) error {
	body, _, err := h.Store.Get(ctx, part.Key, store.GetOptions{VersionID: part.VersionID, IfMatch: part.ETag})
	if err != nil {
		return err
	}
	defer body.Close()
	writers := map[string]*store.Writer{}
	stored := map[string]store.Object{}
	spread, err := dataset.Spread(ctx, body, periods(), func(product string) int { return shards.Of(product, count) },
		func(period string, k int) (io.Writer, error) {
			key := shards.PartKey(k, count, period)
			now, err := h.Store.Head(ctx, key)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
			opts := store.ConditionFor(now.ETag) // a version that no index names is overwritten
			opts.ContentType = "text/csv"
			writers[key] = store.NewWriter(ctx, h.Store, key, opts)
			return writers[key], nil
		},
		func(period string, k int, cause error) error {
			key := shards.PartKey(k, count, period)
			if cause != nil {
				writers[key].Abort(cause)
				return nil
			}
			obj, err := writers[key].Commit()
			stored[key] = obj
			return err
		})
	if err != nil {
		return err
	}
	for _, p := range spread {
		key := shards.PartKey(p.Part, count, p.Span)
		obj := stored[key]
		done(p.Part, shards.Part{Period: p.Span, Key: key, ETag: obj.ETag, VersionID: obj.VersionID, Rows: p.Stats.RowsAfter,
			Bytes: obj.Size, Products: p.Stats.Products}, p.Stats, p.Products)
	}
	return nil
}

// periods returns the function that gives the period of a date of the dataset (YYYY-MM-DD),
// computed once for a run of rows of one date (rows come sorted by date).
func periods() func(date string) string {
	var last, lastPeriod string
	return func(date string) string {
		if date != last {
			day, _ := dataset.ParseDay(date)
			last, lastPeriod = date, shards.PeriodOf(day.Time())
		}
		return lastPeriod
	}
}

// deleteCount deletes the objects of a shard count the index no longer names (after a reshard):
// readers pinned to their versions still read them. A failure leaves objects no index names.
func (h *Handler) deleteCount(ctx context.Context, log *slog.Logger, count int) {
	keys := []string{shards.SingleKey}
	if count > 1 {
		objects, err := h.Store.List(ctx, fmt.Sprintf("%s%d/", shards.Prefix, count))
		if err != nil {
			log.WarnContext(ctx, "could not list the objects of the old shard count; they stay, unused", "count", count, "error", err)
			return
		}
		keys = keys[:0]
		for _, o := range objects {
			keys = append(keys, o.Key)
		}
	}
	for _, key := range keys {
		if err := h.Store.Delete(ctx, key); err != nil {
			log.WarnContext(ctx, "could not delete an object of the old shard count; it stays, unused", "key", key, "error", err)
		}
	}
}
