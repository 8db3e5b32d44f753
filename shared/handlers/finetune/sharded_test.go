package finetune_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/store"
	"github.com/stockcast/stockcast/shared/training"
)

// sharded writes datasets into a store in the sharded layout, as a merge leaves them: every shard
// in quarterly parts under the dataset's header (one part at shards.SingleKey for one shard),
// then the index; a part whose rows did not change since the last write keeps its object.
type sharded struct {
	t     testing.TB
	store store.Store
	parts map[string]shards.Part // the parts written, with their content
	data  map[string][]byte
}

func newSharded(t testing.TB, s store.Store) *sharded {
	return &sharded{t: t, store: s, parts: map[string]shards.Part{}, data: map[string][]byte{}}
}

// write writes csv (sorted by date, product_id) as a dataset of n shards and returns the task
// input of a job training it, with touched as its Touched.
func (w *sharded) write(csv []byte, n int, job string, touched []int) pipeline.TaskInput {
	w.t.Helper()
	ctx := context.Background()
	header, rows, _ := bytes.Cut(csv, []byte("\n"))
	columns := strings.Split(string(header), ",")
	product := slices.Index(columns, "product_id")
	type part struct {
		rows []byte
		n    int
	}
	byShard := make([]map[string]*part, n)
	products := make([]map[string]bool, n)
	x := make(shards.Index, n)
	for k := range x {
		byShard[k], products[k] = map[string]*part{}, map[string]bool{}
		x[k] = shards.Shard{Shard: k, Of: n, Columns: columns, Parts: []shards.Part{}}
	}
	for line := range bytes.Lines(rows) {
		fields := strings.Split(strings.TrimRight(string(line), "\n"), ",")
		k := shards.Of(fields[product], n)
		period := ""
		if n > 1 {
			day, err := time.Parse(time.DateOnly, fields[0])
			if err != nil {
				w.t.Fatal(err)
			}
			period = shards.PeriodOf(day)
		}
		p := byShard[k][period]
		if p == nil {
			p = &part{rows: append(append([]byte(nil), header...), '\n')}
			byShard[k][period] = p
		}
		p.rows, p.n = append(p.rows, line...), p.n+1
		products[k][fields[product]] = true
		sh := &x[k]
		if sh.FirstDate == "" || fields[0] < sh.FirstDate {
			sh.FirstDate = fields[0]
		}
		sh.LastDate = max(sh.LastDate, fields[0])
	}
	for k := range x {
		for _, period := range slices.Sorted(func(yield func(string) bool) {
			for p := range byShard[k] {
				if !yield(p) {
					return
				}
			}
		}) {
			p := byShard[k][period]
			key := shards.PartKey(k, n, period)
			written, ok := w.parts[key]
			if !ok || !bytes.Equal(w.data[key], p.rows) {
				obj, err := w.store.Put(ctx, key, bytes.NewReader(p.rows), store.PutOptions{})
				if err != nil {
					w.t.Fatal(err)
				}
				written = shards.Part{Period: period, Key: key, ETag: obj.ETag, VersionID: obj.VersionID, Rows: p.n, Bytes: int64(len(p.rows))}
				w.parts[key], w.data[key] = written, p.rows
			}
			x[k].Parts = append(x[k].Parts, written)
			x[k].Rows += p.n
			x[k].Bytes += written.Bytes
		}
		x[k].Products = len(products[k])
	}
	previous := ""
	if obj, err := w.store.Head(ctx, shards.IndexKey); err == nil {
		previous = obj.ETag
	} else if !errors.Is(err, store.ErrNotFound) {
		w.t.Fatal(err)
	}
	obj, err := pipeline.WriteIndex(ctx, w.store, x, previous)
	if err != nil {
		w.t.Fatal(err)
	}
	return pipeline.TaskInput{Bucket: w.store.Bucket(), DatasetKey: shards.IndexKey, DatasetETag: obj.ETag, DatasetVersionID: obj.VersionID,
		JobID: job, Mode: training.FineTune, Touched: touched}
}

// getLog records the keys of every Get, so that a test can tell which shards a run read.
type getLog struct {
	store.Store
	mu   sync.Mutex
	keys []string
}

func (g *getLog) Get(ctx context.Context, key string, opts store.GetOptions) (io.ReadCloser, store.Object, error) {
	g.mu.Lock()
	g.keys = append(g.keys, key)
	g.mu.Unlock()
	return g.Store.Get(ctx, key, opts)
}

// reset forgets the keys read so far and returns them.
func (g *getLog) reset() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	keys := g.keys
	g.keys = nil
	return keys
}

// shardsRead is the shards of count whose parts were read, in order of first read.
func shardsRead(keys []string, count int) []int {
	var out []int
	for _, key := range keys {
		for k := range count {
			if strings.HasPrefix(key, strings.TrimSuffix(shards.PartKey(k, count, "x"), "x.csv")) && !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	return out
}
