package finetune

import (
	"cmp"
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/stockcast/stockcast/shared/backtest"
	"github.com/stockcast/stockcast/shared/lstm"
	"github.com/stockcast/stockcast/shared/lstminput"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/platform"
	"github.com/stockcast/stockcast/shared/series"
	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/stats"
)

// trainingData is what one run trains every model on: the series, the dataset's first and last
// days and whether it is daily (which the backtest origins follow), and what was read for them.
type trainingData struct {
	series      []lstm.Series
	first, last time.Time
	daily       bool
	read        pipeline.DatasetRead
}

// loadShard reads one shard of the dataset into a table.
func (h *Handler) loadShard(ctx context.Context, sh shards.Shard) (_ *series.Table, err error) {
	ctx, end := platform.Trace(ctx, "load-dataset")
	defer func() { end(err) }()
	return pipeline.LoadShard(ctx, h.Store, sh)
}

// wholeData is a dataset of one shard as the LSTM trains on it: every standard series of its
// table (the total, each product, category and region: the shard's groups are the dataset's).
func wholeData(table *series.Table, sh shards.Shard, cfg lstm.Config) (*trainingData, error) {
	data, err := lstminput.Standard(table, cfg.Covariates)
	if err != nil {
		return nil, err
	}
	d := &trainingData{series: data, read: pipeline.DatasetRead{Shards: 1, Read: []int{sh.Shard}, Bytes: sh.Bytes, Series: len(data), Windows: windows(data)}}
	d.first, _ = table.FirstDate()
	d.last, _ = table.LastDate() // the dataset's: a group's history may end earlier (incomplete dates)
	total, err := table.Filtered(series.Filter{})
	d.daily = err == nil && stats.Detect(total.Dates) == stats.Daily
	return d, nil
}

// sample chooses and reads what a run on a dataset of several shards trains on, one shard at a
// time. It keeps only product series (a shard's own total, category and region series add up
// its products only, not the dataset's groups), and only as many as the schedule's caps of
// windows per epoch, counting a series of n days as n windows, so that memory does not grow with
// the dataset:
//
//   - Fine-tuning (full unset), the new windows: the series of the touched shards (every shard
//     when in.Touched is nil) with a day on or after since, each cut to the days the windows of
//     the new days need — those of the served model, and those of the backtest origins' models,
//     whose new days come as many days before their origins — up to Policy.MaxWindows; then the
//     replay sample: whole series of the untouched shards, up to ReplayRatio times as many
//     windows as the new ones and at most MaxReplay (MaxReplay when no series has a new day).
//     With no untouched shard, the sample takes the series without a new day of the shards
//     read first, then those of the touched shards not read. An origin's model rebuilt by the
//     chain trains on the same series.
//   - In full: whole series of every shard, up to MaxWindows.
//
// Shards are read, and the series of each taken, in an order drawn from the dataset version, so
// that a retry trains on the same series; a shard is read only while its cap has room.
func (h *Handler) sample(ctx context.Context, in pipeline.TaskInput, x shards.Index, cfg lstm.Config, since time.Time, full bool) (*trainingData, error) {
	if x.Rows() == 0 {
		return nil, fmt.Errorf("dataset %s has no rows", in.DatasetKey)
	}
	d := &trainingData{read: pipeline.DatasetRead{Shards: x.Count()}}
	var err error
	if d.first, err = time.Parse(time.DateOnly, x.FirstDate()); err != nil {
		return nil, fmt.Errorf("dataset index: first date: %w", err)
	}
	if d.last, err = time.Parse(time.DateOnly, x.LastDate()); err != nil {
		return nil, fmt.Errorf("dataset index: last date: %w", err)
	}
	touched := make([]bool, x.Count())
	for _, k := range in.Touched {
		if k < 0 || k >= x.Count() {
			return nil, fmt.Errorf("task input: touched shard %d of %d", k, x.Count())
		}
		touched[k] = true
	}
	if in.Touched == nil || full { // all shards, or a model trained from scratch: all are new to it
		for k := range touched {
			touched[k] = true
		}
	}
	var cut time.Time
	if !full {
		earliest := since
		if days, err := backtest.DailyOrigins(d.first, d.last, h.Backtest); err == nil {
			earliest = earliest.AddDate(0, 0, -int(d.last.Sub(days[0]).Hours()/24))
		}
		cut = earliest.AddDate(0, 0, -(cfg.Window + cfg.Horizon))
	}
	pol := h.Policy.WithDefaults()
	seed := in.DatasetVersionID + "/" + in.DatasetETag
	var newShards, others []int
	for _, k := range ranked(seed, x.Count()) {
		if touched[k] {
			newShards = append(newShards, k)
		} else {
			others = append(others, k)
		}
	}
	// With no untouched shard, the series without a new day of the shards read are the first
	// candidates of the replay sample: kept up to its most windows until its size is known.
	fresh, spare := &pool{limit: pol.MaxWindows}, &pool{limit: pol.MaxReplay}
	spares := !full && len(others) == 0
	dates := map[time.Time]bool{}
	if err := h.read(ctx, d, x, newShards, cfg, seed, dates, fresh.room, func(s lstm.Series) {
		switch {
		case full:
			fresh.add(s)
		case !s.End().Before(since):
			c := s.From(cut)
			c.Values = slices.Clone(c.Values) // not holding on to the days cut off
			for i, cv := range c.Covariates {
				c.Covariates[i] = slices.Clone(cv)
			}
			fresh.add(c)
		case spares:
			spare.add(s)
		}
	}); err != nil {
		return nil, err
	}
	replay := &pool{}
	if !full {
		replay.limit = pol.MaxReplay
		if fresh.windows > 0 {
			replay.limit = min(replay.limit, int(math.Round(pol.ReplayRatio*float64(fresh.windows))))
		}
		for _, s := range spare.series {
			replay.add(s)
		}
		for _, k := range newShards {
			if !slices.Contains(d.read.Read, k) {
				others = append(others, k) // when no shard is untouched, the touched ones not read
			}
		}
		read := len(d.read.Read)
		if err := h.read(ctx, d, x, others, cfg, seed, dates, replay.room, replay.add); err != nil {
			return nil, err
		}
		d.read.Replay = slices.Clone(d.read.Read[read:])
	}
	d.series = append(fresh.series, replay.series...)
	d.read.Series, d.read.ReplaySeries = len(d.series), len(replay.series)
	d.read.Windows, d.read.ReplayWindows = fresh.windows+replay.windows, replay.windows
	days := make([]time.Time, 0, len(dates))
	for day := range dates {
		days = append(days, day)
	}
	slices.SortFunc(days, time.Time.Compare)
	d.daily = stats.Detect(days) == stats.Daily
	return d, nil
}

