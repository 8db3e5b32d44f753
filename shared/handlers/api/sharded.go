package api

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stockcast/stockcast/shared/backtest"
	"github.com/stockcast/stockcast/shared/forecast"
	"github.com/stockcast/stockcast/shared/grouped"
	"github.com/stockcast/stockcast/shared/lru"
	"github.com/stockcast/stockcast/shared/lstm"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/series"
	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/store"
	"github.com/stockcast/stockcast/shared/trend"
)

// DefaultShardCache is how many shards of a sharded model the API keeps loaded
// (FORECAST_SHARD_CACHE).
const DefaultShardCache = 4

// shardedModel is a model version of a sharded dataset (a manifest with Shards). Loading it reads
// the group results only (beside the manifest and the LSTM), whatever the number of products; a
// product's request loads its shard — its rows, trend models and selections — into a cache of at
// most a few shards; an ad-hoc filter reads the shards one at a time, keeping only the filtered
// series' sums. It is the forecast.Source of the engine that serves groups and ad-hoc filters.
type shardedModel struct {
	store    store.Store
	manifest *pipeline.Manifest
	index    shards.Index
	net      *lstm.Model
	cfg      forecast.Config
	meta     forecast.Metadata
	groups   *grouped.Set
	byKey    map[string]int // group series key → index in groups.Series
	cache    *lru.Cache[int, *loadedShard]
	cacheMax int
	// loads counts the shards read from the store, kept in the cache or streamed.
	loads atomic.Int64
}

// loadedShard is one shard of the dataset with the engine over it.
type loadedShard struct {
	table  *series.Table
	engine *forecast.Engine
}

// ShardsHealth describes how a sharded model's shards are served.
type ShardsHealth struct {
	// Count is the model's shard count; Cache how many are kept loaded at most
	// (FORECAST_SHARD_CACHE), Loaded how many are now and Peak the most ever at once.
	Count  int `json:"count"`
	Cache  int `json:"cache"`
	Loaded int `json:"loaded"`
	Peak   int `json:"peak"`
	// Loads counts the shards read from the store (into the cache, or streamed through by a
	// filter or a search).
	Loads int64 `json:"loads"`
}

// buildSharded reads what a sharded manifest serves from at once — the LSTM and the group
// results — and returns the model whose shards load on demand.
func (h *Handler) buildSharded(ctx context.Context, manifest *pipeline.Manifest) (*shardedModel, error) {
	index := make(shards.Index, len(manifest.Shards))
	for k, s := range manifest.Shards {
		index[k] = s.Data
	}
	if err := index.Validate(); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", manifest.Version, err)
	}
	if manifest.Groups == nil {
		return nil, fmt.Errorf("manifest %s has shards but names no group results", manifest.Version)
	}
	var (
		wg     sync.WaitGroup
		net    *lstm.Model
		groups *grouped.Set
		errs   [2]error
	)
	wg.Go(func() {
		net, errs[0] = loadArtifact(ctx, h.Store, manifest.LSTM.Key, manifest.LSTM.VersionID, manifest.LSTM.ETag, readCheckpoint)
	})
	wg.Go(func() {
		a := manifest.Groups
		groups, errs[1] = loadArtifact(ctx, h.Store, a.Key, a.VersionID, a.ETag, loadGroups)
	})
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	trainedThrough, _ := time.Parse(time.DateOnly, cmp.Or(manifest.Dataset.LastDate, index.LastDate()))
	m := &shardedModel{
		store: h.Store, manifest: manifest, index: index, net: net, cfg: h.Config, groups: groups,
		meta:     forecast.Metadata{Version: manifest.Version, TrainedThrough: trainedThrough},
		byKey:    make(map[string]int, len(groups.Series)),
		cacheMax: cmp.Or(h.ShardCache, DefaultShardCache),
	}
	m.cache = lru.New[int, *loadedShard](m.cacheMax)
	for i, s := range groups.Series {
		m.byKey[s.Key] = i
	}
	return m, nil
}

