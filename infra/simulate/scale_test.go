package simulate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stockcast/stockcast/infra/simulate"
	"github.com/stockcast/stockcast/shared/cputime"
	"github.com/stockcast/stockcast/shared/handlers/handlertest"
	"github.com/stockcast/stockcast/shared/handlers/refit"
	"github.com/stockcast/stockcast/shared/pipeline"
	"github.com/stockcast/stockcast/shared/shards"
	"github.com/stockcast/stockcast/shared/store"
	"github.com/stockcast/stockcast/shared/training"
)

// shared is what the benchmarks that only read the scale dataset share within one process: the
// dataset, written once (a minute at full scale), and the refit of its first shard, the group
// step and the model published from them. TestMain removes it at the end.
var shared struct {
	once    sync.Once
	dir     string
	store   *store.Dir
	index   shards.Index
	written simulate.Report
	err     error

	refitOnce sync.Once
	refit     *scaleRefit

	modelOnce sync.Once
	model     pipeline.PublishOutput
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// sharedDataset is the scale dataset of scaleProducts() products, written once a process.
func sharedDataset(b *testing.B) (*store.Dir, shards.Index, simulate.Report) {
	b.Helper()
	shared.once.Do(func() {
		ctx := context.Background()
		if shared.dir, shared.err = os.MkdirTemp("", "stockcast-scale-"); shared.err != nil {
			return
		}
		if shared.store, shared.err = store.NewDir(shared.dir, "bench"); shared.err != nil {
			return
		}
		if shared.written, shared.err = simulate.Write(ctx, shared.store, scaled(scaleProducts(b))); shared.err != nil {
			return
		}
		shared.index, _, shared.err = pipeline.ReadIndex(ctx, shared.store, "", "")
	})
	if shared.err != nil {
		b.Fatal(shared.err)
	}
	return shared.store, shared.index, shared.written
}

// scaleRefit is the refit of the shared dataset as the state machine runs it: the task of its
// first shard (one Map item) and the group step's, whose other shards' results name the partial
// sums of their data, stored as their refits would have.
type scaleRefit struct {
	handler *refit.Handler
	shard   pipeline.ShardTask
	groups  refit.GroupsTask
	// largest is the product count of the largest shard, total of all.
	largest, total int
}

// sharedRefit sets up the refit of the shared dataset once a process.
func sharedRefit(b *testing.B) *scaleRefit {
	b.Helper()
	s, x, written := sharedDataset(b)
	shared.refitOnce.Do(func() { shared.refit = newRefit(b, s, x, written) })
	if shared.refit == nil {
		b.Fatal("the refit's set-up failed in an earlier benchmark")
	}
	return shared.refit
}

// newRefit sets up the refit of the dataset x written into s.
func newRefit(b *testing.B, s store.Store, x shards.Index, written simulate.Report) *scaleRefit {
	b.Helper()
	r := &scaleRefit{handler: refit.New(s, slog.New(slog.DiscardHandler))}
	r.shard.Input.TaskInput = pipeline.TaskInput{Bucket: s.Bucket(), DatasetKey: shards.IndexKey, DatasetETag: written.Index.ETag,
		DatasetVersionID: written.Index.VersionID, JobID: "bench", Mode: training.Full}
	r.shard.Shard = x[0]
	r.groups.Input.TaskInput = r.shard.Input.TaskInput
	r.groups.Input.Results.Shards = make([]json.RawMessage, len(x))
	for k, sh := range x {
		r.largest, r.total = max(r.largest, sh.Products), r.total+sh.Products
		if k > 0 {
			r.groups.Input.Results.Shards[k] = storedPartials(b, s, r.shard.Input.JobID, sh)
		}
	}
	return r
}

// refitRun is one refit: the first shard's and the group step's outputs, wall and CPU times.
type refitRun struct {
	shard                 pipeline.ShardRefitOutput
	groups                pipeline.RefitOutput
	shardTime, shardCPU   time.Duration
	groupsTime, groupsCPU time.Duration
	// shardHeap is the largest live heap seen during the shard's refit.
	shardHeap uint64
}

// run refits the first shard, then runs the group step.
func (r *scaleRefit) run(b *testing.B) refitRun {
	b.Helper()
	ctx := context.Background()
	var out refitRun
	peak := heapPeak()
	began, cpu := time.Now(), cputime.Used(b)
	shard, err := r.handler.HandleShard(ctx, r.shard)
	out.shardTime, out.shardCPU, out.shardHeap = time.Since(began), cputime.Used(b)-cpu, peak()
	if err != nil {
		b.Fatal(err)
	}
	if r.groups.Input.Results.Shards[0], err = json.Marshal(shard); err != nil {
		b.Fatal(err)
	}
	began, cpu = time.Now(), cputime.Used(b)
	if out.groups, err = r.handler.HandleGroups(ctx, r.groups); err != nil {
		b.Fatal(err)
	}
	out.groupsTime, out.groupsCPU, out.shard = time.Since(began), cputime.Used(b)-cpu, shard
	return out
}

// heapPeak samples the live heap every 20 ms until the function it returns is called, which
// returns the largest sample.
func heapPeak() func() uint64 {
	done, result := make(chan struct{}), make(chan uint64)
	go func() {
		var peak uint64
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapAlloc)
			select {
			case <-done:
				result <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 { close(done); return <-result }
}

// storedPartials stores the partial sums of shard sh's data where its refit would and returns
// the Map's result of that shard naming them, which the group step reads as a refitted shard's.
// The shard has no trend models: the model published from it serves them as a shard whose refit
// failed (fitted on demand), which is no request the serving benchmarks make.
func storedPartials(b *testing.B, s store.Store, job string, sh shards.Shard) json.RawMessage {
	b.Helper()
	ctx := context.Background()
	table, err := pipeline.LoadShard(ctx, s, sh)
	if err != nil {
		b.Fatal(err)
	}
	data, err := json.Marshal(table.Partials())
	if err != nil {
		b.Fatal(err)
	}
	obj, err := s.Put(ctx, pipeline.PartialsKey(job, sh.Shard), bytes.NewReader(data), store.PutOptions{ContentType: "application/json"})
	if err != nil {
		b.Fatal(err)
	}
	raw, err := json.Marshal(pipeline.ShardRefitOutput{Shard: sh.Shard, Of: sh.Of, Rows: table.Rows(), FirstDate: sh.FirstDate, LastDate: sh.LastDate,
		Partials: pipeline.Artifact{Key: obj.Key, ETag: obj.ETag, VersionID: obj.VersionID}})
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// sharedModel publishes the model of the shared dataset once a process.
func sharedModel(b *testing.B) (*store.Dir, shards.Index) {
	b.Helper()
	s, x, _ := sharedDataset(b)
	r := sharedRefit(b)
	shared.modelOnce.Do(func() { shared.model = publishModel(b, s, r) })
	if shared.model.Version == "" {
		b.Fatal("the model's set-up failed in an earlier benchmark")
	}
	return s, x
}

// publishedModel writes the dataset c describes into a new in-memory bucket and publishes its
// model there.
func publishedModel(b *testing.B, c simulate.Config) store.Store {
	b.Helper()
	ctx := context.Background()
	s := store.NewMemory("bench")
	written, err := simulate.Write(ctx, s, c)
	if err != nil {
		b.Fatal(err)
	}
	x, _, err := pipeline.ReadIndex(ctx, s, "", "")
	if err != nil {
		b.Fatal(err)
	}
	publishModel(b, s, newRefit(b, s, x, written))
	return s
}

// publishModel publishes the model of r's dataset: the refit of its first shard, the group step,
// and an LSTM checkpoint of the default network (untrained: its size is what serving loads,
// whatever its weights).
func publishModel(b *testing.B, s store.Store, r *scaleRefit) pipeline.PublishOutput {
	b.Helper()
	return handlertest.PublishUntrained(b, s, r.shard.Input.TaskInput, r.run(b).groups)
}