// pool is series kept up to a limit of windows, a series of n days counting as n.
type pool struct {
	limit, windows int
	series         []lstm.Series
	// full is set once a series did not fit.
	full bool
}

// add keeps s if it fits.
func (p *pool) add(s lstm.Series) {
	switch {
	case len(s.Values) == 0:
	case p.windows+len(s.Values) > p.limit:
		p.full = true
	default:
		p.series = append(p.series, s)
		p.windows += len(s.Values)
	}
}

// room tells whether another shard may add to the pool: none did not fit and it is not full.
func (p *pool) room() bool { return !p.full && p.windows < p.limit }

// read reads the shards in order, one at a time while more holds, and passes the product series
// of each, in an order drawn from seed, to use; it records the shards read in d and adds the
// days with a row of each to dates.
func (h *Handler) read(ctx context.Context, d *trainingData, x shards.Index, order []int, cfg lstm.Config, seed string, dates map[time.Time]bool,
	more func() bool, use func(lstm.Series)) error {
	for _, k := range order {
		if !more() {
			return nil
		}
		if x[k].Rows == 0 {
			continue
		}
		table, err := h.loadShard(ctx, x[k])
		if err != nil {
			return err
		}
		if total, err := table.Filtered(series.Filter{}); err == nil {
			for _, day := range total.Dates {
				dates[day] = true
			}
		}
		products, err := lstminput.Products(table, cfg.Covariates)
		if err != nil {
			return fmt.Errorf("shard %d of %d: %w", k, x.Count(), err)
		}
		slices.SortFunc(products, func(a, b lstm.Series) int { return cmp.Compare(hash(seed, a.ID), hash(seed, b.ID)) })
		for _, s := range products {
			use(s)
		}
		d.read.Read = append(d.read.Read, k)
		d.read.Bytes += x[k].Bytes
	}
	return nil
}

// ranked is the shards 0 to n-1 in an order drawn from seed.
func ranked(seed string, n int) []int {
	out := make([]int, n)
	for k := range out {
		out[k] = k
	}
	slices.SortFunc(out, func(a, b int) int { return cmp.Compare(hash(seed, strconv.Itoa(a)), hash(seed, strconv.Itoa(b))) })
	return out
}

// hash is FNV-1a (64 bits) of seed and name: a stable pseudo-random rank of name for seed.
func hash(seed, name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(seed))
	h.Write([]byte{0})
	h.Write([]byte(name))
	return h.Sum64()
}

// windows counts the days of values of the series: each the origin of at most one window.
func windows(data []lstm.Series) int {
	n := 0
	for _, s := range data {
		n += len(s.Values)
	}
	return n
}