func loadGroups(_ context.Context, r io.Reader) (*grouped.Set, error) {
	var set grouped.Set
	if err := json.NewDecoder(r).Decode(&set); err != nil {
		return nil, fmt.Errorf("decode group results: %w", err)
	}
	if set.Format != grouped.Format {
		return nil, fmt.Errorf("group results have format %q; this build reads %q", set.Format, grouped.Format)
	}
	return &set, nil
}

// groupsEngine is the engine of the model's groups and ad-hoc filters.
func (m *shardedModel) groupsEngine() (*forecast.Engine, error) {
	meta := m.meta
	meta.Selections = m.groups.Selections
	return forecast.NewSourceEngine(m, m.groups.Trends, m.net, meta, m.cfg)
}

// shardOf is the shard of a product.
func (m *shardedModel) shardOf(productID string) int { return shards.Of(productID, len(m.index)) }

// engine returns the engine of shard k, loading the shard into the cache unless it is there.
func (m *shardedModel) engine(ctx context.Context, k int) (*forecast.Engine, error) {
	s, err := m.cached(ctx, k)
	if err != nil {
		return nil, err
	}
	return s.engine, nil
}

// cached returns shard k from the cache, loading it into the cache unless it is there.
func (m *shardedModel) cached(ctx context.Context, k int) (*loadedShard, error) {
	return m.cache.Get(ctx, k, func() (*loadedShard, error) { return m.load(ctx, k, nil) })
}

// load reads shard k — its rows unless table has them, and its trend models and selections as
// the manifest pins them (none for a shard whose refit failed: its series are fitted and
// backtested on demand) — and builds the engine over it.
func (m *shardedModel) load(ctx context.Context, k int, table *series.Table) (*loadedShard, error) {
	sm := m.manifest.Shards[k]
	var (
		wg     sync.WaitGroup
		trends *trend.Set
		sel    *backtest.Set
		errs   [3]error
	)
	if table == nil {
		wg.Go(func() { table, errs[0] = m.table(ctx, k) })
	}
	if a := sm.Trend; a.Key != "" {
		wg.Go(func() { trends, errs[1] = loadArtifact(ctx, m.store, a.Key, a.VersionID, a.ETag, loadTrendSet) })
	}
	if a := sm.Selection; a != nil && a.Key != "" {
		wg.Go(func() { sel, errs[2] = loadArtifact(ctx, m.store, a.Key, a.VersionID, a.ETag, loadSelections) })
	}
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	meta := m.meta
	meta.Selections = sel
	engine, err := forecast.NewEngine(table, trends, m.net, meta, m.cfg)
	if err != nil {
		return nil, err
	}
	return &loadedShard{table: table, engine: engine}, nil
}

// table reads shard k's rows from the store.
func (m *shardedModel) table(ctx context.Context, k int) (*series.Table, error) {
	m.loads.Add(1)
	return pipeline.LoadShard(ctx, m.store, m.index[k])
}

// each calls f with every shard in order, one at a time. When the cache holds every shard (a
// shop's one shard) they are loaded into it; otherwise f gets the cached one, or else its rows
// (without an engine) read for f only and not kept, so that a filter or a search reads every
// shard without evicting the shards that serve products.
func (m *shardedModel) each(ctx context.Context, f func(k int, s *loadedShard) error) error {
	for k := range m.index {
		if err := ctx.Err(); err != nil {
			return err
		}
		s, ok := m.cache.Peek(k)
		if !ok && len(m.index) <= m.cacheMax {
			var err error
			if s, err = m.cached(ctx, k); err != nil {
				return err
			}
		} else if !ok {
			table, err := m.table(ctx, k)
			if err != nil {
				return err
			}
			s = &loadedShard{table: table}
		}
		if err := f(k, s); err != nil {
			return err
		}
	}
	return nil
}

// Series serves the engine of groups and ad-hoc filters (forecast.Source): a group (the total,
// a category, a region) from the group results, without covariates (the group step keeps none:
// the LSTM reads them as unknown); any other filter from every shard's partial sums, added up.
func (m *shardedModel) Series(ctx context.Context, f series.Filter, covariates []string) (series.Series, map[string][]float64, error) {
	if group(f) {
		i, ok := m.byKey[f.Key()]
		if !ok {
			return series.Series{}, nil, fmt.Errorf("series %s: %w", f.Key(), series.ErrNoMatch)
		}
		return m.groups.Series[i], nil, nil
	}
	var sums series.PartialSums
	err := m.each(ctx, func(k int, s *loadedShard) error {
		partial, err := s.table.FilteredPartial(f, covariates)
		if err != nil {
			return err
		}
		return sums.Add([]series.Partial{partial})
	})
	if err != nil {
		return series.Series{}, nil, fmt.Errorf("series %s: %w", f.Key(), err)
	}
	added := sums.Groups()
	if len(added.Series) != 1 || len(added.Series[0].Dates) == 0 {
		return series.Series{}, nil, fmt.Errorf("series %s: %w", f.Key(), series.ErrNoMatch)
	}
	return added.Series[0], added.Covariates[0], nil
}

// group reports whether f is one of the group series: the total, one category or one region.
func group(f series.Filter) bool {
	if f.ProductID != "" || f.MinRating != nil || f.MaxPrice != nil || f.MinDiscount != nil {
		return false
	}
	return f.Category == "" || f.Region == ""
}

// Standard lists the group series (the products are listed shard by shard, see page).
func (m *shardedModel) Standard() []series.Series { return m.groups.Series }

// Rows is the dataset's row count.
func (m *shardedModel) Rows() int { return m.index.Rows() }

// LastDate is the dataset's last date.
func (m *shardedModel) LastDate() (time.Time, bool) {
	return m.meta.TrainedThrough, !m.meta.TrainedThrough.IsZero()
}

// health describes the shards.
func (m *shardedModel) health() *ShardsHealth {
	s := m.cache.Stats()
	return &ShardsHealth{Count: len(m.index), Cache: m.cacheMax, Loaded: s.Entries, Peak: s.Peak, Loads: m.loads.Load()}
}

// page lists the series q selects: the groups (total, categories, regions) first, then the
// products shard by shard, each shard's in name order. Without a search the products' count comes
// from the index and a page loads (into the cache) only the shards its products are in; a search
// reads every shard's rows, one at a time, without keeping them, and the artifacts of those its
// page lists.
func (m *shardedModel) page(ctx context.Context, groups *forecast.Engine, q forecast.SeriesQuery) (forecast.SeriesPage, error) {
	page := forecast.SeriesPage{ModelVersion: m.manifest.Version, Offset: q.Offset, Limit: q.Limit, Series: []forecast.SeriesEntry{}}
	// sub is the part of q for the series after those counted so far; take adds its answer.
	sub := func(kind string) forecast.SeriesQuery {
		return forecast.SeriesQuery{Kind: kind, Search: q.Search, Limit: q.Limit - len(page.Series), Offset: max(0, q.Offset-page.Total)}
	}
	take := func(p forecast.SeriesPage) {
		page.Series = append(page.Series, p.Series...)
		page.Total += p.Total
	}
	if q.Kind != forecast.KindProduct {
		take(groups.Series(sub(q.Kind)))
	}
	if q.Kind != "" && q.Kind != forecast.KindProduct {
		return page.Paged(), nil
	}
	if q.Search != "" {
		err := m.each(ctx, func(k int, s *loadedShard) error {
			matches := 0
			for _, id := range s.table.Products() {
				if q.Matches(forecast.KindProduct, id) {
					matches++
				}
			}
			if !pageHas(q, page, matches) {
				page.Total += matches
				return nil
			}
			if s.engine == nil {
				loaded, err := m.load(ctx, k, s.table)
				if err != nil {
					return err
				}
				s = loaded
			}
			take(s.engine.Series(sub(forecast.KindProduct)))
			return nil
		})
		return page.Paged(), err
	}
	for k, s := range m.index {
		if !pageHas(q, page, s.Products) {
			page.Total += s.Products
			continue
		}
		engine, err := m.engine(ctx, k)
		if err != nil {
			return page, err
		}
		take(engine.Series(sub(forecast.KindProduct)))
	}
	return page.Paged(), nil
}

// pageHas reports whether the page of q, with page listed so far, lists any of the next n series.
func pageHas(q forecast.SeriesQuery, page forecast.SeriesPage, n int) bool {
	return n > 0 && len(page.Series) < q.Limit && q.Offset < page.Total+n
}
